// The VRRP process: one io_context, one vrrp::Node, signals, reloads.
#include "lvsd/daemon/vrrp_process.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <vector>

#include "lvsd/config/config.hpp"
#include "lvsd/vrrp/node.hpp"

namespace lvsd::daemon {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// What of a config the VRRP process runs on.
bool same_vrrp(const model::Desired& a, const model::Desired& b) {
  return a.globals.script_user == b.globals.script_user && a.vrrp == b.vrrp && a.vrrp_instances == b.vrrp_instances &&
         a.sync_groups == b.sync_groups;
}

class VrrpProcess {
 public:
  VrrpProcess(std::string path, model::Desired desired)
      : path_(std::move(path)), desired_(std::move(desired)), signals_(io_, SIGHUP, SIGTERM, SIGINT), sweep_(io_) {}

  int run() {
    start_node();
    wait_signal();
    io_.run();
    return 0;
  }

 private:
  void start_node() {
    node_ = std::make_unique<vrrp::Node>(io_.get_executor(), desired_,
                                         [](std::string_view line) { spdlog::info("{}", line); });
    spdlog::info("{}: {} VRRP instance{}", path_, desired_.vrrp_instances.size(),
                 desired_.vrrp_instances.size() == 1 ? "" : "s");
    node_->start();
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
      retire(std::move(node_));
    });
  }

  void reload() {
    auto result = config::load_file(path_);
    if (!result.ok()) {
      for (const auto& e : result.errors) spdlog::error("reload: {}", e.to_string());
      spdlog::error("reload: {} has {} errors; keeping the running VRRP instances", path_, result.errors.size());
      return;
    }
    if (same_vrrp(*result.desired, desired_)) {
      spdlog::info("reload: VRRP configuration unchanged");
      return;
    }
    spdlog::info("reload: VRRP configuration changed; restarting the instances");
    desired_ = std::move(*result.desired);
    retire(std::move(node_));
    start_node();
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
  std::unique_ptr<vrrp::Node> node_;
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
