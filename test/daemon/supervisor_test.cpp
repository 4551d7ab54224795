// The parent process: its pure rules, and the real thing run in a child of the test with a
// shell script standing in for lvsd's children.
#include "lvsd/daemon/supervisor.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lvsd::daemon {
namespace {
using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(RestartDelay, AtOnceThenDoublingFromOneSecondToThirty) {
  EXPECT_EQ(restart_delay(0), milliseconds{0});
  EXPECT_EQ(restart_delay(1), milliseconds{0});
  EXPECT_EQ(restart_delay(2), milliseconds{1000});
  EXPECT_EQ(restart_delay(3), milliseconds{2000});
  EXPECT_EQ(restart_delay(4), milliseconds{4000});
  EXPECT_EQ(restart_delay(6), milliseconds{16000});
  EXPECT_EQ(restart_delay(7), milliseconds{30000});
  EXPECT_EQ(restart_delay(1000), milliseconds{30000});
}

TEST(Needs, PoolForAnythingOfIpvsVrrpForInstances) {
  model::Desired d;
  EXPECT_FALSE(needs(Role::Pool, d));
  EXPECT_FALSE(needs(Role::Vrrp, d));
  d.ipvs.manage = model::Ownership::Exclusive;  // must empty the table: needs the pool process
  EXPECT_TRUE(needs(Role::Pool, d));
  d = {};
  d.ipvs.timeouts.tcp = std::chrono::seconds(900);
  EXPECT_TRUE(needs(Role::Pool, d));
  d = {};
  d.ipvs.sync_daemons.push_back({});
  EXPECT_TRUE(needs(Role::Pool, d));
  d = {};
  d.virtual_servers.push_back({});
  EXPECT_TRUE(needs(Role::Pool, d));
  EXPECT_FALSE(needs(Role::Vrrp, d));
  d.vrrp_instances.push_back({});
  EXPECT_TRUE(needs(Role::Vrrp, d));
}

TEST(DescribeExit, StatusOrSignal) {
  EXPECT_EQ(describe_exit(1 << 8), "exited with status 1");
  EXPECT_EQ(describe_exit(SIGKILL), "killed by signal 9 (Killed)");
  EXPECT_EQ(role_named("vrrp"), Role::Vrrp);
  EXPECT_EQ(role_named("pool"), Role::Pool);
  EXPECT_EQ(role_named("x"), std::nullopt);
}

// A supervisor in a forked child of the test (it takes over its process's signals), whose
// "children" are a shell script that writes what happens to it into a journal file.
class Supervised : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/lvsd-supervisor-XXXXXX";
    dir_ = ::mkdtemp(name);
    journal_ = dir_ + "/journal";
    script_ = dir_ + "/child";
    std::ofstream(script_) << "#!/bin/sh\n"
                              "echo \"start $*\" >>" << journal_ << "\n"
                              "trap 'echo hup $2 >>" << journal_ << "' HUP\n"
                              "trap 'echo term $2 >>" << journal_ << "; [ -e " << dir_ << "/stubborn ] || exit 0' TERM\n"
                              "while :; do sleep 0.02; done\n";
    ::chmod(script_.c_str(), 0755);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // The supervisor, with `desired` as the config it starts from and `reloaded` as what every
  // reload reads.
  void start(model::Desired desired, std::function<std::optional<model::Desired>()> reloaded) {
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      Supervisor s({.program = script_, .config_path = "/etc/x.toml", .stop_grace = 500ms}, reloaded,
                   [this](std::string_view line) { std::ofstream(dir_ + "/log", std::ios::app) << line << "\n"; });
      ::_exit(s.run(desired));
    }
  }
  std::vector<std::string> lines() const {
    std::ifstream in(journal_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  std::string log() const {
    std::ifstream in(dir_ + "/log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool until(const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
  std::size_t count(const std::string& line) const {
    std::size_t n = 0;
    for (const auto& l : lines()) n += l == line;
    return n;
  }
  // The pids of the script's instances for a role, from the supervisor's log.
  std::vector<pid_t> started(const std::string& role) const {
    std::vector<pid_t> out;
    std::istringstream in(log());
    for (std::string l; std::getline(in, l);) {
      const std::string prefix = role + " process ";
      if (l.rfind(prefix, 0) == 0 && l.ends_with(" started")) out.push_back(std::stoi(l.substr(prefix.size())));
    }
    return out;
  }
  int exit_status() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static model::Desired both() {
    model::Desired d;
    d.virtual_servers.push_back({});
    d.vrrp_instances.push_back({});
    return d;
  }

  std::string dir_, journal_, script_;
  pid_t pid_ = -1;
};

TEST_F(Supervised, StartsTheNeededChildrenRestartsTheDeadAndStopsThemAll) {
  model::Desired vrrp_only;
  vrrp_only.vrrp_instances.push_back({});
  start(vrrp_only, [] { return std::nullopt; });
  ASSERT_TRUE(until([&] { return count("start --child vrrp -f /etc/x.toml") == 1; }));
  EXPECT_EQ(count("start --child pool -f /etc/x.toml"), 0u);

  // Killed: back at once; killed again soon after: back after 1 s.
  ASSERT_TRUE(until([&] { return started("vrrp").size() == 1; }));
  const auto killed = std::chrono::steady_clock::now();
  ::kill(started("vrrp")[0], SIGKILL);
  ASSERT_TRUE(until([&] { return count("start --child vrrp -f /etc/x.toml") == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 500ms);
  EXPECT_NE(log().find("killed by signal 9 (Killed); restarting now"), std::string::npos) << log();
  ASSERT_TRUE(until([&] { return started("vrrp").size() == 2; }));
  const auto again = std::chrono::steady_clock::now();
  ::kill(started("vrrp")[1], SIGKILL);
  ASSERT_TRUE(until([&] { return count("start --child vrrp -f /etc/x.toml") == 3; }));
  EXPECT_GE(std::chrono::steady_clock::now() - again, 900ms);
  EXPECT_NE(log().find("restarting in 1 s"), std::string::npos) << log();

  ::kill(pid_, SIGTERM);
  EXPECT_EQ(exit_status(), 0);
  EXPECT_EQ(count("term vrrp"), 1u);
}

TEST_F(Supervised, AReloadStartsStopsAndPassesOnAsTheNewConfigSays) {
  model::Desired pool_only;
  pool_only.virtual_servers.push_back({});
  int reloads = 0;
  start(both(), [&]() -> std::optional<model::Desired> {
    // In the supervisor's process: the reloads' configs in turn.
    switch (++reloads) {
      case 1: return both();
      case 2: return std::nullopt;  // errors: nothing changes
      default: return pool_only;
    }
  });
  ASSERT_TRUE(until([&] { return count("start --child vrrp -f /etc/x.toml") == 1 && count("start --child pool -f /etc/x.toml") == 1; }));
  ::kill(pid_, SIGHUP);  // the same children: each reloads
  ASSERT_TRUE(until([&] { return count("hup vrrp") == 1 && count("hup pool") == 1; }));
  ::kill(pid_, SIGHUP);  // a config with errors: nobody hears of it
  ASSERT_TRUE(until([&] { return log().find("reload: the configuration has errors") != std::string::npos; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(count("hup vrrp"), 1u);
  ::kill(pid_, SIGHUP);  // no VRRP instances any more: the VRRP process stops, and stays stopped
  ASSERT_TRUE(until([&] { return count("term vrrp") == 1 && count("hup pool") == 2; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("start --child vrrp -f /etc/x.toml"), 1u);
  EXPECT_NE(log().find("no longer needed by the configuration"), std::string::npos);
  ::kill(pid_, SIGTERM);
  EXPECT_EQ(exit_status(), 0);
}

TEST_F(Supervised, AChildThatIgnoresSigtermIsKilledAfterTheGrace) {
  std::ofstream(dir_ + "/stubborn") << "";
  start(both(), [] { return std::nullopt; });
  ASSERT_TRUE(until([&] { return started("vrrp").size() == 1 && started("pool").size() == 1; }));
  ASSERT_TRUE(until([&] { return lines().size() == 2; }));
  const auto stopped = std::chrono::steady_clock::now();
  ::kill(pid_, SIGTERM);
  EXPECT_EQ(exit_status(), 1);
  EXPECT_GE(std::chrono::steady_clock::now() - stopped, 450ms);
  EXPECT_EQ(count("term vrrp"), 1u);
  EXPECT_NE(log().find("still running after 0.5 s; killing it"), std::string::npos) << log();
}

}  // namespace
}  // namespace lvsd::daemon
