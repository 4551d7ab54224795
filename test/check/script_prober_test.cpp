// The script prober with real commands: verdicts, output, users, and what a timeout leaves.
#include "lvsd/check/script_prober.hpp"

#include <boost/asio/io_context.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "probe_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

const Target kTarget{.endpoint = {model::IpAddress::v4(0x7f000001), 80}};

std::vector<std::string> sh(std::string script) { return {"/bin/sh", "-c", std::move(script)}; }

// The user the tests run as: scripts run as that user need no privilege to switch.
std::string me() { return ::getpwuid(::geteuid())->pw_name; }

Result run(ScriptProber& prober, model::Millis timeout = 5000ms) {
  asio::io_context io;
  return testing::run_attempt(io, prober, kTarget, timeout);
}

Result run(model::ScriptCheck check, model::Millis timeout = 5000ms) {
  ScriptProber prober(std::move(check), me());
  return run(prober, timeout);
}

// The processes whose parent is this one, zombies included (from /proc: gtest itself may
// have none, or some of its own).
std::set<pid_t> children() {
  std::set<pid_t> out;
  DIR* proc = ::opendir("/proc");
  while (const dirent* entry = proc ? ::readdir(proc) : nullptr) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    char state = 0;
    pid_t parent = 0;
    if (rest >> state >> parent && parent == ::getpid()) out.insert(std::stoi(entry->d_name));
  }
  if (proc) ::closedir(proc);
  return out;
}

// Makes this process the reaper of orphaned descendants while it lives, so that what a
// killed script leaves can be seen to be gone whatever PID 1 does with zombies (the init
// of a container may never reap them, and a zombie still counts for kill(-pgid, 0)).
class OrphanReaper {
 public:
  OrphanReaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~OrphanReaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 0); }

  // True once no process of the group remains: its orphans, killed, are reaped here as they
  // die. SIGKILL takes effect asynchronously, hence the poll, bounded well below the
  // scripts' `sleep 60`.
  static bool group_gone(pid_t pgid) {
    for (const auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;) {
      while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
      }
      if (::kill(-pgid, 0) == -1 && errno == ESRCH) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

// The script reports its process group (its shell's pid) on its first line.
pid_t first_line_pid(const std::vector<std::string>& lines) { return lines.empty() ? 0 : std::stoi(lines.front()); }

TEST(ScriptProber, ExitZeroIsUp) {
  const Result r = run({.argv = {"/bin/true"}});
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "exit 0");
  EXPECT_EQ(r.weight, std::nullopt);
}

TEST(ScriptProber, ExitOneIsDown) {
  const Result r = run({.argv = {"/bin/false"}});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exit 1");
}

TEST(ScriptProber, AnyOtherExitIsDownWithoutDynamicWeight) {
  const Result r = run({.argv = sh("exit 7")});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exit 7");
  EXPECT_EQ(r.weight, std::nullopt);
}

TEST(ScriptProber, WithDynamicWeightAnExitAboveOneIsTheWeightPlusTwo) {
  Result r = run({.argv = sh("exit 7"), .dynamic_weight = true});
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "exit 7: weight 5");
  EXPECT_EQ(r.weight, 5u);
  r = run({.argv = sh("exit 2"), .dynamic_weight = true});
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.weight, 0u);
  EXPECT_EQ(run({.argv = sh("exit 255"), .dynamic_weight = true}).weight, 253u);
  r = run({.argv = sh("exit 1"), .dynamic_weight = true});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exit 1");
  r = run({.argv = sh("exit 0"), .dynamic_weight = true});
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.weight, std::nullopt);  // the real server's own weight stands
}

TEST(ScriptProber, TheLastLineOfOutputExplainsAFailure) {
  std::vector<std::string> lines;
  ScriptProber prober({.argv = sh("echo starting; echo 'it broke' >&2; echo; exit 1")}, me(),
                      [&](std::string_view line) { lines.emplace_back(line); });
  const Result r = run(prober);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "exit 1: it broke");
  EXPECT_EQ(lines, (std::vector<std::string>{"starting", "it broke"}));  // stdout and stderr, in order
}

TEST(ScriptProber, SuccessKeepsItsOutputForTheLogOnly) {
  std::vector<std::string> lines;
  ScriptProber prober({.argv = sh("printf 'all good\\r\\nno newline'")}, me(),
                      [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(run(prober).reason, "exit 0");
  EXPECT_EQ(lines, (std::vector<std::string>{"all good", "no newline"}));
}

TEST(ScriptProber, OutputIsBounded) {
  std::size_t count = 0;
  ScriptProber many({.argv = sh("yes | head -n 20000; echo last words; exit 1")}, me(),
                    [&](std::string_view) { ++count; });
  EXPECT_EQ(run(many).reason, "exit 1: last words");
  EXPECT_EQ(count, 20001u);

  std::vector<std::string> lines;
  ScriptProber long_line({.argv = sh("head -c 10000 /dev/zero | tr '\\0' x; exit 1")}, me(),
                         [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(run(long_line).reason, "exit 1: " + std::string(200, 'x') + "...");
  EXPECT_EQ(lines, std::vector<std::string>{std::string(4096, 'x')});
}

TEST(ScriptProber, OutputInTheReasonIsPrintable) {
  EXPECT_EQ(run({.argv = sh("printf 'tab\\there\\001\\n'; exit 3")}).reason, "exit 3: tab here?");
}

TEST(ScriptProber, ASignalIsDown) {
  const Result r = run({.argv = sh("echo dying; kill -TERM $$")});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "killed by signal 15: dying");
}

TEST(ScriptProber, StdinIsDevNull) {
  EXPECT_EQ(run({.argv = sh("read line; echo read=$?; exit 1")}).reason, "exit 1: read=1");
}

TEST(ScriptProber, SignalsAreThoseOfANewProcess) {
  // A daemon ignores some signals and blocks others (for signalfd); exec would pass both on.
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old_action);
  sigset_t blocked, old_mask;
  ::sigemptyset(&blocked);
  ::sigaddset(&blocked, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &blocked, &old_mask);
  const Result term = run({.argv = sh("kill -TERM $$; exit 0")});
  const Result hup = run({.argv = sh("kill -HUP $$; exit 0")});
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGTERM, &old_action, nullptr);
  EXPECT_EQ(term.reason, "killed by signal 15");
  EXPECT_EQ(hup.reason, "killed by signal 1");
}

TEST(ScriptProber, DescriptorsWithoutCloseOnExecDoNotReachTheScript) {
  const int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC
  ASSERT_GE(leaky, 3);
  const auto r = run({.argv = sh("test -e /proc/$$/fd/" + std::to_string(leaky) + " && echo leaked || echo clean; exit 1")});
  ::close(leaky);
  EXPECT_EQ(r.reason, "exit 1: clean");
}

TEST(ScriptProber, AProgramIsLookedUpInPath) {
  EXPECT_EQ(run({.argv = {"true"}}).reason, "exit 0");
  EXPECT_EQ(run({.argv = {"lvsd-no-such-program"}}).reason,
            "cannot run lvsd-no-such-program: No such file or directory");
}

TEST(ScriptProber, AProgramThatCannotRunIsDown) {
  Result r = run({.argv = {"/nonexistent/lvsd-check", "-v"}});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "cannot run /nonexistent/lvsd-check: No such file or directory");
  r = run({.argv = {"/etc/passwd"}});  // not executable
  EXPECT_EQ(r.reason, "cannot run /etc/passwd: Permission denied");
}

TEST(ScriptProber, AnUnknownUserIsDown) {
  const Result r = run({.argv = {"/bin/true"}, .user = "lvsd-no-such-user"});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "no such user lvsd-no-such-user");
}

TEST(ScriptProber, RunsAsTheConfiguredUnprivilegedUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const auto uid = std::to_string(nobody->pw_uid);
  const auto gid = std::to_string(nobody->pw_gid);
  const std::string ids = "id -u; id -g; id -G; exit 1";

  std::vector<std::string> lines;
  const auto keep = [&](std::string_view line) { lines.emplace_back(line); };
  ScriptProber by_default({.argv = sh(ids)}, "nobody", keep);  // [global] script_user
  run(by_default);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], uid);
  EXPECT_EQ(lines[1], gid);
  std::istringstream groups(lines[2]);
  for (std::string g; groups >> g;) EXPECT_NE(g, "0") << "root's group kept: " << lines[2];

  lines.clear();
  ScriptProber by_check({.argv = sh(ids), .user = "nobody"}, "root", keep);  // the check's own user wins
  run(by_check);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], uid);

  lines.clear();
  ScriptProber as_root({.argv = sh(ids), .user = "root"}, "nobody", keep);
  run(as_root);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "0");
}

TEST(ScriptProber, ATimeoutKillsTheScriptAndReapsIt) {
  OrphanReaper reaper;
  const auto before = children();
  std::vector<std::string> lines;
  ScriptProber prober({.argv = sh("echo $$; sleep 60")}, me(), [&](std::string_view line) { lines.emplace_back(line); });
  const Result r = run(prober, 200ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 200 ms");
  const pid_t pgid = first_line_pid(lines);
  ASSERT_GT(pgid, 0);
  // The prober reaped its child before the attempt returned: not even a zombie is left.
  const pid_t waited = ::waitpid(pgid, nullptr, WNOHANG);
  const int error = errno;
  EXPECT_EQ(waited, -1);
  EXPECT_EQ(error, ECHILD);
  EXPECT_TRUE(reaper.group_gone(pgid));
  EXPECT_EQ(children(), before);
}

TEST(ScriptProber, ATimeoutKillsWhatTheScriptStarted) {
  OrphanReaper reaper;
  const auto before = children();
  std::vector<std::string> lines;
  ScriptProber prober({.argv = sh("echo $$; sleep 60 & echo $!; sleep 60")}, me(),
                      [&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(run(prober, 200ms).reason, "timeout after 200 ms");
  ASSERT_EQ(lines.size(), 2u);
  const pid_t pgid = first_line_pid(lines);
  const pid_t daemon = std::stoi(lines[1]);
  EXPECT_EQ(::waitpid(pgid, nullptr, WNOHANG), -1);
  EXPECT_TRUE(reaper.group_gone(pgid));
  const int alive = ::kill(daemon, 0);
  const int error = errno;
  EXPECT_EQ(alive, -1);
  EXPECT_EQ(error, ESRCH);
  EXPECT_EQ(children(), before);
}

TEST(ScriptProber, AScriptThatLeavesADaemonIsJudgedByItsExitAndTheDaemonGoes) {
  // The daemon holds the output pipe open: the verdict must not wait for its end.
  OrphanReaper reaper;
  std::vector<std::string> lines;
  ScriptProber prober({.argv = sh("echo $$; sleep 60 & echo $!; exit 0")}, me(),
                      [&](std::string_view line) { lines.emplace_back(line); });
  const Result r = run(prober);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "exit 0");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(reaper.group_gone(first_line_pid(lines)));
  EXPECT_EQ(::kill(std::stoi(lines[1]), 0), -1);
}

TEST(ScriptProber, ManyRunsLeaveNoDescriptorAndNoChildBehind) {
  const auto fds = testing::open_fds();
  const auto before = children();
  ScriptProber up({.argv = {"/bin/true"}}, me());
  ScriptProber down({.argv = sh("echo bad; exit 1")}, me());
  ScriptProber missing({.argv = {"/nonexistent/lvsd-check"}}, me());
  ScriptProber nobody({.argv = {"/bin/true"}, .user = "lvsd-no-such-user"}, me());
  ScriptProber hanging({.argv = sh("exec sleep 60")}, me());
  for (int i = 0; i < 200; ++i) {
    switch (i % 5) {
      case 0: EXPECT_TRUE(run(up).up); break;
      case 1: EXPECT_EQ(run(down).reason, "exit 1: bad"); break;
      case 2: EXPECT_FALSE(run(missing).up); break;
      case 3: EXPECT_FALSE(run(nobody).up); break;
      default:
        if (i % 20 == 4) EXPECT_EQ(run(hanging, 50ms).reason, "timeout after 50 ms");
        else EXPECT_EQ(run(down).reason, "exit 1: bad");
    }
  }
  EXPECT_EQ(testing::open_fds(), fds);
  EXPECT_EQ(children(), before);
}

}  // namespace
}  // namespace lvsd::check
