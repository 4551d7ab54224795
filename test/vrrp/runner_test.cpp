// Runners in two network namespaces joined by a veth pair (real sockets, real VIPs), and a runner
// against keepalived 2.2.7.
#include "lvsd/vrrp/runner.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lvsd/vrrp/addresses.hpp"
#include "support/loop.hpp"
#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {
namespace asio = boost::asio;
using model::Family;
using model::IpAddress;
using lvsd::testing::Entered;
using lvsd::testing::OtherNetns;
using namespace std::chrono_literals;
using Ms = std::chrono::duration<double, std::milli>;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }
model::VirtualIp vip(std::string_view text) { return model::VirtualIp{.prefix = *model::Prefix::parse(text)}; }

bool run(const std::string& command) { return lvsd::testing::NetnsScope::run(command); }

// One director: its runner, what it reported, and a netlink socket of its namespace to ask
// whether it holds the VIP.
struct Director {
  const OtherNetns* ns = nullptr;  // null: the test's own namespace (A)
  std::string interface;
  std::optional<Runner> runner;
  std::vector<std::pair<State, State>> changes;
  std::vector<std::string> log;
  std::optional<AddressManager> addresses;

  bool holds(const model::VirtualIp& address) {
    auto r = addresses->has(address, interface);
    return r && *r;
  }
  // `ip addr` as an operator would read it, for the end states.
  bool ip_shows(const std::string& address) {
    Entered in(ns);
    return run("ip -o addr show dev " + interface + " | grep -q ' " + address + "/'");
  }
};

model::VrrpInstance config(std::string_view interface, std::uint8_t priority) {
  model::VrrpInstance c;
  c.name = "VI_1";
  c.interface = std::string(interface);
  c.vrid = 51;
  c.priority = priority;
  c.version = 3;
  c.advert_interval = model::Millis{100};
  c.virtual_ips = {vip("10.9.0.100/24")};
  c.garp_master_repeat = 1;
  return c;
}

// Master_Down_Interval's skew, as RFC 5798 6.1 defines it, for a v3 backup of `priority`.
Ms skew(std::uint8_t priority, Ms interval) { return interval * (256 - priority) / 256.0; }

// Director A (the test's namespace: v0, 10.9.0.1, fe80::1) and director B (its own: v1,
// 10.9.0.2, fe80::2), one veth pair between them; link-local addresses without DAD so the
// IPv6 sources are usable at once.
class Runners : public ::testing::Test {
 public:  // for helpers shared by tests
  void SetUp() override {
    if (!a_ns_.ok() || !b_ns_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    ASSERT_TRUE(lvsd::testing::director_link(b_ns_));
    a_.ns = nullptr;
    a_.interface = "v0";
    b_.ns = &b_ns_;
    b_.interface = "v1";
    for (Director* d : {&a_, &b_}) {
      Entered in(d->ns);
      auto m = AddressManager::open();
      ASSERT_TRUE(m) << m.error();
      d->addresses.emplace(std::move(*m));
    }
  }

  static bool eventually_shell(const std::string& command) { return lvsd::testing::eventually_shell(command); }

  // The runner opened inside the director's namespace, not started.
  void open(Director& d, const model::VrrpInstance& c) {
    d.changes.clear();
    d.log.clear();
    Entered in(d.ns);
    auto r = Runner::open(
        io_.get_executor(), c, [&d](std::string_view line) { d.log.emplace_back(line); },
        [&d](State from, State to) { d.changes.emplace_back(from, to); });
    ASSERT_TRUE(r) << r.error();
    d.runner.emplace(std::move(*r));
  }
  // The same, then started.
  void start(Director& d, const model::VrrpInstance& c) {
    open(d, c);
    if (::testing::Test::HasFatalFailure()) return;
    d.runner->start();
  }

  // Runs the loop until `done` holds or `limit` passes; true when it held.
  bool until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit = 5s) {
    return lvsd::testing::run_until(io_, done, limit);
  }
  // Runs the loop for `span` and says whether `holds` held all along (checked after every
  // handler): for "nothing changes" claims, a window of several advert intervals.
  bool throughout(const std::function<bool()>& holds, std::chrono::steady_clock::duration span) {
    return lvsd::testing::run_throughout(io_, holds, span);
  }

 protected:

  // A master (`master`) and a backup (`backup`) settled: the master holds the VIP, the backup
  // does not and has heard the master's adverts.
  bool settled(Director& master, Director& backup, const model::VirtualIp& address = vip("10.9.0.100/24")) {
    return until([&] {
      return master.runner && master.runner->state() == State::Master && master.holds(address) &&
             backup.runner && backup.runner->state() == State::Backup && !backup.holds(address) &&
             backup.runner->counters().adverts_received >= 2;
    });
  }

  asio::io_context io_;
  lvsd::testing::NetnsScope a_ns_;
  OtherNetns b_ns_;
  Director a_;
  Director b_;
};

const model::VirtualIp kVip = vip("10.9.0.100/24");

TEST_F(Runners, TheHigherPriorityBecomesMasterAndHoldsTheVip) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  EXPECT_TRUE(a_.ip_shows("10.9.0.100"));
  EXPECT_FALSE(b_.ip_shows("10.9.0.100"));
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}, {State::Backup, State::Master}}));
  EXPECT_EQ(b_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}}));
  EXPECT_EQ(a_.runner->counters().became_master, 1u);
  EXPECT_EQ(b_.runner->counters().became_master, 0u);
  EXPECT_EQ(a_.runner->primary(), ip("10.9.0.1"));
  EXPECT_EQ(b_.runner->primary(), ip("10.9.0.2"));
  EXPECT_EQ(a_.runner->edge_counters(), (RunnerCounters{.announcements = 1}));  // one VIP, repeat 1
  EXPECT_EQ(b_.runner->edge_counters(), RunnerCounters{});
  EXPECT_EQ(a_.log, std::vector<std::string>{});
  EXPECT_EQ(b_.log, std::vector<std::string>{});
}

TEST_F(Runners, StopHandsTheVipToTheBackupAfterItsSkew) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  const auto sent = std::chrono::steady_clock::now();
  a_.runner->stop();  // sends priority 0 and removes the VIP before it returns
  EXPECT_FALSE(a_.holds(kVip));
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  const Ms took = std::chrono::steady_clock::now() - sent;
  const Ms bound = 3 * Ms(100) + skew(100, Ms(100)) + Ms(50);
  std::printf("stop -> backup holds the VIP: %.1f ms (skew %.1f ms, bound %.1f ms)\n", took.count(),
              skew(100, Ms(100)).count(), bound.count());
  EXPECT_LT(took, bound);
  EXPECT_EQ(b_.runner->state(), State::Master);
  EXPECT_EQ(b_.runner->counters().priority_zero_received, 1u);
  EXPECT_EQ(a_.runner->counters().priority_zero_sent, 1u);
  EXPECT_EQ(a_.changes.back(), (std::pair{State::Master, State::Init}));
  EXPECT_EQ(b_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}, {State::Backup, State::Master}}));
  EXPECT_TRUE(b_.ip_shows("10.9.0.100"));
  EXPECT_FALSE(a_.ip_shows("10.9.0.100"));
  a_.runner->stop();  // twice: nothing more
  EXPECT_EQ(a_.runner->counters().priority_zero_sent, 1u);
}

// SIGKILL: no priority 0, and the dead box's VIP is no longer on the link (we delete it, as a
// box that is gone no longer answers for it).
TEST_F(Runners, ADeadMasterIsReplacedAfterMasterDownInterval) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  const auto killed = std::chrono::steady_clock::now();
  a_.runner.reset();
  ASSERT_TRUE(run("ip addr del 10.9.0.100/24 dev v0"));
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  const Ms took = std::chrono::steady_clock::now() - killed;
  const Ms down = 3 * Ms(100) + skew(100, Ms(100));
  std::printf("kill -> backup holds the VIP: %.1f ms (master down interval %.1f ms)\n", took.count(), down.count());
  // The master's last advert went at most one interval before it died.
  EXPECT_GT(took, down - Ms(100));
  EXPECT_LT(took, down + Ms(50));
  EXPECT_EQ(b_.runner->counters().priority_zero_received, 0u);
  EXPECT_EQ(b_.runner->state(), State::Master);
}

TEST_F(Runners, AHigherPriorityRestartedTakesTheVipBack) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  a_.runner.reset();
  ASSERT_TRUE(run("ip addr del 10.9.0.100/24 dev v0"));
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  const auto restarted = std::chrono::steady_clock::now();
  start(a_, config("v0", 200));
  ASSERT_TRUE(settled(a_, b_));
  const Ms took = std::chrono::steady_clock::now() - restarted;
  std::printf("restart -> preempted: %.1f ms\n", took.count());
  // A backup that preempts waits out its own Master_Down_Interval (ignoring the lower master).
  EXPECT_LT(took, 3 * Ms(100) + skew(200, Ms(100)) + Ms(100));
  EXPECT_TRUE(a_.ip_shows("10.9.0.100"));
  EXPECT_FALSE(b_.ip_shows("10.9.0.100"));
  EXPECT_EQ(b_.changes.back(), (std::pair{State::Master, State::Backup}));
}

// preempt = false, and the killed master's VIP left on its interface: the restarted runner
// removes it at start, and stays backup behind the lower-priority master.
TEST_F(Runners, WithoutPreemptTheRestartedOneStaysBackup) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  a_.runner.reset();
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  ASSERT_TRUE(a_.holds(kVip));  // what the dead run left
  auto c = config("v0", 200);
  c.preempt = false;
  start(a_, c);
  EXPECT_FALSE(a_.holds(kVip));
  EXPECT_TRUE(throughout(
      [&] { return b_.holds(kVip) && !a_.holds(kVip) && b_.runner->state() == State::Master; }, 1s));
  EXPECT_EQ(a_.runner->state(), State::Backup);
  EXPECT_GE(a_.runner->counters().adverts_received, 5u);
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}}));
}

// The killed master's VIP, left on its kernel, answers the new master's probes with the
// dead lvsd's last signature: not a live lvsd, so nobody yields to it (the conflict is logged).
TEST_F(Runners, ALiveMasterNeverYieldsToADeadOnesLeftoverVip) {
  auto a = config("v0", 200);
  auto b = config("v1", 100);
  b.conflict_probe_interval = model::Millis{50};
  start(a_, a);
  start(b_, b);
  ASSERT_TRUE(settled(a_, b_));
  a_.runner.reset();  // killed: the VIP stays on v0, and v0's kernel answers for it
  ASSERT_TRUE(until([&] { return b_.holds(kVip) && b_.runner->edge_counters().conflicts == 1; }));
  EXPECT_TRUE(throughout([&] { return b_.holds(kVip) && b_.runner->state() == State::Master; }, 500ms));
  EXPECT_FALSE(b_.runner->yielded());
  EXPECT_EQ(b_.runner->edge_counters().conflict_yields, 0u);
  bool said = false;
  for (const auto& l : b_.log) said = said || l.find("whose lvsd is silent") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(b_.log);
}

// Adverts lost between two live directors (unicast to a peer address nobody has): both
// become master, find each other on the data path, and the lower priority yields at once and
// stays backup while the other answers; when that one stops, it takes over after three
// unanswered probe rounds.
TEST_F(Runners, TwoMastersDeafToEachOtherSettleOnTheDataPath) {
  auto a = config("v0", 200);
  auto b = config("v1", 100);
  for (auto* c : {&a, &b}) {
    c->unicast_peers = {ip("10.9.0.99")};
    c->conflict_probe_interval = model::Millis{100};
  }
  std::vector<std::string> conflicts;
  start(a_, a);
  start(b_, b);
  b_.runner->on_conflict([&](const ConflictEvent& e) { conflicts.push_back(to_string(e)); });
  ASSERT_TRUE(until([&] { return b_.runner->state() == State::Master || b_.runner->yielded(); }, 2s));
  const auto both = std::chrono::steady_clock::now();
  ASSERT_TRUE(until([&] { return b_.runner->yielded() && !b_.holds(kVip) && a_.holds(kVip); }, 1s))
      << ::testing::PrintToString(b_.log);
  const Ms took = std::chrono::steady_clock::now() - both;
  std::printf("two masters -> the lower yields: %.1f ms\n", took.count());
  EXPECT_LT(took, Ms(150));
  EXPECT_EQ(b_.runner->state(), State::Backup);
  EXPECT_EQ(b_.runner->edge_counters().conflict_yields, 1u);
  EXPECT_EQ(a_.runner->edge_counters().conflict_yields, 0u);
  ASSERT_EQ(conflicts.size(), 1u) << "one notify per other holder";
  // Nothing flaps: B's master-down timer has long run out, A keeps answering its probes.
  EXPECT_TRUE(throughout([&] { return a_.holds(kVip) && !b_.holds(kVip) && b_.runner->yielded(); }, 1500ms));
  const auto b_changes = b_.changes.size();

  a_.runner->stop();  // A leaves: its VIP goes, B's probes go unanswered
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(until([&] { return b_.holds(kVip) && b_.runner->state() == State::Master; }, 2s));
  const Ms back = std::chrono::steady_clock::now() - stopped;
  std::printf("winner gone -> the yielded one takes over: %.1f ms (3 rounds of 100 ms)\n", back.count());
  EXPECT_GE(back, Ms(200));
  EXPECT_LT(back, Ms(600));
  EXPECT_FALSE(b_.runner->yielded());
  EXPECT_EQ(b_.changes.size(), b_changes + 1);  // BACKUP -> MASTER, nothing between
}

// use_vmac: the VIP sits on a macvlan with the virtual router's MAC, which every director
// keeps; adverts go from it too. stop() takes the vmac away.
TEST_F(Runners, UseVmacPutsTheVipOnTheVirtualMacAndStopRemovesIt) {
  auto a = config("v0", 200);
  auto b = config("v1", 100);
  a.use_vmac = b.use_vmac = true;
  start(a_, a);
  start(b_, b);
  const auto on_vmac = [&](Director& d) {
    auto r = d.addresses->has(vip("10.9.0.100/24"), "vrrp.51");
    return r && *r;
  };
  ASSERT_TRUE(until([&] {
    return on_vmac(a_) && a_.runner->state() == State::Master && b_.runner->state() == State::Backup &&
           b_.runner->counters().adverts_received >= 2;
  })) << ::testing::PrintToString(a_.log);
  EXPECT_FALSE(on_vmac(b_));
  EXPECT_FALSE(a_.holds(kVip)) << "not on the parent";
  EXPECT_TRUE(run("ip link show vrrp.51 | grep -q 'link/ether 00:00:5e:00:01:33'"));
  {
    Entered in(b_.ns);
    EXPECT_TRUE(run("ip link show vrrp.51 | grep -q 'link/ether 00:00:5e:00:01:33'")) << "the backup's, ready";
  }
  const auto stopped = std::chrono::steady_clock::now();
  a_.runner->stop();
  ASSERT_TRUE(until([&] { return on_vmac(b_); }));
  EXPECT_LT(Ms(std::chrono::steady_clock::now() - stopped), skew(100, Ms(100)) + Ms(50));
  EXPECT_FALSE(run("ip link show vrrp.51 >/dev/null 2>&1")) << "the stopped one's vmac is gone";
}

// The address breaks a tie between two masters only: a backup of equal priority accepts the
// master it hears (RFC 5798 6.4.2), so both start as master here, and the lower address yields.
TEST_F(Runners, EqualPrioritiesElectTheHigherAddress) {
  auto a = config("v0", 100);
  auto b = config("v1", 100);
  a.initial_state = b.initial_state = model::VrrpState::Master;
  start(a_, a);
  start(b_, b);
  ASSERT_TRUE(settled(b_, a_));
  EXPECT_TRUE(throughout([&] { return b_.holds(kVip) && !a_.holds(kVip); }, 500ms));
  EXPECT_EQ(b_.runner->state(), State::Master);
  EXPECT_EQ(a_.runner->state(), State::Backup);
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Master}, {State::Master, State::Backup}}));
  EXPECT_EQ(b_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Master}}));
  EXPECT_TRUE(b_.ip_shows("10.9.0.100"));
  EXPECT_FALSE(a_.ip_shows("10.9.0.100"));
}

// Without a tie, an equal-priority backup does not preempt, whatever its address.
TEST_F(Runners, AnEqualPriorityBackupWithAHigherAddressDoesNotPreempt) {
  auto a = config("v0", 100);
  a.initial_state = model::VrrpState::Master;
  start(a_, a);
  ASSERT_TRUE(until([&] { return a_.holds(kVip); }));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  EXPECT_TRUE(throughout([&] { return a_.holds(kVip) && !b_.holds(kVip); }, 500ms));
  EXPECT_EQ(b_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}}));
}

model::VrrpInstance v2(std::string_view interface, std::uint8_t priority, std::string password) {
  auto c = config(interface, priority);
  c.version = 2;
  c.advert_interval = model::Millis{1000};
  c.auth_pass = std::move(password);
  return c;
}

TEST_F(Runners, Version2WithAPassword) {
  auto master = v2("v0", 200, "secret1");
  master.initial_state = model::VrrpState::Master;  // no 3.2 s wait for the first election
  start(a_, master);
  start(b_, v2("v1", 100, "secret1"));
  ASSERT_TRUE(settled(a_, b_));
  EXPECT_EQ(b_.runner->counters().dropped_by(Drop::BadAuth), 0u);
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Master}}));
}

TEST_F(Runners, Version2WithAWrongPasswordIsDroppedAndCounted) {
  auto master = v2("v0", 200, "secret1");
  master.initial_state = model::VrrpState::Master;
  start(a_, master);
  start(b_, v2("v1", 100, "wrong"));
  ASSERT_TRUE(until([&] { return b_.runner->counters().dropped_by(Drop::BadAuth) >= 2; }));
  EXPECT_EQ(b_.runner->counters().adverts_received, 0u);  // never given to the instance
  EXPECT_EQ(b_.runner->state(), State::Backup);
  ASSERT_FALSE(b_.log.empty());
  EXPECT_EQ(b_.log.front(), "VI_1: advert from 10.9.0.1 dropped: authentication failed");
}

// A v3 master's adverts every 100 ms to a v2 instance of the same VRID: each dropped and
// counted, one log line a second.
TEST_F(Runners, DropsAreLoggedOncePerReasonPerSecond) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  auto b = v2("v1", 100, "");
  start(a_, a);
  const auto first = std::chrono::steady_clock::now();
  start(b_, b);
  ASSERT_TRUE(until([&] { return b_.runner->counters().dropped_by(Drop::BadVersion) >= 5; }));
  ASSERT_LT(std::chrono::steady_clock::now() - first, 900ms);  // else the second line may be due
  EXPECT_EQ(b_.log, (std::vector<std::string>{"VI_1: advert from 10.9.0.1 dropped: wrong version"}));
  EXPECT_EQ(b_.runner->counters().adverts_received, 0u);
}

// Another virtual router's adverts on the same link (dual master): each counted, one log
// line for that sender and VRID, not one a second.
TEST_F(Runners, AnotherVirtualRoutersAdvertsAreCountedAndLoggedOnce) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  auto b = config("v1", 100);
  b.vrid = 52;
  b.virtual_ips = {vip("10.9.0.101/24")};  // its own VIP: no conflict with A's on the data path
  start(a_, a);
  start(b_, b);
  ASSERT_TRUE(until([&] { return b_.runner->counters().dropped_by(Drop::BadVrid) >= 15; }));  // over 1 s
  std::vector<std::string> about_a;
  for (const auto& line : b_.log)
    if (line.find("10.9.0.1") != std::string::npos) about_a.push_back(line);
  EXPECT_EQ(about_a, (std::vector<std::string>{"VI_1: adverts from 10.9.0.1 for VRID 51 ignored (another virtual "
                                               "router; counted from now on, not logged again)"}));
  EXPECT_EQ(b_.runner->counters().adverts_received, 0u);
}

TEST_F(Runners, Ipv6) {
  const auto vip6 = vip("2001:db8::100/64");
  auto a = config("v0", 200);
  auto b = config("v1", 100);
  for (auto* c : {&a, &b}) {
    c->family = Family::V6;
    c->virtual_ips = {vip6};
  }
  start(a_, a);
  start(b_, b);
  ASSERT_TRUE(settled(a_, b_, vip6));
  EXPECT_EQ(a_.runner->primary(), ip("fe80::1"));
  EXPECT_EQ(b_.runner->primary(), ip("fe80::2"));
  EXPECT_TRUE(a_.ip_shows("2001:db8::100"));
  EXPECT_FALSE(b_.ip_shows("2001:db8::100"));
  EXPECT_EQ(a_.runner->edge_counters(), (RunnerCounters{.announcements = 1}));
}

// lvsd.toml(5): a burst of garp_master_repeat on becoming master, a second burst
// garp_master_delay later, then one every garp_master_refresh (counted from becoming master)
// while master; none after leaving.
TEST_F(Runners, GratuitousArpBurstsFollowDelayAndRefresh) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  a.garp_master_repeat = 2;
  a.garp_master_delay = model::Millis{200};
  a.garp_master_refresh = model::Millis{300};
  const auto started = std::chrono::steady_clock::now();
  start(a_, a);
  const auto sent = [&] { return a_.runner->edge_counters().announcements; };
  EXPECT_EQ(sent(), 2u);
  const auto when = [&](std::uint64_t count) {
    EXPECT_TRUE(until([&] { return sent() >= count; }));
    EXPECT_EQ(sent(), count);
    return Ms(std::chrono::steady_clock::now() - started);
  };
  const Ms second = when(4);
  const Ms refresh1 = when(6);
  const Ms refresh2 = when(8);
  std::printf("garp bursts at %.1f, %.1f, %.1f ms\n", second.count(), refresh1.count(), refresh2.count());
  EXPECT_GE(second, Ms(200));
  EXPECT_LT(second, Ms(280));
  EXPECT_GE(refresh1, Ms(300));
  EXPECT_LT(refresh1, Ms(380));
  EXPECT_GE(refresh2, Ms(600));
  EXPECT_LT(refresh2, Ms(680));
  a_.runner->set_fault(true);  // leaving master ends the bursts
  EXPECT_TRUE(throughout([&] { return sent() == 8; }, 400ms));
  EXPECT_EQ(a_.runner->edge_counters().announce_errors, 0u);
}

// garp_master_delay 0: no second burst (keepalived does the same).
TEST_F(Runners, NoSecondBurstWithoutDelay) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  a.garp_master_repeat = 3;
  a.garp_master_delay = model::Millis{0};
  a.virtual_ips = {vip("10.9.0.100/24"), vip("10.9.0.101/24")};
  start(a_, a);
  EXPECT_EQ(a_.runner->edge_counters().announcements, 6u);  // 3 rounds of 2 VIPs
  EXPECT_TRUE(throughout([&] { return a_.runner->edge_counters().announcements == 6u; }, 300ms));
}

TEST_F(Runners, AFaultyMasterHandsOverAndTakesBackWhenItRecovers) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  const auto faulted = std::chrono::steady_clock::now();
  a_.runner->set_fault(true);
  EXPECT_EQ(a_.runner->state(), State::Fault);
  EXPECT_FALSE(a_.holds(kVip));
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  const Ms took = std::chrono::steady_clock::now() - faulted;
  std::printf("fault -> backup holds the VIP: %.1f ms\n", took.count());
  EXPECT_LT(took, skew(100, Ms(100)) + Ms(50));  // the priority-0 advert
  EXPECT_EQ(a_.changes.back(), (std::pair{State::Master, State::Fault}));
  EXPECT_TRUE(throughout([&] { return a_.runner->state() == State::Fault && !a_.holds(kVip); }, 500ms));
  a_.runner->set_fault(false);
  EXPECT_EQ(a_.runner->state(), State::Backup);
  ASSERT_TRUE(settled(a_, b_));
}

TEST_F(Runners, APriorityDeltaMovesTheMasterRole) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  a_.runner->set_priority_delta(-150);  // 50: B (100, preempt) takes over
  ASSERT_TRUE(settled(b_, a_));
  a_.runner->set_priority_delta(0);  // 200 again: A preempts back
  ASSERT_TRUE(settled(a_, b_));
  EXPECT_EQ(a_.runner->counters().became_master, 2u);
  EXPECT_EQ(b_.runner->counters().became_master, 1u);
}

TEST_F(Runners, VirtualRoutesFollowTheVips) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  const model::VirtualRoute route{.destination = *model::Prefix::parse("198.51.100.0/24"), .via = ip("10.9.0.254")};
  a.virtual_routes = {route};
  start(a_, a);
  const auto has_route = [&] { return *a_.addresses->has_route(route, "v0"); };
  EXPECT_TRUE(has_route());
  EXPECT_TRUE(a_.holds(kVip));
  a_.runner->stop();
  EXPECT_FALSE(has_route());
  EXPECT_FALSE(a_.holds(kVip));
  EXPECT_EQ(a_.runner->edge_counters(), (RunnerCounters{.announcements = 1}));
}

// The kernel refusing one VIP is logged and counted; the others are held and the adverts go on.
TEST_F(Runners, AVipTheKernelRefusesIsLoggedAndCounted) {
  auto a = config("v0", 200);
  a.initial_state = model::VrrpState::Master;
  auto elsewhere = vip("10.9.0.101/24");
  elsewhere.device = "nope0";
  a.virtual_ips = {vip("10.9.0.100/24"), elsewhere};
  start(a_, a);
  EXPECT_EQ(a_.runner->state(), State::Master);
  EXPECT_TRUE(a_.holds(kVip));
  EXPECT_EQ(a_.runner->edge_counters().address_errors, 1u);
  EXPECT_EQ(a_.log, (std::vector<std::string>{"VI_1: cannot add 10.9.0.101/24 on nope0: No such device"}));
  const auto before = a_.runner->counters().adverts_sent;
  ASSERT_TRUE(until([&] { return a_.runner->counters().adverts_sent >= before + 2; }));
}

// A sync group's hold: no master to hear, and still a backup until released; then master at
// once.
TEST_F(Runners, AHeldBackupWaitsPastMasterDownUntilReleased) {
  open(a_, config("v0", 100));
  int readies = 0;
  a_.runner->on_ready([&] { ++readies; });
  a_.runner->hold(true);
  const auto started = std::chrono::steady_clock::now();
  a_.runner->start();
  EXPECT_FALSE(a_.runner->ready());
  ASSERT_TRUE(until([&] { return readies > 0; }));
  const Ms took = std::chrono::steady_clock::now() - started;
  const Ms down = 3 * Ms(100) + skew(100, Ms(100));
  std::printf("held backup ready after %.1f ms (master down interval %.1f ms)\n", took.count(), down.count());
  EXPECT_GE(took, down);
  EXPECT_LT(took, down + Ms(100));
  EXPECT_TRUE(a_.runner->ready());
  EXPECT_TRUE(throughout(
      [&] { return readies == 1 && a_.runner->state() == State::Backup && !a_.holds(kVip); }, 500ms));
  a_.runner->hold(false);
  EXPECT_EQ(a_.runner->state(), State::Master);
  EXPECT_TRUE(a_.holds(kVip));
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}, {State::Backup, State::Master}}));
  EXPECT_EQ(a_.runner->counters().adverts_sent, 1u);
}

// A held backup that hears a master is not ready; the master's priority 0 makes it ready
// after its skew, and it still does not take the VIP.
TEST_F(Runners, AHeldBackupThatHearsAMasterIsNotReady) {
  auto b = config("v1", 200);
  b.initial_state = model::VrrpState::Master;
  start(b_, b);
  open(a_, config("v0", 100));
  int readies = 0;
  a_.runner->on_ready([&] { ++readies; });
  a_.runner->hold(true);
  a_.runner->start();
  EXPECT_TRUE(throughout([&] { return readies == 0 && !a_.runner->ready(); }, 1s));
  EXPECT_GE(a_.runner->counters().adverts_received, 5u);
  const auto stopped = std::chrono::steady_clock::now();
  b_.runner->stop();
  ASSERT_TRUE(until([&] { return readies == 1; }));
  const Ms took = std::chrono::steady_clock::now() - stopped;
  std::printf("priority 0 -> held backup ready: %.1f ms (skew %.1f ms)\n", took.count(), skew(100, Ms(100)).count());
  EXPECT_LT(took, skew(100, Ms(100)) + Ms(100));  // master down would be 361 ms
  EXPECT_TRUE(throughout([&] { return a_.runner->state() == State::Backup && !a_.holds(kVip); }, 500ms));
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup}}));
}

// yield(): priority 0 and the VIP off at once, so the backup takes over after its skew; held,
// the yielded one stays backup though it preempts the new master, until released.
TEST_F(Runners, AYieldingMasterHandsOverAfterTheBackupsSkewAndStaysBackupWhileHeld) {
  start(a_, config("v0", 200));
  start(b_, config("v1", 100));
  ASSERT_TRUE(settled(a_, b_));
  int readies = 0;
  a_.runner->on_ready([&] { ++readies; });
  a_.runner->hold(true);
  EXPECT_EQ(a_.runner->state(), State::Master);  // a hold does not demote
  const auto yielded = std::chrono::steady_clock::now();
  a_.runner->yield();
  EXPECT_EQ(a_.runner->state(), State::Backup);
  EXPECT_FALSE(a_.holds(kVip));
  EXPECT_EQ(a_.runner->counters().priority_zero_sent, 1u);
  ASSERT_TRUE(until([&] { return b_.holds(kVip); }));
  const Ms took = std::chrono::steady_clock::now() - yielded;
  std::printf("yield -> backup holds the VIP: %.1f ms\n", took.count());
  EXPECT_LT(took, skew(100, Ms(100)) + Ms(100));  // master down would be 361 ms
  // It ignores the lower master's adverts (preempt), so it becomes ready, and stays backup.
  ASSERT_TRUE(until([&] { return readies == 1; }));
  EXPECT_TRUE(throughout([&] { return b_.holds(kVip) && !a_.holds(kVip) && a_.runner->state() == State::Backup; },
                         500ms));
  a_.runner->hold(false);
  EXPECT_EQ(a_.runner->state(), State::Master);
  ASSERT_TRUE(settled(a_, b_));
  EXPECT_EQ(a_.changes, (std::vector<std::pair<State, State>>{{State::Init, State::Backup},
                                                              {State::Backup, State::Master},
                                                              {State::Master, State::Backup},
                                                              {State::Backup, State::Master}}));
}

// keepalived 2.2.7 as the other director, VRRP only, in the foreground, in `ns`; stopped with
// SIGTERM (then SIGKILL, its VRRP child too) when the scope ends, whatever the test did.
class Keepalived {
 public:
  Keepalived(const OtherNetns& ns, const std::string& config) {
    dir_ = "/tmp/lvsd-runner-test-" + std::to_string(::getpid());
    ::mkdir(dir_.c_str(), 0700);
    if (std::FILE* f = std::fopen((dir_ + "/keepalived.conf").c_str(), "w")) {
      std::fputs(config.c_str(), f);
      std::fclose(f);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::setns(ns.fd(), CLONE_NEWNET) != 0) ::_exit(126);
      const int out = ::open((dir_ + "/keepalived.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      const std::string conf = dir_ + "/keepalived.conf", pid = dir_ + "/keepalived.pid",
                        vrrp_pid = dir_ + "/vrrp.pid";
      ::execl("/usr/sbin/keepalived", "keepalived", "-n", "-l", "-D", "--vrrp", "-f", conf.c_str(), "-p",
              pid.c_str(), "-r", vrrp_pid.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Keepalived() { stop(); }
  Keepalived(const Keepalived&) = delete;
  Keepalived& operator=(const Keepalived&) = delete;

  bool running() const { return pid_ > 0; }
  // As master it then sends priority 0 and removes its VIPs; it exits about a second later.
  void terminate() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  // SIGTERM, and up to 5 s for it to exit. Its log goes to stderr when the test failed.
  void stop() {
    if (pid_ <= 0) return;
    terminate();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill_vrrp_child();
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(10'000);  // waiting for a process to exit: nothing to poll but its status
    }
    pid_ = -1;
    const std::string log = ::testing::Test::HasFailure() ? "cat " + dir_ + "/keepalived.log >&2; " : "";
    if (std::system((log + "rm -rf " + dir_).c_str()) != 0) std::fprintf(stderr, "cannot remove %s\n", dir_.c_str());
  }

 private:
  void kill_vrrp_child() {
    if (std::FILE* f = std::fopen((dir_ + "/vrrp.pid").c_str(), "r")) {
      int child = 0;
      if (std::fscanf(f, "%d", &child) == 1 && child > 0) ::kill(child, SIGKILL);
      std::fclose(f);
    }
  }
  std::string dir_;
  pid_t pid_ = -1;
};

// VRRPv3 at 100 ms; VRRPv2 (whole seconds only) at 1 s, with a PASS password when given.
std::string keepalived_config(int priority, const std::string& address = "10.9.0.100/24", int version = 3,
                              const std::string& password = "") {
  const std::string auth =
      password.empty() ? "" : "  authentication {\n    auth_type PASS\n    auth_pass " + password + "\n  }\n";
  return "global_defs {\n  router_id lvsd-interop\n  vrrp_version " + std::to_string(version) + "\n}\n"
         "vrrp_instance VI_1 {\n  state BACKUP\n  interface v1\n  virtual_router_id 51\n"
         "  priority " + std::to_string(priority) + "\n  advert_int " + (version == 2 ? "1" : "0.1") + "\n" + auth +
         "  virtual_ipaddress {\n    " + address + "\n  }\n}\n";
}

TEST_F(Runners, KeepalivedBacksUpAHigherPriorityRunner) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  start(a_, config("v0", 200));
  Keepalived keepalived(b_ns_, keepalived_config(100));
  ASSERT_TRUE(keepalived.running());
  ASSERT_TRUE(until([&] { return a_.runner->state() == State::Master && a_.holds(kVip); }));
  // Long enough for keepalived to have started and timed out, had it not heard us.
  EXPECT_TRUE(throughout([&] { return a_.holds(kVip) && !b_.holds(kVip) && a_.runner->state() == State::Master; },
                         1500ms));
  EXPECT_EQ(a_.runner->counters().adverts_received, 0u);  // a backup keepalived is silent
  EXPECT_FALSE(b_.ip_shows("10.9.0.100"));
}

// keepalived (priority 200) master, a runner (100) its backup hearing every advert; SIGTERM to
// keepalived: its priority-0 advert hands the VIP over after our skew.
void behind_keepalived(Runners& t, Director& a, Director& b, const OtherNetns& b_ns, model::VrrpInstance c,
                       const model::VirtualIp& address) {
  Keepalived keepalived(b_ns, keepalived_config(200, address.prefix.to_string()));
  ASSERT_TRUE(keepalived.running());
  c.priority = 100;
  c.virtual_ips = {address};
  t.start(a, c);
  ASSERT_TRUE(t.until(
      [&] {
        return b.holds(address) && !a.holds(address) && a.runner->state() == State::Backup &&
               a.runner->counters().adverts_received >= 5;
      },
      10s));
  EXPECT_TRUE(t.throughout([&] { return b.holds(address) && !a.holds(address); }, 500ms));
  EXPECT_EQ(a.runner->counters().dropped, (std::array<std::uint64_t, kDropReasons>{}));
  EXPECT_TRUE(b.ip_shows(address.prefix.address.to_string()));
  const auto stopped = std::chrono::steady_clock::now();
  keepalived.terminate();
  ASSERT_TRUE(t.until([&] { return a.holds(address); }));
  const Ms took = std::chrono::steady_clock::now() - stopped;
  std::printf("SIGTERM to keepalived -> runner holds %s: %.1f ms\n", address.prefix.to_string().c_str(), took.count());
  // Its priority-0 advert: our skew, plus keepalived's own reaction to the signal.
  EXPECT_LT(took, 3 * Ms(100) + skew(100, Ms(100)) + Ms(50));
  EXPECT_EQ(a.runner->counters().priority_zero_received, 1u);
  EXPECT_FALSE(b.holds(address));
}

TEST_F(Runners, ARunnerBacksUpAHigherPriorityKeepalivedAndTakesOverWhenItStops) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  behind_keepalived(*this, a_, b_, b_ns_, config("v0", 100), kVip);
}

TEST_F(Runners, ARunnerBacksUpKeepalivedOverIpv6) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  auto c = config("v0", 100);
  c.family = Family::V6;
  behind_keepalived(*this, a_, b_, b_ns_, c, vip("2001:db8::100/64"));
}

// VRRPv2 with a PASS password, both ways: the higher priority is master whoever runs it.
TEST_F(Runners, KeepalivedV2WithPassBacksUpAHigherPriorityRunner) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  start(a_, v2("v0", 200, "s3cret"));
  Keepalived keepalived(b_ns_, keepalived_config(100, "10.9.0.100/24", 2, "s3cret"));
  ASSERT_TRUE(keepalived.running());
  ASSERT_TRUE(until([&] { return a_.runner->state() == State::Master && a_.holds(kVip); }, 10s));
  // keepalived's Master_Down_Interval at 1 s adverts is 3.6 s: had it not accepted ours, it
  // would have taken over by then.
  EXPECT_TRUE(throughout([&] { return a_.holds(kVip) && !b_.holds(kVip); }, 4500ms));
  EXPECT_EQ(a_.runner->counters().adverts_received, 0u);
}

TEST_F(Runners, ARunnerBacksUpAHigherPriorityKeepalivedV2WithPass) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  Keepalived keepalived(b_ns_, keepalived_config(200, "10.9.0.100/24", 2, "s3cret"));
  ASSERT_TRUE(keepalived.running());
  start(a_, v2("v0", 100, "s3cret"));
  ASSERT_TRUE(until([&] { return b_.holds(kVip) && a_.runner->counters().adverts_received >= 3; }, 10s));
  EXPECT_EQ(a_.runner->state(), State::Backup);
  EXPECT_FALSE(a_.holds(kVip));
  EXPECT_EQ(a_.runner->counters().dropped, (std::array<std::uint64_t, kDropReasons>{}));  // PASS accepted
  keepalived.terminate();
  ASSERT_TRUE(until([&] { return a_.holds(kVip); }, 3s));  // its priority-0 advert
}

// Equal priorities and two masters hearing each other (keepalived master first, then the
// runner starting as master, initial_state Master): the higher primary address stays master
// (RFC 5798 6.4.3, RFC 3768 6.4.3), whoever runs it. keepalived is on 10.9.0.2; the runner on
// 10.9.0.1, or on 10.9.0.3 for the other way.
TEST_F(Runners, EqualPrioritiesWithKeepalivedTheHigherAddressWinsV3AndV2) {
  if (::access("/usr/sbin/keepalived", X_OK) != 0) GTEST_SKIP() << "no keepalived";
  for (const int version : {3, 2}) {
    for (const bool runner_higher : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "VRRPv" << version << (runner_higher ? ", runner higher" : ", keepalived higher"));
      ASSERT_TRUE(run(std::string("ip addr flush dev v0 scope global && ip addr add ") +
                      (runner_higher ? "10.9.0.3/24" : "10.9.0.1/24") + " dev v0"));
      Keepalived keepalived(b_ns_, keepalived_config(150, "10.9.0.100/24", version, version == 2 ? "s3cret" : ""));
      ASSERT_TRUE(keepalived.running());
      ASSERT_TRUE(until([&] { return b_.holds(kVip); }, 10s));  // keepalived master alone
      auto c = version == 2 ? v2("v0", 150, "s3cret") : config("v0", 150);
      c.initial_state = model::VrrpState::Master;
      start(a_, c);
      Director& winner = runner_higher ? a_ : b_;
      Director& loser = runner_higher ? b_ : a_;
      ASSERT_TRUE(until([&] { return winner.holds(kVip) && !loser.holds(kVip) && (runner_higher || a_.runner->counters().adverts_received >= 1); },
                        version == 2 ? 10s : 3s));
      EXPECT_TRUE(throughout([&] { return winner.holds(kVip) && !loser.holds(kVip); }, version == 2 ? 3500ms : 600ms));
      EXPECT_EQ(a_.runner->state(), runner_higher ? State::Master : State::Backup);
      a_.runner->stop();
      a_.runner.reset();
      keepalived.stop();
      ASSERT_TRUE(until([&] { return !a_.holds(kVip) && !b_.holds(kVip); }, 3s));
    }
  }
}

}  // namespace
}  // namespace lvsd::vrrp
