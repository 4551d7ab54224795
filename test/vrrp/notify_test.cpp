// Notify commands and the notify FIFO, with real commands, a real FIFO and a real user switch.
#include "lvsd/vrrp/notify.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lvsd::vrrp {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// A directory anyone may write to, for the commands that run as nobody.
class Scratch {
 public:
  Scratch() {
    char name[] = "/tmp/lvsd-notify-XXXXXX";
    dir_ = ::mkdtemp(name);
    ::chmod(dir_.c_str(), 0777);
  }
  ~Scratch() { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  std::string read(const std::string& file) const {
    std::ifstream in(path(file));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string dir_;
};

// Runs the context until `done` or two seconds.
template <typename Done>
bool run_until(asio::io_context& io, Done done) {
  const auto end = std::chrono::steady_clock::now() + 2s;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(10ms);
    io.restart();
  }
  return done();
}

NotifyEvent instance(std::string state, std::uint8_t priority = 100) {
  return {.subject = Subject::Instance, .name = "VI_1", .state = std::move(state), .priority = priority};
}

TEST(NotifyCommands, PerStateCommandsAsWrittenTheGenericOneWithKeepalivedsFourWords) {
  model::Notify n{.master = "systemctl start x", .backup = "/bin/down", .any = "/usr/local/bin/any"};
  const auto commands = notify_commands(n, instance("MASTER", 150));
  ASSERT_EQ(commands.size(), 2u);
  const std::string exports =
      "export LVSD_SUBJECT=\"${1}\" LVSD_NAME=\"${2}\" LVSD_STATE=\"${3}\" LVSD_PRIORITY=\"${4}\"; shift 4; ";
  EXPECT_EQ(commands[0], (std::vector<std::string>{"/bin/sh", "-c", exports + "systemctl start x", "systemctl start x",
                                                   "INSTANCE", "VI_1", "MASTER", "150"}));
  EXPECT_EQ(commands[1],
            (std::vector<std::string>{"/bin/sh", "-c", exports + "/usr/local/bin/any \"$@\"", "/usr/local/bin/any",
                                      "INSTANCE", "VI_1", "MASTER", "150", "INSTANCE", "VI_1", "MASTER", "150"}));
  // A group has no priority; a state without a command runs only `notify`.
  const auto group = notify_commands(n, {.subject = Subject::Group, .name = "G1", .state = "FAULT"});
  ASSERT_EQ(group.size(), 1u);
  EXPECT_EQ(group[0], (std::vector<std::string>{"/bin/sh", "-c",
                                                "export LVSD_SUBJECT=\"${1}\" LVSD_NAME=\"${2}\" LVSD_STATE=\"${3}\"; "
                                                "shift 3; /usr/local/bin/any \"$@\"",
                                                "/usr/local/bin/any", "GROUP", "G1", "FAULT", "GROUP", "G1", "FAULT"}));
  EXPECT_TRUE(notify_commands(model::Notify{}, instance("STOP")).empty());
  EXPECT_EQ(notify_commands(model::Notify{.stop = "s"}, instance("STOP")).size(), 1u);
}

TEST(NotifyCommands, FifoLinesInKeepalivedsFormat) {
  EXPECT_EQ(fifo_line(instance("MASTER", 100)), "INSTANCE \"VI_1\" MASTER 100\n");
  EXPECT_EQ(fifo_line({.subject = Subject::Group, .name = "G1", .state = "BACKUP"}), "GROUP \"G1\" BACKUP\n");
  EXPECT_EQ(state_word(State::Init), "STOP");
  EXPECT_EQ(state_word(State::Fault), "FAULT");
}

TEST(Notifier, TheEventReachesTheCommandUnreadByTheShell) {
  Scratch dir;
  asio::io_context io;
  Notifier notifier(io.get_executor(), {.script_user = "nobody"}, {});
  const std::string out = dir.path("args");
  // A name with a quote, a space and a $: the shell must not read it.
  const NotifyEvent event{.subject = Subject::Instance, .name = "it's a $HOME", .state = "MASTER", .priority = 7};
  notifier.notify({.master = "printf '%s|' \"$LVSD_NAME\" $LVSD_STATE $LVSD_PRIORITY \"$#\" >>" + out,
                   .any = "printf '%s|' >>" + out},
                  event);
  notifier.conflict({.conflict = "printf '%s|' \"$LVSD_NAME\" $LVSD_STATE $LVSD_ADDRESS $LVSD_MAC >>" + out},
                    event.name, "192.0.2.1", "02:00:00:00:00:01");
  ASSERT_TRUE(run_until(io, [&] { return notifier.pending() == 0; }));
  EXPECT_EQ(dir.read("args"),
            "it's a $HOME|MASTER|7|0|"            // notify_master: no arguments
            "INSTANCE|it's a $HOME|MASTER|7|"     // notify: keepalived's four
            "it's a $HOME|CONFLICT|192.0.2.1|02:00:00:00:00:01|");
  EXPECT_EQ(notifier.counters().commands_run, 3u);
}

TEST(Notifier, OneSubjectsCommandsRunInOrderAsTheScriptUser) {
  Scratch dir;
  asio::io_context io;
  Notifier notifier(io.get_executor(), {.script_user = "nobody"}, {});
  const std::string out = dir.path("order");
  // The first command is the slowest: a second one started beside it would write first.
  model::Notify n{.master = "sleep 0.2; echo master $(id -un) >>" + out, .backup = "echo backup >>" + out,
                  .fault = "echo fault >>" + out};
  notifier.notify(n, instance("MASTER"));
  notifier.notify(n, instance("BACKUP"));
  notifier.notify(n, instance("FAULT"));
  EXPECT_EQ(notifier.pending(), 3u);
  ASSERT_TRUE(run_until(io, [&] { return notifier.pending() == 0; }));
  EXPECT_EQ(dir.read("order"), "master nobody\nbackup\nfault\n");
  EXPECT_EQ(notifier.counters().commands_run, 3u);
  EXPECT_EQ(notifier.counters().commands_failed, 0u);
}

TEST(Notifier, DifferentSubjectsRunSideBySide) {
  Scratch dir;
  asio::io_context io;
  Notifier notifier(io.get_executor(), {.script_user = "nobody"}, {});
  const std::string out = dir.path("side");
  notifier.notify({.master = "sleep 0.3; echo slow >>" + out}, instance("MASTER"));
  notifier.notify({.master = "echo fast >>" + out}, {.subject = Subject::Instance, .name = "VI_2", .state = "MASTER"});
  ASSERT_TRUE(run_until(io, [&] { return notifier.pending() == 0; }));
  EXPECT_EQ(dir.read("side"), "fast\nslow\n");
}

TEST(Notifier, AHangingCommandIsKilledAtItsTimeoutAndTheNextRuns) {
  Scratch dir;
  asio::io_context io;
  std::vector<std::string> log;
  Notifier notifier(io.get_executor(), {.script_user = "nobody", .command_timeout = 150ms},
                    [&](std::string_view line) { log.emplace_back(line); });
  const std::string out = dir.path("after");
  const auto started = std::chrono::steady_clock::now();
  notifier.notify({.master = "echo starting; sleep 30", .backup = "exit 3", .fault = "echo ran >>" + out},
                  instance("MASTER"));
  notifier.notify({.backup = "exit 3"}, instance("BACKUP"));
  notifier.notify({.fault = "echo ran >>" + out}, instance("FAULT"));
  ASSERT_TRUE(run_until(io, [&] { return notifier.pending() == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  EXPECT_EQ(dir.read("after"), "ran\n");
  EXPECT_EQ(notifier.counters().commands_failed, 2u);
  EXPECT_EQ(notifier.counters().commands_run, 1u);
  const auto has = [&](std::string_view text) {
    for (const auto& l : log)
      if (l.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("notify echo starting; sleep 30: starting")) << "the command's output, in the log";
  EXPECT_TRUE(has("notify command failed: echo starting; sleep 30: timeout after 150 ms"));
  EXPECT_TRUE(has("notify command failed: exit 3: exit 3"));
}

TEST(Notifier, StopKillsTheRunningCommandAndDropsTheQueue) {
  Scratch dir;
  asio::io_context io;
  Notifier notifier(io.get_executor(), {.script_user = "nobody"}, {});
  const std::string out = dir.path("never");
  notifier.notify({.master = "sleep 30"}, instance("MASTER"));
  notifier.notify({.backup = "echo x >>" + out}, instance("BACKUP"));
  io.run_for(100ms);
  io.restart();
  const auto started = std::chrono::steady_clock::now();
  notifier.stop();
  ASSERT_TRUE(run_until(io, [&] { return notifier.pending() == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  io.run_for(100ms);
  EXPECT_FALSE(std::filesystem::exists(out));
  notifier.notify({.master = "echo x >>" + out}, instance("MASTER"));  // nothing after stop
  io.restart();
  io.run_for(200ms);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Notifier, FifoIsCreatedAndGetsEveryLineWhileSomeoneReads) {
  std::signal(SIGPIPE, SIG_IGN);  // what the VRRP process does: a reader leaving is an error, not a death
  Scratch dir;
  asio::io_context io;
  const std::string fifo = dir.path("events");
  Notifier notifier(io.get_executor(), {.fifo_path = fifo}, {});
  // Nobody reads yet: the FIFO is made, the line dropped and counted, nothing blocks.
  notifier.notify({}, instance("BACKUP"));
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(notifier.counters().fifo_dropped, 1u);

  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  notifier.notify({}, instance("MASTER", 120));
  notifier.notify({}, {.subject = Subject::Group, .name = "G1", .state = "MASTER"});
  char buffer[256];
  const auto n = ::read(reader, buffer, sizeof buffer);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "INSTANCE \"VI_1\" MASTER 120\nGROUP \"G1\" MASTER\n");
  EXPECT_EQ(notifier.counters().fifo_lines, 2u);

  // The reader leaves, a new one comes: the next line after the failed one reaches it.
  ::close(reader);
  notifier.notify({}, instance("FAULT"));
  EXPECT_EQ(notifier.counters().fifo_dropped, 2u);
  const int second = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  notifier.notify({}, instance("BACKUP"));
  const auto m = ::read(second, buffer, sizeof buffer);
  ASSERT_GT(m, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(m)), "INSTANCE \"VI_1\" BACKUP 100\n");
  ::close(second);
}

TEST(Notifier, AReaderThatDoesNotKeepUpLosesLinesNotTheWriter) {
  std::signal(SIGPIPE, SIG_IGN);
  Scratch dir;
  asio::io_context io;
  const std::string fifo = dir.path("slow");
  ::mkfifo(fifo.c_str(), 0600);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  Notifier notifier(io.get_executor(), {.fifo_path = fifo}, {});
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i) notifier.notify({}, instance("MASTER"));  // 140 KB, more than a pipe holds
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_GT(notifier.counters().fifo_dropped, 0u);
  EXPECT_GT(notifier.counters().fifo_lines, 0u);
  EXPECT_EQ(notifier.counters().fifo_lines + notifier.counters().fifo_dropped, 5000u);
  ::close(reader);
}

TEST(Notifier, AFifoPathThatIsAFileIsRefusedOnce) {
  Scratch dir;
  asio::io_context io;
  std::vector<std::string> log;
  const std::string file = dir.path("plain");
  std::ofstream(file) << "x";
  Notifier notifier(io.get_executor(), {.fifo_path = file}, [&](std::string_view line) { log.emplace_back(line); });
  notifier.notify({}, instance("MASTER"));
  notifier.notify({}, instance("BACKUP"));
  EXPECT_EQ(notifier.counters().fifo_dropped, 2u);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "notify_fifo " + file + ": not a FIFO");
  EXPECT_EQ(dir.read("plain"), "x");
}

}  // namespace
}  // namespace lvsd::vrrp
