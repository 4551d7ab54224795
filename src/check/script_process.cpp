// fork, the child's way to exec as another user in a group of its own, and reaping on the
// io_context without SIGCHLD.
#include "script_process.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// How long a destructor waits for a killed command before leaving it to a later reaper:
// SIGKILL ends a process at once unless it sleeps uninterruptibly in the kernel.
constexpr auto kReapWait = 100ms;

std::string errno_text(int error) { return boost::system::error_code(error, boost::system::system_category()).message(); }

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// The descriptor moved above 0, 1 and 2 (free when lvsd runs with them closed), so that the
// child's dup2 onto them cannot overwrite another of its descriptors.
Fd above_stdio(int fd) {
  if (fd < 0 || fd > 2) return Fd(fd);
  Fd original(fd);
  return Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = above_stdio(fds[0]);
  write_end = above_stdio(fds[1]);
  return read_end.get() >= 0 && write_end.get() >= 0;
}

// argv[0] as execvp would find it; PATH entries that are empty (the current directory) are
// skipped: lvsd runs as root.
std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = ::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (!dirs.empty()) {
    const auto colon = std::min(dirs.find(':'), dirs.size());
    const auto dir = dirs.substr(0, colon);
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
    if (dir.empty()) continue;
    std::string candidate = fmt::format("{}/{}", dir, name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

// What the child reports on its close-on-exec pipe when it cannot become the command.
enum class Stage : std::int32_t { Setup, Groups, Gid, Uid, Exec };
struct ChildFailure {
  Stage stage;
  std::int32_t error;
};

// Everything the child needs, prepared before fork: after fork it may only make
// async-signal-safe calls (no allocation, no lock) until exec.
struct ChildPlan {
  const char* program;
  char* const* argv;
  int stdin_fd;
  int output_fd;
  int report_fd;
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  std::size_t group_count;
};

[[noreturn]] void report_and_exit(int report_fd, Stage stage) {
  const ChildFailure failure{stage, errno};
  [[maybe_unused]] const auto n = ::write(report_fd, &failure, sizeof failure);  // one write: atomic on a pipe
  ::_exit(127);
}

[[noreturn]] void become_command(const ChildPlan& p) {
  // Signals as a new process has them: exec keeps the blocked mask and ignored signals
  // (a daemon blocks some for signalfd and ignores SIGPIPE; `yes | head` needs SIGPIPE).
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &default_action, nullptr);  // SIGKILL, SIGSTOP: refused
  ::setpgid(0, 0);
  if (::dup2(p.stdin_fd, 0) < 0 || ::dup2(p.output_fd, 1) < 0 || ::dup2(p.output_fd, 2) < 0)
    report_and_exit(p.report_fd, Stage::Setup);
  // Descriptors that lvsd opened without O_CLOEXEC must not reach the command either.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (p.switch_user) {
    if (::setgroups(p.group_count, p.groups) != 0) report_and_exit(p.report_fd, Stage::Groups);
    if (::setgid(p.gid) != 0) report_and_exit(p.report_fd, Stage::Gid);
    if (::setuid(p.uid) != 0) report_and_exit(p.report_fd, Stage::Uid);
  }
  ::execve(p.program, p.argv, environ);
  report_and_exit(p.report_fd, Stage::Exec);
}

// Collects a killed command that outlived the destructor's wait.
asio::awaitable<void> reap_when_gone(pid_t pid) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != 0) co_return;
    timer.expires_after(kReapWait);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

boost::system::result<RunAs, std::string> look_up_user(const std::string& user) {
  // Explicitly an error: RunAs, an aggregate whose first member is a string, could be made
  // from one too.
  const auto error = [](std::string why) {
    return boost::system::result<RunAs, std::string>(boost::system::in_place_error, std::move(why));
  };
  const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = 0;
  while ((rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1u << 20))
    buffer.resize(buffer.size() * 2);
  if (rc != 0) return error(fmt::format("cannot look up user {}: {}", user, errno_text(rc)));
  if (!found) return error("no such user " + user);
  RunAs as{.user = user, .uid = entry.pw_uid, .gid = entry.pw_gid, .groups = {}};
  for (int count = 32;;) {
    as.groups.resize(static_cast<std::size_t>(count));
    const int room = count;
    if (::getgrouplist(user.c_str(), entry.pw_gid, as.groups.data(), &count) >= 0) {
      as.groups.resize(static_cast<std::size_t>(count));
      return as;
    }
    if (count <= room) count = room * 2;  // glibc says how many it needs; others may not
    if (count > 65536) return error(fmt::format("cannot look up the groups of user {}", user));
  }
}

ScriptProcess::ScriptProcess(asio::any_io_executor executor, ExitWatch watch)
    : executor_(std::move(executor)), watch_(watch), output_(executor_), pidfd_(executor_) {}

ScriptProcess::~ScriptProcess() {
  if (pid_ < 0) return;
  // A run that did not end with reap(): a cancelled check. Its command and what it started
  // go now; a check that returns has reaped its command, unless the kernel holds it.
  kill_group();
  const auto deadline = std::chrono::steady_clock::now() + kReapWait;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != 0) return;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    if (pidfd_.is_open()) {
      pollfd ready{.fd = pidfd_.native_handle(), .events = POLLIN, .revents = 0};
      ::poll(&ready, 1, static_cast<int>(left.count()));
    } else {
      ::usleep(1000);
    }
  }
  asio::co_spawn(executor_, reap_when_gone(pid_), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

void ScriptProcess::kill_group() const {
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);  // should the group not exist: setpgid failed in both processes
}

asio::awaitable<std::string> ScriptProcess::start(const std::vector<std::string>& argv, const RunAs& as) {
  if (argv.empty()) throw std::invalid_argument("ScriptProcess::start: a command needs a program");
  if (pid_ >= 0) throw std::logic_error("ScriptProcess::start: already running");
  const std::string& name = argv.front();
  const auto cannot_run = [&](int error) { return fmt::format("cannot run {}: {}", name, errno_text(error)); };
  const auto program = find_program(name);
  if (!program) co_return cannot_run(ENOENT);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  Fd devnull = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) co_return cannot_run(errno);
  Fd output_read, output_write, report_read, report_write;
  if (!make_pipe(output_read, output_write) || !make_pipe(report_read, report_write)) co_return cannot_run(errno);
  const ChildPlan plan{
      .program = program->c_str(),
      .argv = args.data(),
      .stdin_fd = devnull.get(),
      .output_fd = output_write.get(),
      .report_fd = report_write.get(),
      .switch_user = as.uid != ::geteuid() || as.gid != ::getegid(),
      .uid = as.uid,
      .gid = as.gid,
      .groups = as.groups.data(),
      .group_count = as.groups.size(),
  };
  const pid_t pid = ::fork();
  if (pid == 0) become_command(plan);
  if (pid < 0) co_return cannot_run(errno);
  pid_ = pid;
  ::setpgid(pid, pid);  // as the child does: the group exists whichever of the two runs first
  devnull.reset();
  output_write.reset();
  report_write.reset();
  output_.assign(output_read.release());
  if (watch_ == ExitWatch::Pidfd) {
    // The raw call: glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage.
    if (const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); fd >= 0) pidfd_.assign(fd);
    else watch_ = ExitWatch::Polling;
  }

  // The report pipe closes at exec; before that the child writes why it failed.
  asio::posix::stream_descriptor report(executor_, report_read.release());
  ChildFailure failure{};
  auto [ec, n] = co_await asio::async_read(report, asio::buffer(&failure, sizeof failure),
                                           asio::as_tuple(asio::use_awaitable));
  if (n == sizeof failure) {
    if (failure.stage == Stage::Setup || failure.stage == Stage::Exec) co_return cannot_run(failure.error);
    co_return fmt::format("cannot run {} as {}: {}", name, as.user, errno_text(failure.error));
  }
  if (ec == asio::error::eof) co_return std::string();
  co_return fmt::format("cannot run {}: {}", name, ec.message());
}

asio::awaitable<void> ScriptProcess::exited() {
  if (watch_ == ExitWatch::Pidfd) {
    co_await pidfd_.async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
    co_return;
  }
  asio::steady_timer timer(executor_);
  for (auto pause = 1ms;; pause = std::min(pause * 2, 100ms)) {
    siginfo_t info{};
    // WNOWAIT: the command stays a zombie, so its pid (and group id) cannot be reused before
    // reap() has killed what is left of the group.
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0)
      co_return;
    timer.expires_after(pause);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

std::optional<int> ScriptProcess::reap() {
  if (pid_ < 0) throw std::logic_error("ScriptProcess::reap: nothing to reap");
  kill_group();
  int status = 0;
  pid_t done = 0;
  while ((done = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  pidfd_.close();
  if (done < 0) return std::nullopt;
  return status;
}

}  // namespace lvsd::check
