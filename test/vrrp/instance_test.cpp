// The VRRP state machine with fake times: every transition's actions, in order, and the
// exact deadline it leaves.
#include "lvsd/vrrp/instance.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <stdexcept>
#include <vector>

namespace lvsd::vrrp {

// Readable failures: gtest finds these by ADL. Static: the test binary links other files'
// helpers of this namespace.
static void PrintTo(const Action& action, std::ostream* os) { *os << to_string(action); }
static void PrintTo(const Output& out, std::ostream* os) {
  *os << "{";
  for (const auto& a : out.actions) *os << " " << to_string(a) << ";";
  if (out.dropped) *os << " dropped " << static_cast<int>(*out.dropped) << ";";
  if (out.address_mismatch) *os << " address_mismatch;";
  if (out.became_ready) *os << " became_ready;";
  *os << " }";
}

namespace {

using namespace std::chrono_literals;
using model::Millis;

const TimePoint t0{std::chrono::hours{1}};

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

// We are .2; one peer below us and one above, numerically.
const model::IpAddress kSelf = ip("192.0.2.2");
const model::IpAddress kLower = ip("192.0.2.1");
const model::IpAddress kHigher = ip("192.0.2.3");

model::VrrpInstance config(std::uint8_t priority) {
  return model::VrrpInstance{
      .name = "VI_1",
      .interface = "eth0",
      .vrid = 51,
      .priority = priority,
      .advert_interval = Millis{1000},
      .virtual_ips = {{.prefix = *model::Prefix::parse("192.0.2.100/24")},
                      {.prefix = *model::Prefix::parse("192.0.2.101/24")}},
  };
}

// An advert from the other director, with our addresses in the other order (order does not
// matter).
Advert peer(std::uint8_t priority, Millis interval = Millis{1000}) {
  return Advert{.version = 3,
                .vrid = 51,
                .priority = priority,
                .interval = interval,
                .addresses = {ip("192.0.2.101"), ip("192.0.2.100")}};
}

Output act(std::vector<Action> actions) { return Output{.actions = std::move(actions)}; }

Output became_master(State from, std::uint8_t priority) {
  return act({Action::add_vips(), Action::send_advert(priority), Action::announce(),
              Action::state_change(from, State::Master)});
}

const Output kNothing{};

// With advert_interval 1s and priority 100: Skew_Time = 156/256 s = 609375us.
constexpr Micros kDown100{3'609'375};

// A started master of priority 100 (state = "master"), at t0.
Instance master100(model::VrrpInstance c = config(100)) {
  c.initial_state = model::VrrpState::Master;
  Instance in(c, kSelf);
  EXPECT_EQ(in.start(t0), became_master(State::Init, 100));
  return in;
}

TEST(VrrpInstance, OwnerStartsMasterAtOnceAndAdvertisesEveryInterval) {
  Instance in(config(255), kSelf);
  EXPECT_EQ(in.state(), State::Init);
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.start(t0), became_master(State::Init, 255));
  EXPECT_EQ(in.state(), State::Master);
  EXPECT_EQ(in.next_deadline(), t0 + 1s);
  EXPECT_EQ(in.tick(t0 + 999ms), kNothing);
  EXPECT_EQ(in.tick(t0 + 1s), act({Action::send_advert(255)}));
  EXPECT_EQ(in.next_deadline(), t0 + 2s);
  EXPECT_EQ(in.counters(), (Counters{.adverts_sent = 2, .became_master = 1}));
}

TEST(VrrpInstance, ALateTickSendsOneAdvertAndCountsTheNextFromNow) {
  Instance in(config(255), kSelf);
  in.start(t0);
  EXPECT_EQ(in.tick(t0 + 3500ms), act({Action::send_advert(255)}));
  EXPECT_EQ(in.next_deadline(), t0 + 4500ms);
}

TEST(VrrpInstance, StartIsCalledOnce) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_THROW(in.start(t0), std::logic_error);
}

TEST(VrrpInstance, V3BackupTakesOverAtThreeIntervalsPlusSkew) {
  auto c = config(100);
  c.advert_interval = Millis{100};
  Instance in(c, kSelf);
  EXPECT_EQ(in.start(t0), act({Action::state_change(State::Init, State::Backup)}));
  // Skew_Time = (256 - 100) * 100000us / 256 = 60937.5us, truncated.
  EXPECT_EQ(in.skew_time(), Micros{60'937});
  EXPECT_EQ(in.master_down_interval(), Micros{360'937});
  const TimePoint down = t0 + Micros{360'937};
  EXPECT_EQ(in.next_deadline(), down);
  EXPECT_EQ(in.tick(down - 1us), kNothing);
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_EQ(in.tick(down), became_master(State::Backup, 100));
  EXPECT_EQ(in.next_deadline(), down + 100ms);
  EXPECT_EQ(in.counters().became_master, 1u);
}

TEST(VrrpInstance, NeighbouringPrioritiesGetDifferentSkews) {
  // In whole centiseconds both would be 0 at a 100ms interval.
  auto c = config(250);
  c.advert_interval = Millis{100};
  EXPECT_EQ(Instance(c, kSelf).skew_time(), Micros{2'343});
  c.priority = 251;
  EXPECT_EQ(Instance(c, kSelf).skew_time(), Micros{1'953});
}

TEST(VrrpInstance, V2SkewIsAFractionOfASecondWhateverTheInterval) {
  auto c = config(100);
  c.version = 2;
  c.advert_interval = Millis{2000};
  Instance in(c, kSelf);
  in.start(t0);
  EXPECT_EQ(in.skew_time(), Micros{609'375});
  EXPECT_EQ(in.next_deadline(), t0 + 6s + Micros{609'375});
  c.priority = 200;  // 56/256 s
  EXPECT_EQ(Instance(c, kSelf).skew_time(), Micros{218'750});
}

TEST(VrrpInstance, V2BackupKeepsItsOwnInterval) {
  auto c = config(100);
  c.version = 2;
  Instance in(c, kSelf);
  in.start(t0);
  auto a = peer(150, Millis{2000});
  a.version = 2;
  EXPECT_EQ(in.receive(a, kHigher, t0 + 1s), kNothing);
  EXPECT_EQ(in.master_adver_interval(), Micros{1'000'000});
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
}

TEST(VrrpInstance, BackupRestartsItsTimerOnEveryAdvertOfAHigherMaster) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.receive(peer(150), kHigher, t0 + 1s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
  EXPECT_EQ(in.receive(peer(150), kLower, t0 + 2s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 2s + kDown100);
  EXPECT_EQ(in.tick(t0 + 2s + kDown100 - 1us), kNothing);
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_EQ(in.counters(), (Counters{.adverts_received = 2}));
}

TEST(VrrpInstance, BackupWithEqualPriorityLetsTheMasterBeWhateverItsAddress) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.receive(peer(100), kLower, t0 + 1s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
}

TEST(VrrpInstance, PriorityZeroAdvertMakesTheBackupTakeOverAfterSkewOnly) {
  Instance in(config(100), kSelf);
  in.start(t0);
  in.receive(peer(150), kHigher, t0 + 1s);
  EXPECT_EQ(in.receive(peer(0), kHigher, t0 + 1500ms), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1500ms + Micros{609'375});
  EXPECT_EQ(in.tick(t0 + 1500ms + Micros{609'375}), became_master(State::Backup, 100));
  EXPECT_EQ(in.counters(), (Counters{.adverts_received = 2,
                                     .adverts_sent = 1,
                                     .priority_zero_received = 1,
                                     .became_master = 1}));
}

TEST(VrrpInstance, MasterYieldsToAHigherPriorityAndRemovesItsAddresses) {
  Instance in = master100();
  EXPECT_EQ(in.receive(peer(150), kLower, t0 + 500ms),
            act({Action::remove_vips(), Action::state_change(State::Master, State::Backup)}));
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_EQ(in.next_deadline(), t0 + 500ms + kDown100);
}

TEST(VrrpInstance, EqualPriorityTheHigherAddressWins) {
  Instance yields = master100();
  EXPECT_EQ(yields.receive(peer(100), kHigher, t0 + 500ms),
            act({Action::remove_vips(), Action::state_change(State::Master, State::Backup)}));
  EXPECT_EQ(yields.next_deadline(), t0 + 500ms + kDown100);

  Instance stays = master100();
  // The other master is told at once that we are here, and our timer restarts.
  EXPECT_EQ(stays.receive(peer(100), kLower, t0 + 500ms), act({Action::send_advert(100)}));
  EXPECT_EQ(stays.state(), State::Master);
  EXPECT_EQ(stays.next_deadline(), t0 + 1500ms);
}

TEST(VrrpInstance, AddressesCompareAsNumbersNotText) {
  auto c = config(100);
  c.initial_state = model::VrrpState::Master;
  Instance nine(c, ip("10.0.0.9"));
  nine.start(t0);
  EXPECT_EQ(nine.receive(peer(100), ip("10.0.0.10"), t0 + 1s).actions.back(),
            Action::state_change(State::Master, State::Backup));

  Instance ten(c, ip("10.0.0.10"));
  ten.start(t0);
  EXPECT_EQ(ten.receive(peer(100), ip("10.0.0.9"), t0 + 1s), act({Action::send_advert(100)}));
}

TEST(VrrpInstance, Ipv6AddressesCompareByteByByte) {
  auto c = config(100);
  c.family = model::Family::V6;
  c.initial_state = model::VrrpState::Master;
  c.virtual_ips = {{.prefix = *model::Prefix::parse("2001:db8::100")}};
  auto a = peer(100);
  a.family = model::Family::V6;
  a.addresses = {ip("2001:db8::100")};

  Instance low(c, ip("fe80::ff"));
  low.start(t0);
  EXPECT_EQ(low.receive(a, ip("fe80::1:0"), t0 + 1s).actions.back(),
            Action::state_change(State::Master, State::Backup));

  Instance high(c, ip("fe80::1:0"));
  high.start(t0);
  EXPECT_EQ(high.receive(a, ip("fe80::ff"), t0 + 1s), act({Action::send_advert(100)}));
}

TEST(VrrpInstance, PreemptIgnoresALowerMasterAndTakesOver) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + 1s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + kDown100);  // not restarted
  EXPECT_EQ(in.tick(t0 + kDown100), became_master(State::Backup, 100));
  // The lower master's next advert is answered at once; it yields on hearing it.
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + 4s), act({Action::send_advert(100)}));
  EXPECT_EQ(in.next_deadline(), t0 + 5s);
}

TEST(VrrpInstance, NopreemptLeavesALiveLowerMasterAlone) {
  auto c = config(100);
  c.preempt = false;
  Instance in(c, kSelf);
  in.start(t0);
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + 1s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + 2s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 2s + kDown100);
  // It still takes over when that master goes quiet.
  EXPECT_EQ(in.tick(t0 + 2s + kDown100), became_master(State::Backup, 100));
}

// A master of priority 50 advertises every second. From `first` to `last` its adverts still
// restart our master-down timer (the preempt delay runs); the one a second later does not,
// and we take over Master_Down_Interval after `last`.
void expect_preempt_after(Instance& in, std::chrono::seconds first, std::chrono::seconds last) {
  for (auto s = first; s <= last; s += 1s) {
    EXPECT_EQ(in.receive(peer(50), kHigher, t0 + s), kNothing);
    EXPECT_EQ(in.next_deadline(), t0 + s + kDown100);
  }
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + last + 1s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + last + kDown100);
  EXPECT_EQ(in.tick(t0 + last + kDown100), became_master(State::Backup, 100));
}

// A started backup of priority 100, at t0.
Instance backup_with_preempt_delay(Millis delay) {
  auto c = config(100);
  c.preempt_delay = delay;
  Instance in(c, kSelf);
  EXPECT_EQ(in.start(t0), act({Action::state_change(State::Init, State::Backup)}));
  return in;
}

TEST(VrrpInstance, PreemptDelayCountsFromStart) {
  Instance in = backup_with_preempt_delay(Millis{5000});
  // 5s after start the lower master's adverts stop counting.
  expect_preempt_after(in, 1s, 4s);
}

TEST(VrrpInstance, PreemptDelayCountsFromTheFirstAdvertOfALowerMaster) {
  Instance in = backup_with_preempt_delay(Millis{5000});
  for (auto s = 1s; s <= 10s; s += 1s) in.receive(peer(150), kHigher, t0 + s);
  // The master's trackers lower it below us at 11s: we wait until 16s.
  expect_preempt_after(in, 11s, 15s);
}

TEST(VrrpInstance, PreemptDelayDoesNotDelayTakingOverFromNoMaster) {
  Instance in = backup_with_preempt_delay(Millis{60000});
  EXPECT_EQ(in.next_deadline(), t0 + kDown100);
  EXPECT_EQ(in.tick(t0 + kDown100), became_master(State::Backup, 100));
}

TEST(VrrpInstance, InitialStateMasterGoesMasterAtOnceAndStillYields) {
  Instance in = master100();
  EXPECT_EQ(in.next_deadline(), t0 + 1s);
  EXPECT_EQ(in.receive(peer(101), kLower, t0 + 100ms).actions.back(),
            Action::state_change(State::Master, State::Backup));
}

TEST(VrrpInstance, InitialStateMasterIsIgnoredWithoutPreemptOrWithADelay) {
  auto c = config(100);
  c.initial_state = model::VrrpState::Master;
  c.preempt = false;
  EXPECT_EQ(Instance(c, kSelf).start(t0), act({Action::state_change(State::Init, State::Backup)}));
  c.preempt = true;
  c.preempt_delay = Millis{1000};
  EXPECT_EQ(Instance(c, kSelf).start(t0), act({Action::state_change(State::Init, State::Backup)}));
}

TEST(VrrpInstance, TheOwnerPreemptsEvenWithPreemptOff) {
  auto c = config(255);
  c.preempt = false;
  Instance in(c, kSelf);
  in.start(t0);
  // Another owner (a misconfiguration) with a higher address wins the tie...
  EXPECT_EQ(in.receive(peer(255), kHigher, t0 + 1s).actions.back(),
            Action::state_change(State::Master, State::Backup));
  const TimePoint down = t0 + 1s + 3s + Micros{3'906};  // skew 1/256 s
  EXPECT_EQ(in.next_deadline(), down);
  // ...and once it advertises less than 255, we take the addresses back.
  EXPECT_EQ(in.receive(peer(200), kHigher, t0 + 2s), kNothing);
  EXPECT_EQ(in.next_deadline(), down);
  EXPECT_EQ(in.tick(down), became_master(State::Backup, 255));
}

TEST(VrrpInstance, MasterAnswersAPriorityZeroAdvertAtOnce) {
  Instance in = master100();
  EXPECT_EQ(in.receive(peer(0), kHigher, t0 + 300ms), act({Action::send_advert(100)}));
  EXPECT_EQ(in.state(), State::Master);
  EXPECT_EQ(in.next_deadline(), t0 + 1300ms);
  EXPECT_EQ(in.counters().priority_zero_received, 1u);
}

TEST(VrrpInstance, FaultFromBackupAndBack) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.set_fault(true, t0 + 1s), act({Action::state_change(State::Backup, State::Fault)}));
  EXPECT_EQ(in.state(), State::Fault);
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.set_fault(true, t0 + 2s), kNothing);
  // In Fault adverts are only counted, and no timer runs.
  EXPECT_EQ(in.receive(peer(0), kHigher, t0 + 3s), kNothing);
  EXPECT_EQ(in.tick(t0 + 100s), kNothing);
  EXPECT_EQ(in.set_fault(false, t0 + 200s),
            act({Action::state_change(State::Fault, State::Backup)}));
  EXPECT_EQ(in.next_deadline(), t0 + 200s + kDown100);
  EXPECT_EQ(in.counters(), (Counters{.adverts_received = 1, .priority_zero_received = 1}));
}

TEST(VrrpInstance, FaultFromMasterSendsPriorityZeroAndRemovesTheAddresses) {
  Instance in = master100();
  EXPECT_EQ(in.set_fault(true, t0 + 1s),
            act({Action::send_advert(0), Action::remove_vips(),
                 Action::state_change(State::Master, State::Fault)}));
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.tick(t0 + 10s), kNothing);
  // Back as a backup, not as master: initial_state is for start only.
  EXPECT_EQ(in.set_fault(false, t0 + 20s),
            act({Action::state_change(State::Fault, State::Backup)}));
  EXPECT_EQ(in.next_deadline(), t0 + 20s + kDown100);
  EXPECT_EQ(in.counters(), (Counters{.adverts_sent = 2, .priority_zero_sent = 1, .became_master = 1}));
}

TEST(VrrpInstance, TheOwnerLeavesFaultAsMaster) {
  Instance in(config(255), kSelf);
  in.start(t0);
  in.set_fault(true, t0 + 1s);
  EXPECT_EQ(in.set_fault(false, t0 + 2s), became_master(State::Fault, 255));
  EXPECT_EQ(in.next_deadline(), t0 + 3s);
}

TEST(VrrpInstance, AFaultBeforeStartStartsInFault) {
  Instance in(config(255), kSelf);
  EXPECT_EQ(in.set_fault(true, t0), kNothing);
  EXPECT_EQ(in.state(), State::Init);
  EXPECT_EQ(in.start(t0), act({Action::state_change(State::Init, State::Fault)}));
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.shutdown(), act({Action::state_change(State::Fault, State::Init)}));
}

TEST(VrrpInstance, LeavingFaultForgetsTheLearntInterval) {
  Instance in(config(100), kSelf);
  in.start(t0);
  in.receive(peer(150, Millis{200}), kHigher, t0 + 1s);
  in.set_fault(true, t0 + 2s);
  in.set_fault(false, t0 + 3s);
  EXPECT_EQ(in.master_adver_interval(), Micros{1'000'000});
  EXPECT_EQ(in.next_deadline(), t0 + 3s + kDown100);
}

TEST(VrrpInstance, ShutdownFromMasterSendsPriorityZero) {
  Instance in = master100();
  EXPECT_EQ(in.shutdown(), act({Action::send_advert(0), Action::remove_vips(),
                                Action::state_change(State::Master, State::Init)}));
  EXPECT_EQ(in.state(), State::Init);
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.shutdown(), kNothing);
  EXPECT_EQ(in.counters().priority_zero_sent, 1u);
}

TEST(VrrpInstance, ShutdownFromBackupSendsNothingAndMayStartAgain) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.shutdown(), act({Action::state_change(State::Backup, State::Init)}));
  EXPECT_EQ(in.start(t0 + 10s), act({Action::state_change(State::Init, State::Backup)}));
  EXPECT_EQ(in.next_deadline(), t0 + 10s + kDown100);
}

TEST(VrrpInstance, V3BackupLearnsTheMastersInterval) {
  Instance in(config(100), kSelf);
  in.start(t0);
  EXPECT_EQ(in.receive(peer(150, Millis{200}), kHigher, t0 + 1s), kNothing);
  EXPECT_EQ(in.master_adver_interval(), Micros{200'000});
  // 3 * 200ms + 156 * 200000us / 256.
  EXPECT_EQ(in.skew_time(), Micros{121'875});
  EXPECT_EQ(in.next_deadline(), t0 + 1s + Micros{721'875});
  // A priority-0 advert uses the learnt interval for the skew too.
  EXPECT_EQ(in.receive(peer(0, Millis{200}), kHigher, t0 + 1200ms), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1200ms + Micros{121'875});
  // As master we advertise at our own interval.
  EXPECT_EQ(in.tick(t0 + 1200ms + Micros{121'875}), became_master(State::Backup, 100));
  EXPECT_EQ(in.next_deadline(), t0 + 2200ms + Micros{121'875});
}

TEST(VrrpInstance, AYieldingMasterLearnsTheWinnersInterval) {
  Instance in = master100();
  in.receive(peer(150, Millis{500}), kHigher, t0 + 1s);
  // 3 * 500ms + 156 * 500000us / 256 (304687.5, truncated).
  EXPECT_EQ(in.next_deadline(), t0 + 1s + Micros{1'804'687});
}

TEST(VrrpInstance, EffectivePriorityIsClampedAndOnlyTheOwnerKeeps255) {
  Instance in(config(100), kSelf);
  in.set_priority_delta(-60);
  EXPECT_EQ(in.effective_priority(), 40);
  in.set_priority_delta(-200);
  EXPECT_EQ(in.effective_priority(), 1);
  in.set_priority_delta(200);
  EXPECT_EQ(in.effective_priority(), 254);
  in.set_priority_delta(0);
  EXPECT_EQ(in.effective_priority(), 100);

  Instance owner(config(255), kSelf);
  EXPECT_EQ(owner.effective_priority(), 255);
  owner.set_priority_delta(10);
  EXPECT_EQ(owner.effective_priority(), 255);
  owner.set_priority_delta(-10);
  EXPECT_EQ(owner.effective_priority(), 245);
}

TEST(VrrpInstance, ALoweredMasterAdvertisesItsNewPriorityInTheNextAdvert) {
  Instance in = master100();
  in.set_priority_delta(-60);
  EXPECT_EQ(in.next_deadline(), t0 + 1s);
  EXPECT_EQ(in.tick(t0 + 1s), act({Action::send_advert(40)}));
  // And now a master of 50 wins.
  EXPECT_EQ(in.receive(peer(50), kLower, t0 + 1500ms).actions.back(),
            Action::state_change(State::Master, State::Backup));
}

TEST(VrrpInstance, ARaisedBackupTakesOverOnlyThroughPreemption) {
  Instance in(config(100), kSelf);
  in.start(t0);
  in.receive(peer(120), kHigher, t0 + 1s);
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
  in.set_priority_delta(30);  // 130 now: nothing happens until the master's next advert
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
  EXPECT_EQ(in.receive(peer(120), kHigher, t0 + 2s), kNothing);
  EXPECT_EQ(in.next_deadline(), t0 + 1s + kDown100);
  EXPECT_EQ(in.skew_time(), Micros{492'187});  // 126/256 s, for the next election
  EXPECT_EQ(in.tick(t0 + 1s + kDown100), became_master(State::Backup, 130));
}

TEST(VrrpInstance, OwnAdvertsLoopedBackAreCountedAndIgnored) {
  Instance backup(config(100), kSelf);
  backup.start(t0);
  EXPECT_EQ(backup.receive(peer(150), kSelf, t0 + 1s), (Output{.dropped = Drop::OwnAdvert}));
  EXPECT_EQ(backup.next_deadline(), t0 + kDown100);

  Instance master = master100();
  EXPECT_EQ(master.receive(peer(100), kSelf, t0 + 1s), (Output{.dropped = Drop::OwnAdvert}));
  EXPECT_EQ(master.next_deadline(), t0 + 1s);
  EXPECT_EQ(master.counters().dropped_by(Drop::OwnAdvert), 1u);
  EXPECT_EQ(master.counters().adverts_received, 1u);
}

TEST(VrrpInstance, V3AdvertWithOtherAddressesIsFlaggedAndStillElects) {
  Instance in = master100();
  auto a = peer(150);
  a.addresses = {ip("192.0.2.100")};
  EXPECT_EQ(in.receive(a, kHigher, t0 + 1s),
            (Output{.actions = {Action::remove_vips(),
                                Action::state_change(State::Master, State::Backup)},
                    .address_mismatch = true}));
  EXPECT_EQ(in.counters().address_mismatches, 1u);
  EXPECT_EQ(in.counters().dropped_by(Drop::AddressMismatch), 0u);
}

TEST(VrrpInstance, V2AdvertWithOtherAddressesIsDroppedUnlessFromTheOwner) {
  auto c = config(100);
  c.version = 2;
  Instance in(c, kSelf);
  in.start(t0);
  auto a = peer(150);
  a.version = 2;
  a.addresses = {ip("192.0.2.100"), ip("192.0.2.102")};
  EXPECT_EQ(in.receive(a, kHigher, t0 + 1s),
            (Output{.dropped = Drop::AddressMismatch, .address_mismatch = true}));
  EXPECT_EQ(in.next_deadline(), t0 + kDown100);
  a.priority = 255;
  EXPECT_EQ(in.receive(a, kHigher, t0 + 2s), (Output{.address_mismatch = true}));
  EXPECT_EQ(in.next_deadline(), t0 + 2s + 3s + Micros{609'375});
  EXPECT_EQ(in.counters().address_mismatches, 2u);
  EXPECT_EQ(in.counters().dropped_by(Drop::AddressMismatch), 1u);
}

TEST(VrrpInstance, EdgesCountTheirDropsHere) {
  Instance in(config(100), kSelf);
  in.note_drop(Drop::BadTtl);
  in.note_drop(Drop::BadTtl);
  EXPECT_EQ(in.counters().dropped_by(Drop::BadTtl), 2u);
  EXPECT_EQ(in.counters().adverts_received, 0u);
}

TEST(VrrpInstance, OurAdvertCarriesTheConfiguredFields) {
  EXPECT_EQ(Instance(config(100), kSelf).advert(100),
            (Advert{.version = 3,
                    .vrid = 51,
                    .priority = 100,
                    .interval = Millis{1000},
                    .addresses = {ip("192.0.2.100"), ip("192.0.2.101")}}));
  auto c = config(100);
  c.version = 2;
  c.auth_pass = "secret";
  EXPECT_EQ(Instance(c, kSelf).advert(0),
            (Advert{.version = 2,
                    .vrid = 51,
                    .priority = 0,
                    .interval = Millis{1000},
                    .auth = AuthType::SimplePassword,
                    .password = "secret",
                    .addresses = {ip("192.0.2.100"), ip("192.0.2.101")}}));
}

// A sync group's hold: the timer running out makes a held backup ready, not master.
const Output kReady{.became_ready = true};

TEST(VrrpInstance, AHeldBackupBecomesReadyInsteadOfMasterAndGoesMasterWhenReleased) {
  Instance in(config(100), kSelf);
  EXPECT_EQ(in.hold(true, t0), kNothing);  // in Init: remembered for start()
  EXPECT_TRUE(in.held());
  EXPECT_EQ(in.start(t0), act({Action::state_change(State::Init, State::Backup)}));
  EXPECT_EQ(in.next_deadline(), t0 + kDown100);
  EXPECT_FALSE(in.ready(t0 + kDown100 - 1us));
  EXPECT_EQ(in.tick(t0 + kDown100), kReady);
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_TRUE(in.ready(t0 + kDown100));
  // No timer while it waits, and it says it is ready once.
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.tick(t0 + 100s), kNothing);
  // Released: master at once, with no further wait.
  EXPECT_EQ(in.hold(false, t0 + 200s), became_master(State::Backup, 100));
  EXPECT_EQ(in.next_deadline(), t0 + 201s);
  EXPECT_EQ(in.hold(false, t0 + 202s), kNothing);
  EXPECT_EQ(in.counters().became_master, 1u);
}

TEST(VrrpInstance, ALiveMasterMakesAReadyBackupUnready) {
  Instance in(config(100), kSelf);
  in.hold(true, t0);
  in.start(t0);
  EXPECT_EQ(in.tick(t0 + kDown100), kReady);
  // A lower master that we preempt, or one leaving with priority 0, is no master to follow.
  EXPECT_EQ(in.receive(peer(50), kHigher, t0 + 5s), kNothing);
  EXPECT_EQ(in.receive(peer(0), kHigher, t0 + 6s), kNothing);
  EXPECT_TRUE(in.ready(t0 + 6s));
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  // A better one is: the timer runs again, and released now it stays backup.
  EXPECT_EQ(in.receive(peer(150), kHigher, t0 + 7s), kNothing);
  EXPECT_FALSE(in.ready(t0 + 7s));
  EXPECT_EQ(in.next_deadline(), t0 + 7s + kDown100);
  EXPECT_EQ(in.tick(t0 + 7s + kDown100), kReady);
  EXPECT_EQ(in.receive(peer(150), kHigher, t0 + 20s), kNothing);
  EXPECT_EQ(in.hold(false, t0 + 21s), kNothing);
  EXPECT_EQ(in.state(), State::Backup);
  // Unheld, its timer makes it master as usual.
  EXPECT_EQ(in.tick(t0 + 20s + kDown100), became_master(State::Backup, 100));
}

TEST(VrrpInstance, ReleasedWhenItsTimerIsOverdueAHeldBackupGoesMaster) {
  Instance in(config(100), kSelf);
  in.hold(true, t0);
  in.start(t0);
  EXPECT_EQ(in.hold(false, t0 + 1s), kNothing);  // its timer still runs
  EXPECT_EQ(in.next_deadline(), t0 + kDown100);
  in.hold(true, t0 + 2s);
  // The timer is due, its tick not yet run: ready already, and master when released.
  EXPECT_TRUE(in.ready(t0 + kDown100));
  EXPECT_EQ(in.hold(false, t0 + kDown100), became_master(State::Backup, 100));
}

TEST(VrrpInstance, AHeldOwnerStartsAsAReadyBackup) {
  Instance in(config(255), kSelf);
  in.hold(true, t0);
  EXPECT_EQ(in.start(t0), (Output{.actions = {Action::state_change(State::Init, State::Backup)}, .became_ready = true}));
  EXPECT_TRUE(in.ready(t0));
  EXPECT_EQ(in.next_deadline(), TimePoint::max());
  EXPECT_EQ(in.hold(false, t0 + 1s), became_master(State::Backup, 255));
}

TEST(VrrpInstance, AHeldOwnerLeavesFaultAsAReadyBackup) {
  Instance in(config(255), kSelf);
  in.start(t0);
  // A hold never demotes a master.
  EXPECT_EQ(in.hold(true, t0 + 1s), kNothing);
  EXPECT_EQ(in.state(), State::Master);
  EXPECT_TRUE(in.ready(t0 + 1s));
  EXPECT_EQ(in.tick(t0 + 1s), act({Action::send_advert(255)}));
  in.set_fault(true, t0 + 2s);
  EXPECT_EQ(in.set_fault(false, t0 + 3s),
            (Output{.actions = {Action::state_change(State::Fault, State::Backup)}, .became_ready = true}));
  EXPECT_EQ(in.hold(false, t0 + 4s), became_master(State::Backup, 255));
}

TEST(VrrpInstance, AHeldInitialMasterStartsReadyAndAnEqualMasterMakesItUnready) {
  auto c = config(100);
  c.initial_state = model::VrrpState::Master;
  Instance in(c, kSelf);
  in.hold(true, t0);
  EXPECT_EQ(in.start(t0), (Output{.actions = {Action::state_change(State::Init, State::Backup)}, .became_ready = true}));
  EXPECT_TRUE(in.ready(t0));
  // As a backup it follows an equal master, whatever the addresses.
  EXPECT_EQ(in.receive(peer(100), kLower, t0 + 500ms), kNothing);
  EXPECT_FALSE(in.ready(t0 + 500ms));
  EXPECT_EQ(in.next_deadline(), t0 + 500ms + kDown100);
}

TEST(VrrpInstance, AHoldIsKeptThroughFault) {
  Instance in(config(100), kSelf);
  in.start(t0);
  in.set_fault(true, t0 + 1s);
  EXPECT_EQ(in.hold(true, t0 + 2s), kNothing);
  EXPECT_FALSE(in.ready(t0 + 2s));
  EXPECT_EQ(in.set_fault(false, t0 + 3s), act({Action::state_change(State::Fault, State::Backup)}));
  EXPECT_FALSE(in.ready(t0 + 3s));
  EXPECT_EQ(in.tick(t0 + 3s + kDown100), kReady);
}

TEST(VrrpInstance, AYieldingMasterSendsPriorityZeroAndWaitsAsABackup) {
  Instance in = master100();
  EXPECT_EQ(in.yield(t0 + 500ms), act({Action::send_advert(0), Action::remove_vips(),
                                       Action::state_change(State::Master, State::Backup)}));
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_FALSE(in.ready(t0 + 500ms));
  EXPECT_EQ(in.next_deadline(), t0 + 500ms + kDown100);
  EXPECT_EQ(in.counters().priority_zero_sent, 1u);
  EXPECT_EQ(in.yield(t0 + 600ms), kNothing);  // a backup has nothing to yield
  // Unheld it is an ordinary backup: master again when nothing better is heard.
  EXPECT_EQ(in.tick(t0 + 500ms + kDown100), became_master(State::Backup, 100));
}

TEST(VrrpInstance, AHeldYieldedMasterStaysBackupWhenItsTimerRunsOut) {
  Instance in = master100();
  in.hold(true, t0 + 100ms);
  in.yield(t0 + 500ms);
  EXPECT_EQ(in.tick(t0 + 500ms + kDown100), kReady);
  EXPECT_EQ(in.state(), State::Backup);
  EXPECT_EQ(in.counters().became_master, 1u);
}

TEST(VrrpInstance, YieldDoesNothingOutsideMaster) {
  Instance in(config(100), kSelf);
  EXPECT_EQ(in.yield(t0), kNothing);
  in.start(t0);
  in.set_fault(true, t0 + 1s);
  EXPECT_EQ(in.yield(t0 + 2s), kNothing);
  EXPECT_EQ(in.state(), State::Fault);
  EXPECT_EQ(in.counters().adverts_sent, 0u);
}

TEST(VrrpInstance, ActionsPrintForLogs) {
  EXPECT_EQ(to_string(Action::send_advert(0)), "send_advert(0)");
  EXPECT_EQ(to_string(Action::state_change(State::Backup, State::Master)), "state BACKUP->MASTER");
  EXPECT_EQ(to_string(Action::remove_vips()), "remove_vips");
  EXPECT_EQ(to_string(State::Fault), "FAULT");
}

}  // namespace
}  // namespace lvsd::vrrp
