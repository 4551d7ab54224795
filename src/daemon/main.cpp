// lvsd: the director daemon's entry point.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>

#include "lvsd/config/config.hpp"
#include "lvsd/daemon/check_report.hpp"
#include "lvsd/daemon/health.hpp"
#include "lvsd/daemon/reconciler.hpp"
#include "lvsd/daemon/supervisor.hpp"
#include "lvsd/daemon/vrrp_process.hpp"
#include "lvsd/ipvs/netlink_backend.hpp"

namespace {

void print_errors(const std::string& path, const lvsd::config::Result& result) {
  for (const auto& e : result.errors) fmt::print(stderr, "{}\n", e.to_string());
  fmt::print(stderr, "{}: configuration has {} error{}\n", path, result.errors.size(),
             result.errors.size() == 1 ? "" : "s");
}

// nginx -t / keepalived -t: 0 when valid, 1 otherwise; errors on stderr, one per line.
int check_config(const std::string& path, bool quiet) {
  const auto result = lvsd::config::load_file(path);
  if (!result.ok()) {
    print_errors(path, result);
    return 1;
  }
  if (!quiet) fmt::print("{}", lvsd::daemon::check_report(path, *result.desired));
  return 0;
}

// The health checks' lines into the daemon's log.
void log_health(lvsd::daemon::Health::Level level, const std::string& line) {
  using Level = lvsd::daemon::Health::Level;
  switch (level) {
    case Level::Debug: spdlog::debug("{}", line); break;
    case Level::Info: spdlog::info("{}", line); break;
    case Level::Warning: spdlog::warn("{}", line); break;
    case Level::Error: spdlog::error("{}", line); break;
  }
}

// The main job: reconcile the kernel to the config and keep it there until SIGTERM.
class Daemon {
 public:
  Daemon(std::string path, lvsd::model::Desired desired, lvsd::ipvs::Backend& kernel)
      : path_(std::move(path)),
        desired_(std::move(desired)),
        reconciler_(kernel, [](const std::string& line) { spdlog::info("{}", line); }),
        signals_(io_, SIGHUP, SIGTERM, SIGINT),
        timer_(io_),
        health_(io_.get_executor(), log_health) {}

  int run() {
    reconciler_.set_goal(desired_);
    const auto first = reconciler_.pass(false);
    spdlog::info("{}: {} virtual servers; {} operations applied, {} refused", path_,
                 desired_.virtual_servers.size(), first.applied.size(), first.failures.size());
    health_.set(desired_);
    spdlog::info("checks: {} running", health_.engine()->checks());
    wait_signal();
    schedule();
    io_.run();
    // The checks' probes unwind while their sockets and the loop still exist.
    health_.stop();
    io_.restart();
    io_.run_for(std::chrono::milliseconds(200));
    return 0;
  }

 private:
  void schedule() {
    timer_.expires_after(desired_.ipvs.reconcile_interval);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      reconciler_.pass(true);
      schedule();
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
      spdlog::info("signal {}: stopping; IPVS table {}", signo,
                   desired_.ipvs.on_exit == lvsd::model::OnExit::Keep ? "left as it is" : "entries removed");
      // No reconcile pass after this one: it would put back what on_exit = "remove" removes
      // (the loop runs a little longer below, for the checks to unwind).
      timer_.cancel();
      if (desired_.ipvs.on_exit == lvsd::model::OnExit::Remove) reconciler_.remove_owned();
      io_.stop();
    });
  }

  // A config with errors changes nothing: the running state stays, the errors are logged.
  void reload() {
    auto result = lvsd::config::load_file(path_);
    if (!result.ok()) {
      for (const auto& e : result.errors) spdlog::error("reload: {}", e.to_string());
      spdlog::error("reload: {} has {} errors; keeping the running configuration", path_, result.errors.size());
      return;
    }
    desired_ = std::move(*result.desired);
    reconciler_.set_goal(desired_);
    const auto report = reconciler_.pass(false);
    spdlog::info("reload: {} operations applied, {} refused", report.applied.size(), report.failures.size());
    health_.set(desired_);
    spdlog::info("reload: checks: {} running", health_.engine()->checks());
    timer_.cancel();
    schedule();
  }

  std::string path_;
  lvsd::model::Desired desired_;
  lvsd::daemon::Reconciler reconciler_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  lvsd::daemon::Health health_;
};

// --once: one pass and exit, with what it took (for scripts, and for the load benchmark).
int run_once(lvsd::model::Desired desired, lvsd::ipvs::NetlinkBackend& kernel, const std::string& path,
             std::chrono::steady_clock::time_point started) {
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const auto parsed = Clock::now();
  // No log: what went wrong is printed from the report below.
  lvsd::daemon::Reconciler reconciler(kernel, {});
  reconciler.set_goal(desired);
  const auto report = reconciler.pass(false);
  const auto done = Clock::now();
  for (const auto& f : report.failures) fmt::print(stderr, "lvsd: kernel refused {}\n", f);
  if (report.read_failed) fmt::print(stderr, "lvsd: cannot read the IPVS table: {}\n", report.read_error);
  fmt::print("{}: {} operations applied, {} refused, {} write requests in {} sends; config {:.0f} ms, "
             "kernel {:.0f} ms\n",
             path, report.applied.size(), report.failures.size(), kernel.write_requests(), kernel.write_sends(),
             ms(parsed - started), ms(done - parsed));
  return report.failures.empty() && !report.read_failed ? 0 : 1;
}

// Waits up to `period` for SIGTERM or SIGINT (blocked meanwhile); true when one came.
bool stop_requested_within(std::chrono::seconds period) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigset_t before;
  ::sigprocmask(SIG_BLOCK, &set, &before);
  const timespec t{static_cast<time_t>(period.count()), 0};
  int signo;
  do signo = ::sigtimedwait(&set, nullptr, &t);
  while (signo < 0 && errno == EINTR);
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  return signo > 0;
}

// --once: one pass and exit. The pool process: the same kernel, kept equal to the config
// until SIGTERM; a kernel without IPVS (the module missing or not loadable yet) is tried
// again every 5 s rather than given up on, since the parent would only start it again.
int run_pool(const std::string& path, bool once) {
  const auto started = std::chrono::steady_clock::now();
  auto result = lvsd::config::load_file(path);
  if (!result.ok()) {
    print_errors(path, result);
    return 1;
  }
  auto kernel = lvsd::ipvs::NetlinkBackend::open();
  if (!kernel && once) {
    fmt::print(stderr, "lvsd: {}\n", lvsd::ipvs::open_error_text(kernel.error()));
    return 1;
  }
  if (once) return run_once(std::move(*result.desired), **kernel, path, started);
  for (std::string said; !kernel; kernel = lvsd::ipvs::NetlinkBackend::open()) {
    const auto why = lvsd::ipvs::open_error_text(kernel.error());
    if (why != said) spdlog::error("{}; trying again every 5 s", why);
    said = why;
    if (stop_requested_within(std::chrono::seconds(5))) return 0;
  }
  Daemon daemon(path, std::move(*result.desired), **kernel);
  return daemon.run();
}

// The parent: the config checked once here (its errors are lvsd's exit status 1), then the
// children it needs, supervised.
int run_supervisor(const std::string& path) {
  auto result = lvsd::config::load_file(path);
  if (!result.ok()) {
    print_errors(path, result);
    return 1;
  }
  const auto load = [path]() -> std::optional<lvsd::model::Desired> {
    auto r = lvsd::config::load_file(path);
    if (r.ok()) return std::move(*r.desired);
    for (const auto& e : r.errors) spdlog::error("reload: {}", e.to_string());
    return std::nullopt;
  };
  const auto& d = *result.desired;
  if (!lvsd::daemon::needs(lvsd::daemon::Role::Pool, d) && !lvsd::daemon::needs(lvsd::daemon::Role::Vrrp, d))
    spdlog::warn("{}: declares neither IPVS nor VRRP; waiting for a reload (SIGHUP)", path);
  lvsd::daemon::Supervisor supervisor({.config_path = path}, load, [](std::string_view line) { spdlog::info("{}", line); });
  return supervisor.run(d);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lvsd: keeps the kernel IPVS table equal to the declared pools, minus broken real servers"};
  std::string check_path;
  std::string config_path = "/etc/lvsd/lvsd.toml";
  bool quiet = false;
  bool once = false;
  std::string child;
  app.add_option("-t,--check-config", check_path, "Check the configuration FILE, print its pools, and exit")
      ->type_name("FILE");
  app.add_option("-f,--config", config_path, "Run with the configuration FILE (default /etc/lvsd/lvsd.toml)")
      ->type_name("FILE");
  app.add_flag("-q,--quiet", quiet, "With --check-config: print errors only");
  app.add_flag("-1,--once", once, "Reconcile the kernel to the configuration once, print what it took, and exit");
  // How the parent starts its children (lvsd(8), PROCESSES); not for operators.
  app.add_option("--child", child, "Run as lvsd's pool or vrrp process")->group("")->check(CLI::IsMember({"pool", "vrrp"}));
  app.set_version_flag("-V,--version", "lvsd " LVSD_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!check_path.empty()) return check_config(check_path, quiet);
  // The log goes to standard error (the journal under systemd); standard output stays for
  // what a command was asked to print.
  spdlog::set_default_logger(spdlog::stderr_logger_mt(child.empty() ? "lvsd" : "lvsd-" + child));
  if (child == "vrrp") return lvsd::daemon::run_vrrp_process(config_path);
  if (child == "pool" || once) return run_pool(config_path, once);
  return run_supervisor(config_path);
}
