// Two directors' VRRP nodes in two network namespaces joined by a veth pair: trackers, the
// instance's own link, an interface that appears late, notify commands and the FIFO.
#include "lvsd/vrrp/node.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lvsd/vrrp/addresses.hpp"
#include "support/loop.hpp"
#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {
namespace asio = boost::asio;
using lvsd::testing::Entered;
using lvsd::testing::NetnsScope;
using lvsd::testing::OtherNetns;
using namespace std::chrono_literals;

bool run(const std::string& command) { return NetnsScope::run(command); }

model::VirtualIp vip(std::string_view text) { return model::VirtualIp{.prefix = *model::Prefix::parse(text)}; }

// A weight-0 tracker: its failure is FAULT.
template <typename What>
model::Tracker tracker(What what) {
  return model::Tracker{std::move(what), 0};
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A directory the script user (nobody) may write to.
struct Scratch {
  Scratch() {
    char name[] = "/tmp/lvsd-node-XXXXXX";
    dir = ::mkdtemp(name);
    ::chmod(dir.c_str(), 0777);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::string path(const std::string& file) const { return dir + "/" + file; }
  std::string dir;
};

model::VrrpInstance instance(std::string interface, std::uint8_t priority) {
  model::VrrpInstance c;
  c.name = "VI_1";
  c.interface = std::move(interface);
  c.vrid = 52;
  c.priority = priority;
  c.advert_interval = model::Millis{100};
  c.virtual_ips = {vip("10.8.0.100/24")};
  c.garp_master_repeat = 1;
  return c;
}

struct Director {
  const OtherNetns* ns = nullptr;  // null: the test's namespace
  std::string interface;
  std::optional<Node> node;
  std::vector<std::string> log;
  std::optional<AddressManager> addresses;

  bool holds() {
    auto r = addresses->has(vip("10.8.0.100/24"), interface);
    return r && *r;
  }
  State state() const { return node->status().at(0).state; }
  bool said(std::string_view text) const {
    for (const auto& l : log)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

// Director A in the test's namespace (n0, 10.8.0.1), B in its own (n1, 10.8.0.2).
class Nodes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    if (!a_ns_.ok() || !b_ns_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    ASSERT_TRUE(run("ip link add n0 type veth peer name n1 && ip link set n1 netns " + b_ns_.path() +
                    " && ip addr add 10.8.0.1/24 dev n0 && ip link set n0 up"));
    {
      Entered in(&b_ns_);
      ASSERT_TRUE(run("ip link set lo up && ip addr add 10.8.0.2/24 dev n1 && ip link set n1 up"));
    }
    a_.interface = "n0";
    b_.ns = &b_ns_;
    b_.interface = "n1";
    for (Director* d : {&a_, &b_}) {
      Entered in(d->ns);
      auto m = AddressManager::open();
      ASSERT_TRUE(m) << m.error().text;
      d->addresses.emplace(std::move(*m));
    }
  }
  void TearDown() override {
    for (Director* d : {&a_, &b_})
      if (d->node) d->node->stop();
    until([&] { return (!a_.node || a_.node->running() == 0) && (!b_.node || b_.node->running() == 0); }, 3s);
    a_.node.reset();
    b_.node.reset();
  }

  void start(Director& d, model::Desired desired) {
    Entered in(d.ns);
    d.node.emplace(io_.get_executor(), desired, [&d](std::string_view line) { d.log.emplace_back(line); },
                   Node::Options{.retry_open = model::Millis{200}, .command_timeout = model::Millis{5000}});
    d.node->start();
  }
  static model::Desired one(model::VrrpInstance i) {
    model::Desired d;
    d.vrrp_instances.push_back(std::move(i));
    return d;
  }

  bool until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit = 5s) {
    return lvsd::testing::run_until(io_, done, limit);
  }
  void run_for(std::chrono::steady_clock::duration d) { until([] { return false; }, d); }

  NetnsScope a_ns_;
  OtherNetns b_ns_;
  asio::io_context io_;
  Director a_, b_;
  Scratch scratch_;
};

TEST_F(Nodes, ElectionRunsNotifyCommandsAndWritesTheFifo) {
  const std::string fifo = scratch_.path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto a = instance("n0", 200);
  a.notify.master = "echo \"$LVSD_NAME master $(id -un)\" >>" + scratch_.path("a");
  a.notify.backup = "echo backup >>" + scratch_.path("a");
  auto desired = one(a);
  desired.vrrp.notify_fifo = fifo;
  desired.globals.script_user = "nobody";
  start(a_, desired);
  auto b = instance("n1", 100);
  b.notify.backup = "echo backup >>" + scratch_.path("b");
  b.notify.master = "echo master >>" + scratch_.path("b");
  start(b_, one(b));

  ASSERT_TRUE(until([&] { return a_.holds() && a_.node->running() == 0 && read(scratch_.path("a")).size() > 0; }));
  ASSERT_TRUE(until([&] { return read(scratch_.path("a")) == "backup\nVI_1 master nobody\n"; }))
      << read(scratch_.path("a"));
  ASSERT_TRUE(until([&] { return read(scratch_.path("b")) == "backup\n"; })) << read(scratch_.path("b"));
  run_for(300ms);
  EXPECT_FALSE(b_.holds());
  EXPECT_EQ(b_.state(), State::Backup);
  EXPECT_EQ(read(scratch_.path("b")), "backup\n");
  char buffer[256];
  const auto n = ::read(reader, buffer, sizeof buffer);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), "INSTANCE \"VI_1\" BACKUP 200\nINSTANCE \"VI_1\" MASTER 200\n");
  EXPECT_TRUE(a_.said("VI_1: BACKUP -> MASTER"));
  EXPECT_EQ(a_.node->notify_counters().fifo_lines, 2u);
  ::close(reader);
}

TEST_F(Nodes, ATrackerFaultMovesTheVipAndItsRecoveryBringsItBack) {
  const std::string weight = scratch_.path("weight");
  std::ofstream(weight) << "1\n";
  auto a = instance("n0", 200);
  a.trackers = {tracker(model::TrackFile{weight})};
  a.notify.fault = "echo fault >>" + scratch_.path("a");
  start(a_, one(a));
  start(b_, one(instance("n1", 100)));
  ASSERT_TRUE(until([&] { return a_.holds(); }));
  // The file's first read decided at once: no FAULT at start.
  EXPECT_FALSE(a_.said("FAULT"));

  std::ofstream(weight) << "0\n";  // read within file_interval (1 s)
  ASSERT_TRUE(until([&] { return b_.holds(); }, 3s));
  EXPECT_FALSE(a_.holds());
  EXPECT_EQ(a_.state(), State::Fault);
  const auto status = a_.node->status().at(0);
  EXPECT_TRUE(status.fault);
  EXPECT_EQ(status.reason, "track_file " + weight + ": value 0");
  EXPECT_TRUE(a_.said("VI_1: MASTER -> FAULT (track_file " + weight + ": value 0)")) << ::testing::PrintToString(a_.log);
  ASSERT_TRUE(until([&] { return read(scratch_.path("a")) == "fault\n"; }));

  std::ofstream(weight) << "1\n";
  ASSERT_TRUE(until([&] { return a_.holds() && !b_.holds(); }, 3s));  // preempt
  EXPECT_EQ(a_.state(), State::Master);
}

TEST_F(Nodes, TrackInterfaceAndTheInstancesOwnLinkPutItInFault) {
  ASSERT_TRUE(run("ip link add d0 type veth peer name d0p && ip link set d0p up && ip link set d0 up"));
  auto a = instance("n0", 200);
  a.trackers = {tracker(model::TrackInterface{"d0"})};
  start(a_, one(a));
  start(b_, one(instance("n1", 100)));
  ASSERT_TRUE(until([&] { return a_.holds(); }));

  ASSERT_TRUE(run("ip link set d0 down"));
  ASSERT_TRUE(until([&] { return b_.holds() && !a_.holds(); }, 2s));
  EXPECT_EQ(a_.node->status().at(0).reason, "track_interface d0: link down");
  ASSERT_TRUE(run("ip link set d0 up"));
  ASSERT_TRUE(until([&] { return a_.holds() && !b_.holds(); }, 2s));

  // Its own interface down: FAULT at once (nothing could be sent or heard on it).
  ASSERT_TRUE(run("ip link set n0 down"));
  ASSERT_TRUE(until([&] { return a_.state() == State::Fault; }, 2s));
  EXPECT_FALSE(a_.holds());
  EXPECT_EQ(a_.node->status().at(0).reason, "interface n0 down");
  EXPECT_TRUE(a_.said("VI_1: interface n0 down"));
  ASSERT_TRUE(run("ip link set n0 up"));
  ASSERT_TRUE(until([&] { return a_.state() == State::Master && a_.holds(); }, 3s));
}

TEST_F(Nodes, AnInstanceWhoseInterfaceComesLaterIsOpenedThen) {
  auto late = instance("n7", 150);
  late.name = "VI_late";
  late.vrid = 53;
  late.virtual_ips = {vip("10.7.0.100/24")};
  auto desired = one(instance("n0", 200));
  desired.vrrp_instances.push_back(late);
  start(a_, desired);
  ASSERT_TRUE(until([&] { return a_.holds(); }));  // the other instance is not held up
  const auto waiting = a_.node->status().at(1);
  EXPECT_FALSE(waiting.running);
  EXPECT_EQ(waiting.state, State::Init);
  EXPECT_EQ(waiting.reason, "VI_late: no IPv4 address on n7");
  run_for(500ms);
  int said = 0;
  for (const auto& l : a_.log) said += l.find("no IPv4 address on n7") != std::string::npos;
  EXPECT_EQ(said, 1) << "one log line, not one per retry";

  ASSERT_TRUE(run("ip link add n7 type veth peer name n7p && ip addr add 10.7.0.1/24 dev n7 && ip link set n7p up && ip link set n7 up"));
  ASSERT_TRUE(until([&] { return a_.node->status().at(1).state == State::Master; }, 5s));
  auto held = a_.addresses->has(vip("10.7.0.100/24"), "n7");
  EXPECT_TRUE(held && *held);
  EXPECT_TRUE(a_.said("VI_late: opened on n7"));
}

TEST_F(Nodes, StopGivesUpAtOnceAndRunsNotifyStop) {
  auto a = instance("n0", 200);
  a.notify.stop = "echo stop >>" + scratch_.path("a");
  start(a_, one(a));
  start(b_, one(instance("n1", 100)));
  ASSERT_TRUE(until([&] { return a_.holds(); }));
  run_for(200ms);
  const auto stopped = std::chrono::steady_clock::now();
  a_.node->stop();
  EXPECT_FALSE(a_.holds());
  ASSERT_TRUE(until([&] { return b_.holds(); }, 2s));
  // Priority 0: B takes over after its skew time (100 ms * 156/256), not Master_Down_Interval.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 250ms);
  ASSERT_TRUE(until([&] { return a_.node->running() == 0; }));
  EXPECT_EQ(read(scratch_.path("a")), "stop\n");
}

// Two instances per director on two links, in one sync group: a tracker fault on one member
// of the master moves both addresses, and the group's notify commands run for the group.
TEST_F(Nodes, ASyncGroupMovesItsAddressesTogether) {
  ASSERT_TRUE(run("ip link add m0 type veth peer name m1 && ip link set m1 netns " + b_ns_.path() +
                  " && ip addr add 10.6.0.1/24 dev m0 && ip link set m0 up"));
  {
    Entered in(&b_ns_);
    ASSERT_TRUE(run("ip addr add 10.6.0.2/24 dev m1 && ip link set m1 up"));
  }
  const std::string weight = scratch_.path("weight");
  std::ofstream(weight) << "1\n";
  const auto director = [&](const std::string& pub, const std::string& priv, std::uint8_t priority, bool tracked) {
    auto first = instance(pub, priority);
    first.name = "VI_PUB";
    if (tracked) first.trackers = {tracker(model::TrackFile{weight})};
    auto second = instance(priv, priority);
    second.name = "VI_PRIV";
    second.vrid = 54;
    second.virtual_ips = {vip("10.6.0.100/24")};
    model::Desired d;
    d.vrrp_instances = {first, second};
    d.sync_groups.push_back(model::SyncGroup{
        .name = "G1", .instances = {"VI_PUB", "VI_PRIV"}, .notify = {.master = "echo $LVSD_NAME >>" + scratch_.path(pub)}});
    d.globals.script_user = "nobody";
    return d;
  };
  start(a_, director("n0", "m0", 200, true));
  start(b_, director("n1", "m1", 100, false));
  const auto priv_held = [&](Director& d, const std::string& dev) {
    auto r = d.addresses->has(vip("10.6.0.100/24"), dev);
    return r && *r;
  };
  ASSERT_TRUE(until([&] { return a_.holds() && priv_held(a_, "m0"); })) << ::testing::PrintToString(a_.log);
  EXPECT_FALSE(b_.holds() || priv_held(b_, "m1"));
  ASSERT_TRUE(until([&] { return read(scratch_.path("n0")) == "G1\n"; })) << "the group's notify_master, once";

  std::ofstream(weight) << "0\n";  // VI_PUB's tracker fails: both of A's instances go
  ASSERT_TRUE(until([&] { return b_.holds() && priv_held(b_, "m1"); }, 3s)) << ::testing::PrintToString(b_.log);
  EXPECT_FALSE(a_.holds() || priv_held(a_, "m0"));
  EXPECT_EQ(a_.node->status().at(1).state, State::Fault) << "VI_PRIV, whose own trackers are fine";
  EXPECT_TRUE(a_.said("sync group G1: MASTER -> FAULT")) << ::testing::PrintToString(a_.log);
  ASSERT_TRUE(until([&] { return read(scratch_.path("n1")) == "G1\n"; }));

  std::ofstream(weight) << "1\n";
  ASSERT_TRUE(until([&] { return a_.holds() && priv_held(a_, "m0") && !b_.holds() && !priv_held(b_, "m1"); }, 3s));
}

}  // namespace
}  // namespace lvsd::vrrp
