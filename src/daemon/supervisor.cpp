// The parent: children started by fork and exec, reaped, restarted, reloaded and stopped,
// with signals taken by sigtimedwait so nothing runs in a signal handler.
#include "lvsd/daemon/supervisor.hpp"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace lvsd::daemon {

std::string_view to_string(Role role) { return role == Role::Pool ? "pool" : "vrrp"; }

std::optional<Role> role_named(std::string_view name) {
  if (name == "pool") return Role::Pool;
  if (name == "vrrp") return Role::Vrrp;
  return std::nullopt;
}

bool needs(Role role, const model::Desired& desired) {
  if (role == Role::Vrrp) return !desired.vrrp_instances.empty();
  const auto& ipvs = desired.ipvs;
  return !desired.virtual_servers.empty() || !ipvs.sync_daemons.empty() || ipvs.timeouts != model::IpvsTimeouts{} ||
         ipvs.manage == model::Ownership::Exclusive;
}

std::chrono::milliseconds restart_delay(unsigned deaths_in_a_row) {
  using std::chrono::milliseconds;
  if (deaths_in_a_row <= 1) return milliseconds{0};
  const unsigned doublings = std::min(deaths_in_a_row - 2, 5u);  // 1, 2, 4, 8, 16, then 30 s
  return std::min(milliseconds{1000 << doublings}, milliseconds{30'000});
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({}){}", WTERMSIG(status), ::strsignal(WTERMSIG(status)),
                       WCOREDUMP(status) ? ", core dumped" : "");
  return fmt::format("ended with wait status {}", status);
}

namespace {

using Clock = std::chrono::steady_clock;

sigset_t supervised_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) sigaddset(&set, s);
  return set;
}

// One signal, or 0 at `until` (none: wait as long as it takes).
int wait_signal(const sigset_t& set, std::optional<Clock::time_point> until) {
  for (;;) {
    int signo;
    if (!until) {
      signo = ::sigwaitinfo(&set, nullptr);
    } else {
      const auto left = std::max(Clock::duration::zero(), *until - Clock::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      const timespec t{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      signo = ::sigtimedwait(&set, nullptr, &t);
      if (signo < 0 && errno == EAGAIN) return 0;
    }
    if (signo > 0) return signo;
    if (errno != EINTR) return 0;
  }
}

}  // namespace

Supervisor::Supervisor(Options options, Load load, Log log)
    : options_(std::move(options)), load_(std::move(load)), log_(std::move(log)) {
  for (const Role role : {Role::Pool, Role::Vrrp}) {
    Child child;
    child.role = role;
    children_.push_back(child);
  }
}

void Supervisor::start(Child& child) {
  child.restart_at.reset();
  const std::string role(to_string(child.role));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    log_(fmt::format("cannot start the {} process: {}; trying again in 1 s", role, std::strerror(errno)));
    child.restart_at = Clock::now() + std::chrono::seconds(1);
    return;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // the parent died before the line above
    ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
    const char* argv[] = {"lvsd", "--child", role.c_str(), "-f", options_.config_path.c_str(), nullptr};
    ::execv(options_.program.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  child.pid = pid;
  child.started = Clock::now();
  log_(fmt::format("{} process {} started", role, pid));
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    const auto it = std::find_if(children_.begin(), children_.end(), [pid](const Child& c) { return c.pid == pid; });
    if (it == children_.end()) continue;
    Child& child = *it;
    child.pid = -1;
    const std::string how = describe_exit(status);
    if (!child.wanted) {
      log_(fmt::format("{} process {} {}", to_string(child.role), pid, how));
      continue;
    }
    child.deaths_in_a_row = Clock::now() - child.started < kGoodRun ? child.deaths_in_a_row + 1 : 1;
    const auto delay = restart_delay(child.deaths_in_a_row);
    child.restart_at = Clock::now() + delay;
    log_(fmt::format("{} process {} {}; restarting {}", to_string(child.role), pid, how,
                     delay.count() == 0 ? std::string("now") : fmt::format("in {} s", delay.count() / 1000.0)));
  }
}

void Supervisor::want(const model::Desired& desired) {
  for (Child& child : children_) {
    const bool wanted = needs(child.role, desired);
    if (wanted && !child.wanted) {
      child.wanted = true;
      child.deaths_in_a_row = 0;
      if (child.pid < 0) start(child);
    } else if (!wanted && child.wanted) {
      child.wanted = false;
      child.restart_at.reset();
      if (child.pid > 0) {
        log_(fmt::format("{} process {}: no longer needed by the configuration; stopping it", to_string(child.role),
                         child.pid));
        ::kill(child.pid, SIGTERM);
      }
    } else if (wanted && child.pid > 0) {
      ::kill(child.pid, SIGHUP);
    }
  }
}

void Supervisor::reload() {
  auto desired = load_();
  if (!desired) {
    log_("reload: the configuration has errors; every process keeps the one it runs");
    return;
  }
  want(*desired);
}

std::optional<Clock::time_point> Supervisor::next_restart() const {
  std::optional<Clock::time_point> next;
  for (const Child& c : children_)
    if (c.wanted && c.pid < 0 && c.restart_at && (!next || *c.restart_at < *next)) next = c.restart_at;
  return next;
}

int Supervisor::stop_all() {
  const sigset_t set = supervised_signals();
  for (Child& c : children_) {
    c.wanted = false;
    c.restart_at.reset();
    if (c.pid > 0) ::kill(c.pid, SIGTERM);
  }
  const auto running = [&] {
    return std::any_of(children_.begin(), children_.end(), [](const Child& c) { return c.pid > 0; });
  };
  const auto deadline = Clock::now() + options_.stop_grace;
  while (running() && Clock::now() < deadline) {
    if (wait_signal(set, deadline) == SIGCHLD) reap();
  }
  if (!running()) return 0;
  for (Child& c : children_) {
    if (c.pid <= 0) continue;
    log_(fmt::format("{} process {} still running after {} s; killing it", to_string(c.role), c.pid,
                     options_.stop_grace.count() / 1000.0));
    ::kill(c.pid, SIGKILL);
  }
  while (running())
    if (wait_signal(set, std::nullopt) == SIGCHLD) reap();
  return 1;
}

int Supervisor::run(const model::Desired& first) {
  const sigset_t set = supervised_signals();
  ::sigprocmask(SIG_BLOCK, &set, &original_mask_);
  // The children start with the mask lvsd started with, minus what the parent blocked.
  for (const int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT}) sigdelset(&original_mask_, s);
  want(first);
  for (;;) {
    const int signo = wait_signal(set, next_restart());
    switch (signo) {
      case SIGCHLD: reap(); break;
      case SIGHUP: reload(); break;
      case SIGTERM:
      case SIGINT:
        log_(fmt::format("signal {}: stopping", signo));
        return stop_all();
      default: break;
    }
    for (Child& c : children_)
      if (c.wanted && c.pid < 0 && c.restart_at && *c.restart_at <= Clock::now()) start(c);
  }
}

}  // namespace lvsd::daemon
