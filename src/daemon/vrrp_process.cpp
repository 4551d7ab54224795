// The VRRP process: one io_context, one vrrp::Node, its control socket, signals, reloads.
#include "lvsd/daemon/vrrp_process.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <utility>
#include <stdexcept>
#include <vector>

#include "lvsd/config/config.hpp"
#include "lvsd/control/client.hpp"
#include "lvsd/control/server.hpp"
#include "lvsd/daemon/vrrp_status.hpp"
#include "lvsd/daemon/vrrp_units.hpp"
#include "lvsd/vrrp/node.hpp"

namespace lvsd::daemon {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

class VrrpProcess {
 public:
  VrrpProcess(std::string path, model::Desired desired)
      : path_(std::move(path)), desired_(std::move(desired)), signals_(io_, SIGHUP, SIGTERM, SIGINT), sweep_(io_) {}

  int run() {
    spdlog::info("{}: {} VRRP instance{}", path_, desired_.vrrp_instances.size(),
                 desired_.vrrp_instances.size() == 1 ? "" : "s");
    for (auto& unit : vrrp_units(desired_)) start_unit(std::move(unit));
    serve_control();
    wait_signal();
    io_.run();
    return 0;
  }

 private:
  // A sync group, or an instance in none, on a node of its own: a reload restarts only the
  // units it changes (vrrp_units.hpp).
  void start_unit(VrrpUnit unit) {
    auto node = std::make_unique<vrrp::Node>(io_.get_executor(), unit.desired,
                                             [](std::string_view line) { spdlog::info("{}", line); });
    node->start();
    units_.push_back({std::move(unit), std::move(node)});
  }

  // The control socket beside the pool process's (control::vrrp_socket_path). VRRP never
  // depends on it: a socket that cannot be served is logged, and the instances run on. A
  // reload that moves it or changes its group serves the new one; the old one stays until
  // the new one is open.
  void serve_control() {
    control::ServerOptions options{.path = control::vrrp_socket_path(desired_.globals.control_socket),
                                   .group = desired_.globals.control_group};
    if (control_ && control_->path() == options.path && control_->options().group == options.group) return;
    // The same path with another group: the old socket must go first, or it would be "another
    // lvsd" to the new one.
    if (control_ && control_->path() == options.path) control_.reset();
    auto server = control::Server::open(io_.get_executor(), options);
    if (!server) {
      spdlog::error("control socket: {}; lvsctl status cannot reach the VRRP process{}", server.error(),
                    control_ ? fmt::format(" there (still served at {})", control_->path()) : "");
      return;
    }
    (*server)->handle("status", [this](const nlohmann::json&) {
      if (stopping_) throw std::runtime_error("the VRRP process is stopping");
      std::vector<vrrp::InstanceStatus> instances;
      vrrp::NotifierCounters notify;
      for (const auto& u : units_) {
        for (auto& s : u.node->status()) instances.push_back(std::move(s));
        const auto& c = u.node->notify_counters();
        notify.commands_run += c.commands_run;
        notify.commands_failed += c.commands_failed;
        notify.fifo_lines += c.fifo_lines;
        notify.fifo_dropped += c.fifo_dropped;
      }
      return vrrp_status_json(instances, notify);
    });
    spdlog::info("control socket {}{}", options.path,
                 options.group.empty() ? " (root only)" : fmt::format(" (root and group {})", options.group));
    control_ = std::move(*server);
  }

  // A stopped node lives until its loops (trackers, notify_stop commands) have ended: its
  // probers and commands must not outlive it. At most `kRetireLimit`.
  void retire(std::unique_ptr<vrrp::Node> node) {
    node->stop();
    retiring_.push_back({std::move(node), std::chrono::steady_clock::now() + kRetireLimit});
    sweep();
  }
  void sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(retiring_, [&](const Retiring& r) { return r.node->running() == 0 || now >= r.until; });
    if (retiring_.empty()) {
      if (stopping_) io_.stop();
      return;
    }
    sweep_.expires_after(50ms);
    sweep_.async_wait([this](boost::system::error_code ec) {
      if (!ec) sweep();
    });
  }

  void wait_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload();
        wait_signal();
        return;
      }
      spdlog::info("signal {}: giving up the VRRP instances", signo);
      stopping_ = true;
      control_.reset();  // lvsctl then says the process is gone rather than waiting on it
      for (auto& u : std::exchange(units_, {})) retire(std::move(u.node));
      sweep();  // (with no unit, nothing else ends the loop)
    });
  }

  void reload() {
    auto result = config::load_file(path_);
    if (!result.ok()) {
      for (const auto& e : result.errors) spdlog::error("reload: {}", e.to_string());
      spdlog::error("reload: {} has {} errors; keeping the running VRRP instances", path_, result.errors.size());
      return;
    }
    desired_ = std::move(*result.desired);
    serve_control();
    std::vector<VrrpUnit> next = vrrp_units(desired_);
    std::vector<VrrpUnit> now;
    for (const auto& u : units_) now.push_back(u.unit);
    const VrrpReload plan = plan_vrrp_reload(now, next);
    if (plan.stop.empty() && plan.start.empty()) {
      spdlog::info("reload: VRRP configuration unchanged");
      return;
    }
    // Given up first (priority 0, VIPs removed), so that a changed unit's new node never
    // meets its old one on the wire.
    for (const std::size_t i : plan.stop) {
      spdlog::info("reload: {} {}; giving it up", units_[i].unit.key,
                   std::any_of(next.begin(), next.end(), [&](const VrrpUnit& n) { return n.key == units_[i].unit.key; })
                       ? "changed"
                       : "gone");
      retire(std::move(units_[i].node));
    }
    // The new list in the order of `next`: the kept units as they run, the others started.
    std::vector<Unit> old = std::exchange(units_, {});
    auto kept = plan.kept.begin();
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (kept != plan.kept.end() && kept->second == i) {
        units_.push_back(std::move(old[kept->first]));
        ++kept;
        continue;
      }
      spdlog::info("reload: starting {}", next[i].key);
      start_unit(std::move(next[i]));
    }
    spdlog::info("reload: {} VRRP unit{} restarted or started, {} given up, {} kept running", plan.start.size(),
                 plan.start.size() == 1 ? "" : "s", plan.stop.size(), plan.kept.size());
  }

  static constexpr std::chrono::seconds kRetireLimit{10};
  struct Retiring {
    std::unique_ptr<vrrp::Node> node;
    std::chrono::steady_clock::time_point until;
  };

  std::string path_;
  model::Desired desired_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer sweep_;
  struct Unit {
    VrrpUnit unit;
    std::unique_ptr<vrrp::Node> node;
  };
  std::vector<Unit> units_;
  std::unique_ptr<control::Server> control_;  // null when it could not be served
  std::vector<Retiring> retiring_;
  bool stopping_ = false;
};

}  // namespace

int run_vrrp_process(const std::string& path) {
  // The notify FIFO's reader may leave: a write error, not a death.
  std::signal(SIGPIPE, SIG_IGN);
  auto result = config::load_file(path);
  if (!result.ok()) {
    for (const auto& e : result.errors) spdlog::error("{}", e.to_string());
    spdlog::error("{}: configuration has {} errors", path, result.errors.size());
    return 1;
  }
  VrrpProcess process(path, std::move(*result.desired));
  return process.run();
}

}  // namespace lvsd::daemon
