// The sync group's rules as a pure decision, then two directors in network namespaces, each
// with two instances on two links in one group.
#include "lvsd/vrrp/sync_group.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "lvsd/vrrp/addresses.hpp"
#include "support/netns.hpp"

namespace lvsd::vrrp {

// Readable failures: gtest finds these by ADL. Static: the test binary links other files'
// helpers of this namespace.
static void PrintTo(const SyncOrder& o, std::ostream* os) {
  *os << "{" << (o.fault ? " fault" : "") << (o.hold ? " hold" : "") << (o.yield ? " yield" : "") << " }";
}

namespace {

namespace asio = boost::asio;
using lvsd::testing::Entered;
using lvsd::testing::OtherNetns;
using namespace std::chrono_literals;
using Ms = std::chrono::duration<double, std::milli>;
using Changes = std::vector<std::pair<State, State>>;

const SyncMember kMaster{.state = State::Master, .ready = true};
const SyncMember kReadyBackup{.state = State::Backup, .ready = true};
const SyncMember kBackup{.state = State::Backup};  // hears a master
const SyncMember kInit{};

constexpr SyncOrder kHold{.hold = true};
constexpr SyncOrder kFree{.hold = false};
constexpr SyncOrder kYield{.hold = true, .yield = true};
constexpr SyncOrder kFault{.fault = true, .hold = true};

TEST(SyncOrders, NoMemberGoesMasterUntilEveryMemberIsReady) {
  EXPECT_EQ(sync_orders({kReadyBackup, kBackup}), (std::vector<SyncOrder>{kHold, kHold}));
  EXPECT_EQ(sync_orders({kBackup, kBackup}), (std::vector<SyncOrder>{kHold, kHold}));
  EXPECT_EQ(sync_orders({kReadyBackup, kReadyBackup, kInit}), (std::vector<SyncOrder>{kHold, kHold, kHold}));
}

TEST(SyncOrders, TheLastMemberReadyReleasesThemAll) {
  EXPECT_EQ(sync_orders({kReadyBackup, kReadyBackup}), (std::vector<SyncOrder>{kFree, kFree}));
  // Halfway through a release: the ready one is about to follow, nobody yields.
  EXPECT_EQ(sync_orders({kMaster, kReadyBackup}), (std::vector<SyncOrder>{kFree, kFree}));
  EXPECT_EQ(sync_orders({kMaster, kMaster}), (std::vector<SyncOrder>{kFree, kFree}));
}

TEST(SyncOrders, AMemberThatLeftMasterMakesTheMastersYield) {
  EXPECT_EQ(sync_orders({kMaster, kBackup}), (std::vector<SyncOrder>{kYield, kHold}));
  EXPECT_EQ(sync_orders({kMaster, kBackup, kMaster}), (std::vector<SyncOrder>{kYield, kHold, kYield}));
  // A member stopped, or not started yet, is not master either.
  EXPECT_EQ(sync_orders({kInit, kMaster}), (std::vector<SyncOrder>{kHold, kYield}));
}

TEST(SyncOrders, AYieldedMemberWhoseTimerRanOutStaysHeld) {
  EXPECT_EQ(sync_orders({kBackup, kReadyBackup}), (std::vector<SyncOrder>{kHold, kHold}));
}

TEST(SyncOrders, OneMembersFaultFaultsThemAllUntilNoneFaults) {
  SyncMember faulty = kMaster;
  faulty.fault = true;
  // Masters leave through set_fault (priority 0 there), not through a yield.
  EXPECT_EQ(sync_orders({faulty, kMaster}), (std::vector<SyncOrder>{kFault, kFault}));
  const SyncMember in_fault{.state = State::Fault};
  EXPECT_EQ(sync_orders({in_fault, SyncMember{.state = State::Fault, .fault = true}}),
            (std::vector<SyncOrder>{kFault, kFault}));
  // No own fault left: out of fault, held, as backups that must first hear no master.
  EXPECT_EQ(sync_orders({in_fault, in_fault}), (std::vector<SyncOrder>{kHold, kHold}));
}

TEST(SyncState, FaultThenInitThenMasterIfAllElseBackup) {
  const SyncMember in_fault{.state = State::Fault};
  EXPECT_EQ(sync_state({kMaster, in_fault, kInit}), State::Fault);
  EXPECT_EQ(sync_state({kMaster, kInit}), State::Init);
  EXPECT_EQ(sync_state({kInit, kInit}), State::Init);
  EXPECT_EQ(sync_state({kMaster, kMaster}), State::Master);
  EXPECT_EQ(sync_state({kMaster, kReadyBackup}), State::Backup);
  EXPECT_EQ(sync_state({kBackup, kBackup}), State::Backup);
}

// ---- Two directors, two links, one group on each ----

bool run(const std::string& command) { return lvsd::testing::NetnsScope::run(command); }

model::VirtualIp vip(std::string_view text) { return model::VirtualIp{.prefix = *model::Prefix::parse(text)}; }

// The public address (VI_PUB, VRID 51, first link) and the real servers' gateway (VI_GW,
// VRID 52, second link) of a NAT director.
const std::array<model::VirtualIp, 2> kVips = {vip("10.9.0.100/24"), vip("10.9.1.100/24")};

model::VrrpInstance config(std::size_t member, std::string_view interface, std::uint8_t priority) {
  model::VrrpInstance c;
  c.name = member == 0 ? "VI_PUB" : "VI_GW";
  c.interface = std::string(interface);
  c.vrid = member == 0 ? 51 : 52;
  c.priority = priority;
  c.version = 3;
  c.advert_interval = model::Millis{100};
  c.virtual_ips = {kVips[member]};
  c.garp_master_repeat = 1;
  return c;
}

Ms skew(std::uint8_t priority) { return Ms(100) * (256 - priority) / 256.0; }
Ms master_down(std::uint8_t priority) { return 3 * Ms(100) + skew(priority); }

struct Director {
  const OtherNetns* ns = nullptr;  // null: the test's own namespace
  std::array<std::string, 2> interfaces;
  std::array<std::optional<Runner>, 2> runners;
  std::optional<SyncGroup> group;
  std::array<Changes, 2> changes;
  Changes group_changes;
  std::vector<std::string> log;
  std::optional<AddressManager> addresses;

  bool holds(std::size_t member) {
    auto r = addresses->has(kVips[member], interfaces[member]);
    return r && *r;
  }
  bool holds_both() { return holds(0) && holds(1); }
  bool holds_none() { return !holds(0) && !holds(1); }
  State state(std::size_t member) const { return runners[member]->state(); }
  bool logged(const std::string& line) const { return std::find(log.begin(), log.end(), line) != log.end(); }
};

// Director 1 in the test's namespace (v0 10.9.0.1, v2 10.9.1.1), director 2 in its own (v1
// 10.9.0.2, v3 10.9.1.2); v0-v1 is the first link, v2-v3 the second.
class SyncGroups : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!d1_ns_.ok() || !d2_ns_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    for (int link = 0; link < 2; ++link) {
      const std::string here = "v" + std::to_string(2 * link), there = "v" + std::to_string(2 * link + 1);
      const std::string net = "10.9." + std::to_string(link) + ".";
      ASSERT_TRUE(run("ip link add " + here + " type veth peer name " + there + " && ip link set " + there +
                      " netns " + d2_ns_.path() + " && ip addr add " + net + "1/24 dev " + here + " && ip link set " +
                      here + " up"));
      {
        Entered in(&d2_ns_);
        ASSERT_TRUE(run("ip link set lo up && ip addr add " + net + "2/24 dev " + there + " && ip link set " + there +
                        " up"));
        // Until the carrier is seen the queue is noop, and drops what is sent.
        ASSERT_TRUE(eventually_shell("ip link show " + there + " | grep -q 'qdisc noqueue'"));
      }
      ASSERT_TRUE(eventually_shell("ip link show " + here + " | grep -q 'qdisc noqueue'"));
    }
    d1_.interfaces = {"v0", "v2"};
    d2_.ns = &d2_ns_;
    d2_.interfaces = {"v1", "v3"};
    for (Director* d : {&d1_, &d2_}) {
      Entered in(d->ns);
      auto m = AddressManager::open();
      ASSERT_TRUE(m) << m.error();
      d->addresses.emplace(std::move(*m));
    }
  }

  static bool eventually_shell(const std::string& command) { return lvsd::testing::eventually_shell(command); }

  // Both runners opened in the director's namespace, the group built on them, then the
  // runners started.
  void start(Director& d, std::uint8_t priority) {
    for (std::size_t i = 0; i < 2; ++i) {
      Entered in(d.ns);
      auto r = Runner::open(
          io_.get_executor(), config(i, d.interfaces[i], priority),
          [&d](std::string_view line) { d.log.emplace_back(line); },
          [&d, i](State from, State to) {
            d.changes[i].emplace_back(from, to);
            if (d.group) d.group->on_state(i, from, to);
          });
      ASSERT_TRUE(r) << r.error();
      d.runners[i].emplace(std::move(*r));
    }
    d.group.emplace(
        io_.get_executor(), "VG_1", std::vector<Runner*>{&*d.runners[0], &*d.runners[1]},
        [&d](std::string_view line) { d.log.emplace_back(line); },
        [&d](State from, State to) { d.group_changes.emplace_back(from, to); });
    Entered in(d.ns);
    for (auto& r : d.runners) r->start();
  }

  // Both VIPs of the group on different directors: what a group exists to prevent. A VIP
  // held nowhere, or on both directors for a moment while the other director has both, is
  // not a split.
  bool split() {
    const std::array<bool, 2> one = {d1_.holds(0), d1_.holds(1)};
    const std::array<bool, 2> two = {d2_.holds(0), d2_.holds(1)};
    const auto has_all_held = [&](const std::array<bool, 2>& d) {
      return (d[0] || !(one[0] || two[0])) && (d[1] || !(one[1] || two[1]));
    };
    return !has_all_held(one) && !has_all_held(two);
  }
  void check_split() {
    ++samples_;
    if (split()) ++splits_;
  }

  // Runs the loop until `done` holds or `limit` passes; true when it held. The VIPs only
  // change inside the loop's handlers (every runner is on this thread), so a check after each
  // handler sees every state the kernel's tables went through.
  bool until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      if (io_.run_one_for(1ms) > 0) check_split();
    }
    return true;
  }
  // Its own until(), so the split check runs after every handler here too.
  bool throughout(const std::function<bool()>& holds, std::chrono::steady_clock::duration span) {
    return !until([&] { return !holds(); }, span);
  }

  // Director 1 (200) master of both, director 2 (100) backup of both, each backup having heard
  // its master.
  bool settled(Director& master, Director& backup) {
    return until([&] {
      return master.group->state() == State::Master && master.holds_both() &&
             backup.group->state() == State::Backup && backup.holds_none() &&
             backup.runners[0]->counters().adverts_received >= 2 && backup.runners[1]->counters().adverts_received >= 2;
    });
  }

  // Nothing changes for `span`: the same holder of both VIPs, the same states, no new change.
  bool steady(Director& master, Director& backup, std::chrono::steady_clock::duration span) {
    const auto before = std::make_pair(master.changes, backup.changes);
    return throughout(
        [&] {
          return master.holds_both() && backup.holds_none() && std::make_pair(master.changes, backup.changes) == before;
        },
        span);
  }

  void TearDown() override {
    if (samples_ > 0) std::printf("%d split checks, %d splits\n", samples_, splits_);
    EXPECT_EQ(splits_, 0);
  }

  asio::io_context io_;
  lvsd::testing::NetnsScope d1_ns_;
  OtherNetns d2_ns_;
  Director d1_;
  Director d2_;
  int samples_ = 0;
  int splits_ = 0;
};

TEST_F(SyncGroups, TheHigherPriorityDirectorHoldsBothVips) {
  start(d1_, 200);
  start(d2_, 100);
  ASSERT_TRUE(settled(d1_, d2_));
  EXPECT_TRUE(steady(d1_, d2_, 500ms));
  EXPECT_EQ(d1_.group_changes, (Changes{{State::Init, State::Backup}, {State::Backup, State::Master}}));
  EXPECT_EQ(d2_.group_changes, (Changes{{State::Init, State::Backup}}));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(d1_.changes[i], (Changes{{State::Init, State::Backup}, {State::Backup, State::Master}}));
    EXPECT_EQ(d2_.changes[i], (Changes{{State::Init, State::Backup}}));
    EXPECT_FALSE(d2_.runners[i]->ready());  // each hears its master
  }
  EXPECT_EQ(d1_.log, std::vector<std::string>{});
  EXPECT_EQ(d2_.log, std::vector<std::string>{});
}

TEST_F(SyncGroups, AFaultOnOneMemberMovesBothVips) {
  start(d1_, 200);
  start(d2_, 100);
  ASSERT_TRUE(settled(d1_, d2_));
  const auto faulted = std::chrono::steady_clock::now();
  d1_.group->set_fault(1, true);  // only the gateway's trackers fail
  check_split();
  EXPECT_EQ(d1_.state(0), State::Fault);
  EXPECT_EQ(d1_.state(1), State::Fault);
  EXPECT_EQ(d1_.group->state(), State::Fault);
  EXPECT_TRUE(d1_.holds_none());
  ASSERT_TRUE(until([&] { return d2_.holds_both(); }));
  const Ms took = std::chrono::steady_clock::now() - faulted;
  std::printf("one member's fault -> the other director holds both VIPs: %.1f ms (skew %.1f ms)\n", took.count(),
              skew(100).count());
  // The priority-0 adverts: the skew and two turns of the loop, far below the master-down
  // interval (361 ms) that director 2 would wait without them.
  EXPECT_LT(took, skew(100) + Ms(150));
  EXPECT_TRUE(steady(d2_, d1_, 500ms));
  EXPECT_EQ(d1_.log, (std::vector<std::string>{"VG_1: VI_GW faults: every member goes to FAULT"}));
  d1_.group->set_fault(1, false);
  EXPECT_EQ(d1_.group->state(), State::Backup);
  ASSERT_TRUE(settled(d1_, d2_));
  EXPECT_TRUE(steady(d1_, d2_, 500ms));
  EXPECT_EQ(d1_.group_changes, (Changes{{State::Init, State::Backup},
                                        {State::Backup, State::Master},
                                        {State::Master, State::Fault},
                                        {State::Fault, State::Backup},
                                        {State::Backup, State::Master}}));
  EXPECT_EQ(d2_.group_changes,
            (Changes{{State::Init, State::Backup}, {State::Backup, State::Master}, {State::Master, State::Backup}}));
  EXPECT_EQ(d1_.log.back(), "VG_1: VI_GW no longer faults, nor any other member: every member leaves FAULT");
}

// The second link loses its VRRP traffic (its end in director 2 goes down): director 2's
// gateway instance hears no master there, but its public one still hears director 1's, so
// the group stays backup instead of taking the gateway address alone.
TEST_F(SyncGroups, LostAdvertsOnOneLinkNeverSplitTheVipsNorMakeThemFlap) {
  start(d1_, 200);
  start(d2_, 100);
  ASSERT_TRUE(settled(d1_, d2_));
  {
    Entered in(&d2_ns_);
    ASSERT_TRUE(run("ip link set v3 down"));
  }
  ASSERT_TRUE(until([&] { return d2_.runners[1]->ready(); }));
  EXPECT_TRUE(steady(d1_, d2_, 1500ms));
  EXPECT_FALSE(d2_.runners[0]->ready());
  EXPECT_EQ(d2_.group->state(), State::Backup);

  // Director 1 faults: director 2's public instance hears its priority 0; the gateway one was
  // ready already, so director 2 takes both.
  d1_.group->set_fault(0, true);
  ASSERT_TRUE(until([&] { return d2_.holds_both() && d1_.holds_none(); }));
  EXPECT_TRUE(steady(d2_, d1_, 500ms));

  // Back: director 1 preempts on the first link and hears nobody on the second, so it takes
  // both; director 2's public instance hears it and steps down, and its gateway instance,
  // which hears nothing on its dead link, yields with it.
  d1_.group->set_fault(0, false);
  ASSERT_TRUE(until([&] { return d1_.holds_both() && d2_.holds_none(); }));
  EXPECT_EQ(d2_.group->state(), State::Backup);
  EXPECT_TRUE(d2_.logged("VG_1: VI_GW yields, since VI_PUB (BACKUP) is not master"));
  EXPECT_TRUE(steady(d1_, d2_, 1s));
  EXPECT_EQ(d2_.changes[1], (Changes{{State::Init, State::Backup},
                                     {State::Backup, State::Master},
                                     {State::Master, State::Backup}}));
}

// Director 1's public instance loses 150 priority (a tracker's weight): through the group
// both of its instances advertise 50, director 2's preempt on both links, and both VIPs move.
TEST_F(SyncGroups, APriorityDropOnOneMemberMovesBothVips) {
  start(d1_, 200);
  start(d2_, 100);
  ASSERT_TRUE(settled(d1_, d2_));
  const auto lowered = std::chrono::steady_clock::now();
  d1_.group->set_priority_delta(0, -150);
  ASSERT_TRUE(until([&] { return d2_.holds_both() && d1_.holds_none(); }));
  const Ms took = std::chrono::steady_clock::now() - lowered;
  std::printf("priority drop -> the other director holds both VIPs: %.1f ms\n", took.count());
  // The next advert carries 50; director 2's timers were restarted by the one before.
  EXPECT_LT(took, Ms(100) + master_down(100) + Ms(50));
  EXPECT_EQ(d1_.group->state(), State::Backup);
  EXPECT_TRUE(steady(d2_, d1_, 500ms));
  d1_.group->set_priority_delta(0, 0);
  ASSERT_TRUE(settled(d1_, d2_));
  EXPECT_TRUE(steady(d1_, d2_, 500ms));
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(d2_.changes[i], (Changes{{State::Init, State::Backup},
                                       {State::Backup, State::Master},
                                       {State::Master, State::Backup}}));
  }
}

}  // namespace
}  // namespace lvsd::vrrp
