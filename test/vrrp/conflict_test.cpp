// The conflict rule and the liveness of a holder (pure), the claim tracker on frames built by the
// codec, and watches in two network namespaces joined by a veth pair, over IPv4 and IPv6.
#include "lvsd/vrrp/conflict.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/loop.hpp"
#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {
namespace asio = boost::asio;
using model::Family;
using model::IpAddress;
using lvsd::testing::Entered;
using lvsd::testing::OtherNetns;
using Bytes = std::vector<std::uint8_t>;
using Kind = ConflictEvent::Kind;
using namespace std::chrono_literals;
using Ms = std::chrono::duration<double, std::milli>;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

constexpr Mac kMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Mac kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr Mac kThirdMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};

Signature sig(std::uint8_t priority, std::string_view primary, std::uint8_t vrid = 51) {
  return Signature{.vrid = vrid, .priority = priority, .primary = ip(primary)};
}

// --- the rule ---

struct RuleCase {
  const char* what;
  Contender mine;
  Contender theirs;
  bool yields;
};

TEST(Yields, IsTheVrrpElection) {
  const RuleCase cases[] = {
      {"higher priority wins", {kMac, sig(200, "10.0.0.1")}, {kPeerMac, sig(100, "10.0.0.2")}, false},
      {"lower priority yields", {kMac, sig(100, "10.0.0.9")}, {kPeerMac, sig(101, "10.0.0.2")}, true},
      {"priority before address", {kMac, sig(100, "10.0.0.200")}, {kPeerMac, sig(200, "10.0.0.1")}, true},
      {"equal priority: higher address wins", {kMac, sig(100, "10.0.0.2")}, {kPeerMac, sig(100, "10.0.0.1")}, false},
      {"equal priority: lower address yields", {kMac, sig(100, "10.0.0.1")}, {kPeerMac, sig(100, "10.0.0.2")}, true},
      {"addresses compare as numbers", {kMac, sig(100, "10.0.0.9")}, {kPeerMac, sig(100, "10.0.0.10")}, true},
      {"IPv6 addresses too", {kMac, sig(100, "fe80::2")}, {kPeerMac, sig(100, "fe80::1:0")}, true},
      {"the owner (255) wins", {kMac, sig(255, "10.0.0.1")}, {kPeerMac, sig(254, "10.0.0.2")}, false},
      {"the VRID takes no part", {kMac, sig(100, "10.0.0.1", 1)}, {kPeerMac, sig(100, "10.0.0.2", 2)}, true},
      {"equal signatures: higher MAC wins", {kPeerMac, sig(100, "10.0.0.1")}, {kMac, sig(100, "10.0.0.1")}, false},
      {"equal signatures: lower MAC yields", {kMac, sig(100, "10.0.0.1")}, {kPeerMac, sig(100, "10.0.0.1")}, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(yields(c.mine, c.theirs), c.yields) << c.what;
    EXPECT_EQ(yields(c.theirs, c.mine), !c.yields) << c.what << ", seen from the other side";
  }
}

// Both sides evaluate the rule, each from where it stands: for every pair of different
// contenders exactly one yields.
TEST(Yields, ExactlyOneOfTwoYields) {
  std::vector<Contender> all;
  for (const Mac& mac : {kMac, kPeerMac, kThirdMac})
    for (std::uint8_t priority : {1, 100, 254, 255})
      for (const char* primary : {"10.0.0.1", "10.0.0.2", "192.0.2.1"})
        all.push_back(Contender{.mac = mac, .signature = sig(priority, primary)});
  int pairs = 0;
  for (const auto& a : all)
    for (const auto& b : all) {
      if (a.mac == b.mac) continue;  // one director; frames from our own MAC are ours
      ++pairs;
      EXPECT_NE(yields(a, b), yields(b, a)) << to_string(a.mac) << " " << to_string(a.signature) << " vs "
                                            << to_string(b.mac) << " " << to_string(b.signature);
    }
  EXPECT_EQ(pairs, 36 * 24);
}

// --- the liveness of a holder: the yielded side's hold ---

TEST(HolderLiveness, AliveWhileItAnswersGoneAfterThreeSilentRounds) {
  HolderLiveness winner(kPeerMac);
  for (int round = 0; round < 10; ++round) {  // the winner answers every round
    EXPECT_FALSE(winner.next_round());
    winner.heard(kPeerMac);
  }
  EXPECT_EQ(winner.unanswered(), 0u);
  // Claims from others do not keep it alive.
  EXPECT_FALSE(winner.next_round());  // closes an answered round
  winner.heard(kThirdMac);
  EXPECT_FALSE(winner.next_round());
  EXPECT_EQ(winner.unanswered(), 1u);
  EXPECT_FALSE(winner.next_round());
  EXPECT_EQ(winner.unanswered(), 2u);
  EXPECT_FALSE(winner.gone());
  EXPECT_TRUE(winner.next_round());  // the third silent round: released
  EXPECT_TRUE(winner.gone());
  EXPECT_FALSE(winner.next_round());  // said once
  winner.heard(kPeerMac);             // a later claim is a new conflict
  EXPECT_TRUE(winner.gone());
}

TEST(HolderLiveness, OneAnswerStartsTheCountAgain) {
  HolderLiveness winner(kPeerMac, 2);
  EXPECT_FALSE(winner.next_round());  // the round it was created in: answered
  EXPECT_FALSE(winner.next_round());  // 1 silent
  winner.heard(kPeerMac);
  EXPECT_EQ(winner.unanswered(), 0u);
  EXPECT_FALSE(winner.next_round());
  EXPECT_FALSE(winner.next_round());
  EXPECT_TRUE(winner.next_round());
  EXPECT_THROW(HolderLiveness(kPeerMac, 0), std::invalid_argument);
}

// --- the claim tracker on frames ---

// What Linux sends in answer to an ARP probe: a reply from the VIP to the prober's MAC, no
// signature, padded by nobody on a veth.
Bytes arp_reply(const Mac& from, const IpAddress& vip, const Mac& to) {
  Bytes f = {to[0], to[1], to[2], to[3], to[4], to[5], from[0], from[1], from[2], from[3], from[4], from[5],
             0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02};
  f.insert(f.end(), from.begin(), from.end());
  f.insert(f.end(), vip.bytes().begin(), vip.bytes().begin() + 4);
  f.insert(f.end(), to.begin(), to.end());
  f.insert(f.end(), 4, 0);
  return f;
}

const IpAddress kVip4 = ip("10.9.0.100");
const IpAddress kVip6 = ip("2001:db8::100");

// `live`: a signed frame of the holder's was seen as it claims (by default: the signature is
// the one its frame carried).
ConflictEvent claimed(const Mac& holder, const IpAddress& vip, std::optional<Signature> signature,
                      std::optional<bool> live = std::nullopt) {
  const bool is_live = live.value_or(signature.has_value());
  return ConflictEvent{
      .kind = Kind::Claimed, .holder = holder, .vip = vip, .signature = std::move(signature), .live = is_live};
}

TEST(ClaimTracker, AnUnsignedReplyThenThePeersSignedProbe) {
  ClaimTracker t(kMac, Family::V4, {kVip4, ip("10.9.0.101")});
  t.set_reporting(true);
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), claimed(kPeerMac, kVip4, std::nullopt));
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);  // once per change, not per frame
  // Its lvsd probes too: the signature arrives, and with it a change to report.
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(100, "10.9.0.2"))), claimed(kPeerMac, kVip4, sig(100, "10.9.0.2")));
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(100, "10.9.0.2"))), std::nullopt);
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);
  // Its priority changes (a tracker): the rule must be evaluated again.
  EXPECT_EQ(t.frame(gratuitous_arp(kPeerMac, ip("10.9.0.101"), sig(90, "10.9.0.2"))),
            claimed(kPeerMac, ip("10.9.0.101"), sig(90, "10.9.0.2")));
  EXPECT_EQ(t.holders(), (std::vector<Holder>{{.mac = kPeerMac, .vip = ip("10.9.0.101"),
                                               .signature = sig(90, "10.9.0.2"), .unanswered = 0}}));
  EXPECT_EQ(t.counters(), (ConflictCounters{.conflicts = 1, .frames = 6}));
}

TEST(ClaimTracker, APeersGratuitousArpIsASignedClaim) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  t.set_reporting(true);
  EXPECT_EQ(t.frame(gratuitous_arp(kPeerMac, kVip4, sig(100, "10.9.0.2"))),
            claimed(kPeerMac, kVip4, sig(100, "10.9.0.2")));
}

TEST(ClaimTracker, SignaturesAreLearntWhileNotReporting) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  // A backup hears the master's probes and gratuitous ARPs, and reports nothing.
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(200, "10.9.0.2"))), std::nullopt);
  EXPECT_EQ(t.frame(gratuitous_arp(kPeerMac, kVip4)), std::nullopt);  // unsigned: forgets nothing
  EXPECT_EQ(t.signature_of(kPeerMac), sig(200, "10.9.0.2"));
  EXPECT_EQ(t.counters().conflicts, 0u);
  // Once master (a new epoch), the kernel's unsigned reply is reported with what its lvsd
  // said, not live: that lvsd may have died since and left the VIP on its kernel. Its next
  // signed frame is news.
  t.new_epoch();
  t.set_reporting(true);
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), claimed(kPeerMac, kVip4, sig(200, "10.9.0.2"), false));
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(200, "10.9.0.2"))), claimed(kPeerMac, kVip4, sig(200, "10.9.0.2")));
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(200, "10.9.0.2"))), std::nullopt);
}

TEST(ClaimTracker, ASignedProbeJustBeforeTheClaimMakesItLive) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  t.set_reporting(true);
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(200, "10.9.0.2"))), std::nullopt);  // no claim yet
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), claimed(kPeerMac, kVip4, sig(200, "10.9.0.2"), true));
  // A new mastership: liveness must be seen anew.
  t.set_reporting(false);
  t.new_epoch();
  t.set_reporting(true);
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), claimed(kPeerMac, kVip4, sig(200, "10.9.0.2"), false));
}

TEST(ClaimTracker, WhatIsNoClaim) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  t.set_reporting(true);
  EXPECT_EQ(t.frame(gratuitous_arp(kMac, kVip4, sig(1, "10.9.0.1"))), std::nullopt);  // ours
  EXPECT_EQ(t.frame(arp_probe(kPeerMac, kVip4, sig(1, "10.9.0.2"))), std::nullopt);  // a probe
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, ip("10.9.0.7"), kMac)), std::nullopt);      // not our VIP
  EXPECT_EQ(t.frame(gratuitous_arp(kThirdMac, ip("10.9.0.7"), sig(9, "10.9.0.3"))), std::nullopt);
  EXPECT_EQ(t.signature_of(kThirdMac), std::nullopt);  // another instance's business
  auto reverse = arp_reply(kPeerMac, kVip4, kMac);
  reverse[21] = 4;  // RARP reply
  EXPECT_EQ(t.frame(reverse), std::nullopt);
  auto echoed = arp_reply(kPeerMac, kVip4, kMac);
  std::copy(kMac.begin(), kMac.end(), echoed.begin() + 6);  // our Ethernet source, echoed by a bridge
  EXPECT_EQ(t.frame(echoed), std::nullopt);
  EXPECT_EQ(t.holders(), std::vector<Holder>{});
  EXPECT_EQ(t.counters(), (ConflictCounters{.frames = 6}));
}

TEST(ClaimTracker, GarbageIsCountedAndIgnored) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  t.set_reporting(true);
  auto garbage = arp_reply(kPeerMac, kVip4, kMac);
  garbage[15] = 0x20;  // hardware type 0x0020
  EXPECT_EQ(t.frame(garbage), std::nullopt);
  EXPECT_EQ(t.frame(Bytes(20, 0xAB)), std::nullopt);
  EXPECT_EQ(t.frame({}), std::nullopt);
  EXPECT_EQ(t.counters(), (ConflictCounters{.ignored = 3}));
}

TEST(ClaimTracker, AHolderIsGoneAfterThreeSilentRoundsAndForgottenWhenReportingStops) {
  ClaimTracker t(kMac, Family::V4, {kVip4});
  t.set_reporting(true);
  EXPECT_EQ(t.next_round(), std::vector<ConflictEvent>{});
  ASSERT_TRUE(t.frame(arp_reply(kPeerMac, kVip4, kMac)));
  ASSERT_TRUE(t.frame(arp_reply(kThirdMac, kVip4, kMac)));
  for (int round = 0; round < 3; ++round) {  // the peer answers, the third has gone quiet
    EXPECT_EQ(t.next_round(), std::vector<ConflictEvent>{}) << round;
    EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);
  }
  // The round of the third's claim closed answered, then three silent ones.
  EXPECT_EQ(t.next_round(), (std::vector<ConflictEvent>{{.kind = Kind::Gone, .holder = kThirdMac, .vip = kVip4,
                                                          .signature = std::nullopt}}));
  EXPECT_EQ(t.holders().size(), 1u);
  // It comes back: a new conflict.
  EXPECT_EQ(t.frame(arp_reply(kThirdMac, kVip4, kMac)), claimed(kThirdMac, kVip4, std::nullopt));
  EXPECT_EQ(t.counters().conflicts, 3u);
  t.set_reporting(false);
  EXPECT_EQ(t.holders(), std::vector<Holder>{});
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);
  EXPECT_EQ(t.next_round(), std::vector<ConflictEvent>{});
}

TEST(ClaimTracker, Ipv6AdvertsSolicitationsAndProbes) {
  ClaimTracker t(kMac, Family::V6, {kVip6});
  t.set_reporting(true);
  // The kernel's answer to a probe: an advert for the VIP, no signature.
  EXPECT_EQ(t.frame(unsolicited_na(kPeerMac, ip("2001:db8::100"), kVip6)), claimed(kPeerMac, kVip6, std::nullopt));
  // The peer's probe, from ::, signed.
  EXPECT_EQ(t.frame(neighbour_probe(kPeerMac, kVip6, sig(100, "fe80::2"))), claimed(kPeerMac, kVip6, sig(100, "fe80::2")));
  // A third resolves a neighbour from the VIP: that is a claim too.
  Bytes ns = neighbour_probe(kThirdMac, ip("2001:db8::7"));
  const IpAddress source = kVip6, destination = solicited_node_group(ip("2001:db8::7"));
  std::copy_n(source.bytes().begin(), 16, ns.begin() + 22);
  ns[56] = ns[57] = 0;
  const std::uint16_t sum = icmpv6_checksum(source, destination, std::span(ns).subspan(54));
  ns[56] = static_cast<std::uint8_t>(sum >> 8);
  ns[57] = static_cast<std::uint8_t>(sum);
  EXPECT_EQ(t.frame(ns), claimed(kThirdMac, kVip6, std::nullopt));
  EXPECT_EQ(t.frame(unsolicited_na(kMac, ip("fe80::1"), kVip6, sig(1, "fe80::1"))), std::nullopt);  // ours
  auto bad = unsolicited_na(kPeerMac, ip("fe80::2"), kVip6);
  bad[60] ^= 1;  // a reserved byte: the checksum no longer matches
  EXPECT_EQ(t.frame(bad), std::nullopt);
  EXPECT_EQ(t.frame(arp_reply(kPeerMac, kVip4, kMac)), std::nullopt);  // no ARP on an IPv6 watch
  EXPECT_EQ(t.counters(), (ConflictCounters{.conflicts = 2, .frames = 4, .ignored = 2}));
}

TEST(ClaimTracker, VipsOfAnotherFamilyAreAProgrammerError) {
  EXPECT_THROW(ClaimTracker(kMac, Family::V4, {kVip6}), std::invalid_argument);
}

TEST(ConflictEvent, InWords) {
  EXPECT_EQ(to_string(claimed(kPeerMac, kVip4, sig(100, "10.9.0.2"))),
            "10.9.0.100 is also held by 02:00:00:00:00:02 (lvsd: VRID 51, priority 100, primary 10.9.0.2)");
  EXPECT_EQ(to_string(claimed(kPeerMac, kVip4, std::nullopt)),
            "10.9.0.100 is also held by 02:00:00:00:00:02, which sends no lvsd signature: another director "
            "without lvsd, or a DR real server answering ARP for the VIP (set arp_ignore=1 and arp_announce=2 on "
            "real servers)");
  EXPECT_EQ(to_string(claimed(kPeerMac, kVip6, std::nullopt)),
            "2001:db8::100 is also held by 02:00:00:00:00:02, which sends no lvsd signature: another director "
            "without lvsd, or a DR real server answering neighbour solicitations for the VIP (real servers keep "
            "the VIP on lo, not on the interface that faces the directors)");
  EXPECT_EQ(to_string(ConflictEvent{.kind = Kind::Gone, .holder = kPeerMac, .vip = kVip4, .signature = std::nullopt}),
            "02:00:00:00:00:02 no longer answers for 10.9.0.100");
}

// --- watches on a link ---

bool run(const std::string& command) { return lvsd::testing::NetnsScope::run(command); }

// One director: its watch and what the watch reported.
struct Side {
  const OtherNetns* ns = nullptr;  // null: the test's own namespace (A)
  std::string interface;
  Mac mac{};
  Signature signature;
  std::optional<ConflictWatch> watch;
  std::vector<ConflictEvent> events;
  std::vector<std::string> log;

  Contender contender() const { return {.mac = mac, .signature = signature}; }
  // The last claim reported with a signature; nullopt when none was.
  std::optional<ConflictEvent> signed_claim() const {
    for (auto e = events.rbegin(); e != events.rend(); ++e)
      if (e->kind == Kind::Claimed && e->signature) return *e;
    return std::nullopt;
  }
  bool holds(const std::string& vip) const {
    Entered in(ns);
    // Without duplicate address detection, as lvsd adds its VIPs: a tentative address would
    // not answer, and our probe would fail its detection.
    return run("ip addr add " + vip + " dev " + interface + (vip.find(':') != std::string::npos ? " nodad" : ""));
  }
  bool drops(const std::string& vip) const {
    Entered in(ns);
    return run("ip addr del " + vip + " dev " + interface);
  }
};

// Director A (the test's namespace: v0, 02:00:00:00:00:01, 10.9.0.1, fe80::1) and director B
// (its own: v1, 02:00:00:00:00:02, 10.9.0.2, fe80::2), one veth pair between them. The
// parameter is the family of the VIP.
class ConflictLink : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    if (!a_ns_.ok() || !b_ns_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    ASSERT_TRUE(lvsd::testing::director_link(b_ns_, true));
    const bool v4 = GetParam() == Family::V4;
    vip_ = v4 ? kVip4 : kVip6;
    vip_text_ = v4 ? "10.9.0.100/32" : "2001:db8::100/128";
    a_ = Side{.ns = nullptr, .interface = "v0", .mac = kMac, .signature = sig(200, v4 ? "10.9.0.1" : "fe80::1")};
    b_ = Side{.ns = &b_ns_, .interface = "v1", .mac = kPeerMac, .signature = sig(100, v4 ? "10.9.0.2" : "fe80::2")};
  }

  // The side's watch, opened in its namespace, signed, listening.
  void open(Side& s, std::chrono::milliseconds interval) {
    Entered in(s.ns);
    auto w = ConflictWatch::open(
        io_.get_executor(),
        ConflictOptions{.interface = s.interface, .family = GetParam(), .vips = {vip_}, .probe_interval = interval},
        [&s](const ConflictEvent& e) { s.events.push_back(e); }, [&s](std::string_view line) { s.log.emplace_back(line); });
    ASSERT_TRUE(w) << w.error();
    s.watch.emplace(std::move(*w));
    ASSERT_EQ(s.watch->mac(), s.mac);
    s.watch->set_signature(s.signature);
    s.watch->start();
  }

  bool until(const std::function<bool()>& done, std::chrono::steady_clock::duration limit = 5s) {
    return lvsd::testing::run_until(io_, done, limit);
  }
  bool throughout(const std::function<bool()>& holds, std::chrono::steady_clock::duration span) {
    return lvsd::testing::run_throughout(io_, holds, span);
  }

  // Every event `s` reported claims `vip_` for `holder`, with no signature or then `signature`,
  // each once: a change, never a repeat.
  void expect_claims(const Side& s, const Mac& holder, const std::optional<Signature>& signature) {
    ASSERT_FALSE(s.events.empty());
    for (const auto& e : s.events) {
      EXPECT_EQ(e.kind, Kind::Claimed);
      EXPECT_EQ(e.holder, holder);
      EXPECT_EQ(e.vip, vip_);
    }
    EXPECT_EQ(s.events.back().signature, signature);
    EXPECT_EQ(s.events.back().live, signature.has_value());
    EXPECT_LE(s.events.size(), signature ? 2u : 1u);
    if (s.events.size() == 2) {
      // First the kernel's unsigned reply (with the signature learnt before, if any), then
      // the first signed frame, which says that its lvsd runs.
      EXPECT_FALSE(s.events.front().live);
    }
    EXPECT_EQ(s.watch->counters().conflicts, 1u);
  }

  asio::io_context io_;
  lvsd::testing::NetnsScope a_ns_;
  OtherNetns b_ns_;
  Side a_;
  Side b_;
  IpAddress vip_;
  std::string vip_text_;
};

std::string family_name(const ::testing::TestParamInfo<Family>& info) {
  return info.param == Family::V4 ? "Ipv4" : "Ipv6";
}
INSTANTIATE_TEST_SUITE_P(Families, ConflictLink, ::testing::Values(Family::V4, Family::V6), family_name);

// Both hold the VIP, both probe at once (as each does on becoming master): each reports the
// other's claim with the other's MAC and signature, and both evaluate the rule the same way.
// The interval is 10 s: only probe_now() can find it this soon.
TEST_P(ConflictLink, TwoMastersFindEachOtherAtOnceAfterProbeNow) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 10s));
  ASSERT_NO_FATAL_FAILURE(open(b_, 10s));
  ASSERT_TRUE(a_.holds(vip_text_));
  ASSERT_TRUE(b_.holds(vip_text_));
  const auto probed = std::chrono::steady_clock::now();
  a_.watch->probe_now();
  b_.watch->probe_now();
  ASSERT_TRUE(until([&] { return a_.signed_claim() && b_.signed_claim(); }, 2s));
  const Ms took = std::chrono::steady_clock::now() - probed;
  std::printf("probe_now -> both see the other's signed claim: %.1f ms\n", took.count());
  EXPECT_LT(took, Ms(500));
  EXPECT_TRUE(throughout([&] { return a_.events.size() <= 2 && b_.events.size() <= 2; }, 200ms));
  expect_claims(a_, kPeerMac, b_.signature);
  expect_claims(b_, kMac, a_.signature);
  const Contender b_seen_by_a{.mac = a_.events.back().holder, .signature = *a_.events.back().signature};
  const Contender a_seen_by_b{.mac = b_.events.back().holder, .signature = *b_.events.back().signature};
  EXPECT_FALSE(yields(a_.contender(), b_seen_by_a));  // A (200) stays master
  EXPECT_TRUE(yields(b_.contender(), a_seen_by_b));   // B (100) yields
  EXPECT_EQ(a_.watch->holders(), (std::vector<Holder>{{.mac = kPeerMac, .vip = vip_, .signature = b_.signature,
                                                       .unanswered = 0}}));
  EXPECT_EQ(a_.watch->counters().probes_sent, 1u);
  EXPECT_EQ(a_.watch->counters().ignored, 0u);
  EXPECT_EQ(a_.log, std::vector<std::string>{});
}

// Without probe_now(): the timed rounds find it within an interval, then say nothing more
// while nothing changes; probing off forgets it, on again reports it anew.
TEST_P(ConflictLink, TimedProbesFindItWithinAnIntervalAndReportItOnce) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 100ms));
  ASSERT_NO_FATAL_FAILURE(open(b_, 100ms));
  ASSERT_TRUE(a_.holds(vip_text_));
  ASSERT_TRUE(b_.holds(vip_text_));
  const auto on = std::chrono::steady_clock::now();
  a_.watch->set_probing(true);
  b_.watch->set_probing(true);
  ASSERT_TRUE(until([&] { return a_.signed_claim() && b_.signed_claim(); }, 2s));
  const Ms took = std::chrono::steady_clock::now() - on;
  std::printf("timed probes at 100 ms -> both see the other's signed claim: %.1f ms\n", took.count());
  EXPECT_GE(took, Ms(95));  // the first timed round is one interval away
  EXPECT_LT(took, Ms(250));
  const auto sent = a_.watch->counters().probes_sent;
  EXPECT_TRUE(throughout([&] { return a_.events.size() <= 2 && b_.events.size() <= 2; }, 600ms));
  EXPECT_GE(a_.watch->counters().probes_sent, sent + 4);
  expect_claims(a_, kPeerMac, b_.signature);
  expect_claims(b_, kMac, a_.signature);
  ASSERT_EQ(a_.watch->holders().size(), 1u);
  EXPECT_EQ(a_.watch->holders()[0].unanswered, 0u);  // it keeps answering

  a_.watch->set_probing(false);
  EXPECT_FALSE(a_.watch->probing());
  EXPECT_EQ(a_.watch->holders(), std::vector<Holder>{});
  const auto stopped = a_.watch->counters().probes_sent;
  EXPECT_TRUE(throughout([&] { return a_.events.size() <= 2; }, 300ms));
  EXPECT_EQ(a_.watch->counters().probes_sent, stopped);
  const auto count = a_.events.size();
  a_.watch->probe_now();
  ASSERT_TRUE(until([&] { return a_.events.size() == count + 1; }, 1s));
  // It knows B's signature already: the first claim of the new round of probing carries it,
  // live once B's next signed probe is seen (at once, or within B's interval).
  EXPECT_EQ(a_.events.back().holder, kPeerMac);
  EXPECT_EQ(a_.events.back().signature, b_.signature);
  ASSERT_TRUE(until([&] { return a_.events.back().live; }, 1s));
  EXPECT_EQ(a_.events.back(), claimed(kPeerMac, vip_, b_.signature));
  EXPECT_EQ(a_.watch->counters().conflicts, 2u);
}

// A backup learns its master's signature from the master's probes, so when it becomes master
// in turn, its first claim is already signed.
TEST_P(ConflictLink, ABackupKnowsTheMastersSignatureBeforeItsFirstClaim) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 50ms));
  ASSERT_NO_FATAL_FAILURE(open(b_, 50ms));
  ASSERT_TRUE(a_.holds(vip_text_));
  a_.watch->set_probing(true);  // A master, B backup: B holds no VIP, and reports nothing
  ASSERT_TRUE(until([&] { return b_.watch->counters().frames >= 3; }));
  if (GetParam() == Family::V6) {
    // B's kernel did not join the VIP's solicited-node group (B holds no VIP); the watch did,
    // or a NIC's multicast filter would keep A's probes from it.
    Entered in(&b_ns_);
    EXPECT_TRUE(run("ip maddr show dev v1 | grep -q 'link  33:33:ff:00:01:00'"));
  }
  EXPECT_EQ(b_.events, std::vector<ConflictEvent>{});
  EXPECT_EQ(a_.events, std::vector<ConflictEvent>{});
  ASSERT_TRUE(b_.holds(vip_text_));  // the adverts are lost: B becomes master too
  b_.watch->new_epoch();              // as the runner does on becoming master
  b_.watch->probe_now();
  ASSERT_TRUE(until([&] { return !b_.events.empty() && b_.events.back().live && a_.signed_claim(); }));
  // A's kernel's reply first, with the signature learnt as backup (not live: it may be that
  // of an lvsd since gone), then A's next signed probe, which says that its lvsd runs.
  EXPECT_EQ(b_.events, (std::vector<ConflictEvent>{claimed(kMac, vip_, a_.signature, false),
                                                   claimed(kMac, vip_, a_.signature, true)}));
  expect_claims(a_, kPeerMac, b_.signature);
}

// B's lvsd announces the VIP (a gratuitous ARP or unsolicited NA, signed): that alone is a
// signed claim, whether B's kernel holds the VIP or not.
TEST_P(ConflictLink, APeersAnnouncementIsASignedClaim) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 10s));
  a_.watch->set_probing(true);
  Entered in(&b_ns_);
  auto announcer = Announcer::open("v1");
  ASSERT_TRUE(announcer) << announcer.error();
  announcer->set_signature(b_.signature);
  ASSERT_FALSE(announcer->announce(vip_));
  ASSERT_TRUE(until([&] { return !a_.events.empty(); }));
  EXPECT_EQ(a_.events, (std::vector<ConflictEvent>{claimed(kPeerMac, vip_, b_.signature)}));
}

// A plain kernel holds the VIP (no lvsd there): a claim without a signature, once, and a log
// line that says what it may be.
TEST_P(ConflictLink, AVipHeldByAPlainKernelIsAnUnsignedClaim) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 50ms));
  ASSERT_TRUE(b_.holds(vip_text_));
  a_.watch->probe_now();
  ASSERT_TRUE(until([&] { return !a_.events.empty(); }));
  EXPECT_TRUE(throughout([&] { return a_.events.size() == 1; }, 300ms));
  EXPECT_EQ(a_.events, (std::vector<ConflictEvent>{claimed(kPeerMac, vip_, std::nullopt)}));
  EXPECT_NE(to_string(a_.events[0]).find("a DR real server"), std::string::npos);
  EXPECT_GE(a_.watch->counters().probes_sent, 5u);
  EXPECT_EQ(a_.watch->counters().send_errors, 0u);
}

// The other side drops the VIP: gone after three silent rounds, not before.
TEST_P(ConflictLink, TheOtherHolderIsGoneAfterItDropsTheVip) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 50ms));
  ASSERT_NO_FATAL_FAILURE(open(b_, 50ms));
  ASSERT_TRUE(a_.holds(vip_text_));
  ASSERT_TRUE(b_.holds(vip_text_));
  a_.watch->probe_now();
  b_.watch->probe_now();
  ASSERT_TRUE(until([&] { return a_.signed_claim().has_value(); }));
  // While B answers, it stays (ten rounds).
  EXPECT_TRUE(throughout([&] { return a_.events.back().kind == Kind::Claimed; }, 500ms));
  ASSERT_TRUE(b_.drops(vip_text_));  // B yielded; its probes go on, and are no claims
  const auto dropped = std::chrono::steady_clock::now();
  ASSERT_TRUE(until([&] { return a_.events.back().kind == Kind::Gone; }, 2s));
  const Ms took = std::chrono::steady_clock::now() - dropped;
  std::printf("VIP dropped -> gone: %.1f ms (3 rounds of 50 ms)\n", took.count());
  EXPECT_GE(took, Ms(100));  // at least two whole silent rounds
  EXPECT_LT(took, Ms(500));
  EXPECT_EQ(a_.events.back(),
            (ConflictEvent{.kind = Kind::Gone, .holder = kPeerMac, .vip = vip_, .signature = b_.signature, .live = true}));
  EXPECT_EQ(a_.watch->holders(), std::vector<Holder>{});
  // B, still probing, hears A answer all along.
  EXPECT_EQ(b_.events.back().kind, Kind::Claimed);
}

// A malformed frame of the watched kind is counted and ignored; what the filter keeps out
// (IPv4 for an ARP watch, UDP for an IPv6 one) is not even counted.
TEST_P(ConflictLink, GarbageIsCountedAndIgnored) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 50ms));
  a_.watch->set_probing(true);
  Bytes filtered, garbage;
  if (GetParam() == Family::V4) {
    filtered = arp_reply(kPeerMac, kVip4, kMac);
    filtered[12] = 0x08, filtered[13] = 0x00;  // EtherType IPv4
    garbage = arp_reply(kPeerMac, kVip4, kMac);
    garbage[15] = 0x20;  // hardware type 0x0020
  } else {
    filtered = unsolicited_na(kPeerMac, ip("fe80::2"), kVip6);
    filtered[20] = 17;  // UDP
    garbage = unsolicited_na(kPeerMac, ip("fe80::2"), kVip6);
    garbage[60] ^= 1;  // a reserved byte: the checksum no longer matches
  }
  {
    Entered in(&b_ns_);
    auto sender = Announcer::open("v1");
    ASSERT_TRUE(sender) << sender.error();
    ASSERT_FALSE(sender->send(filtered));
    ASSERT_FALSE(sender->send(garbage));  // after: when it is counted, the first was seen too
  }
  ASSERT_TRUE(until([&] { return a_.watch->counters().ignored >= 1; }));
  EXPECT_TRUE(throughout([&] { return a_.watch->counters().ignored == 1; }, 200ms));
  EXPECT_EQ(a_.watch->counters().frames, 0u);
  EXPECT_EQ(a_.events, std::vector<ConflictEvent>{});
}

// The link goes down under a master: every probe fails, each is counted, one line a second.
TEST_P(ConflictLink, ProbesThatCannotBeSentAreCountedAndLoggedOnceASecond) {
  ASSERT_NO_FATAL_FAILURE(open(a_, 10s));
  ASSERT_TRUE(run("ip link set v0 down"));
  for (int i = 0; i < 3; ++i) a_.watch->probe_now();
  EXPECT_EQ(a_.watch->counters().send_errors, 3u);
  EXPECT_EQ(a_.watch->counters().probes_sent, 0u);
  EXPECT_EQ(a_.log, std::vector<std::string>{"conflict watch on v0: cannot probe " + vip_.to_string() +
                                             ": Network is down"});
}

TEST(ConflictWatchOpen, SaysWhatIsWrong) {
  lvsd::testing::NetnsScope ns;
  if (!ns.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
  asio::io_context io;
  auto missing = ConflictWatch::open(io.get_executor(), ConflictOptions{.interface = "nope0", .vips = {kVip4}}, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "conflict watch on nope0: no interface nope0");
  auto loopback = ConflictWatch::open(io.get_executor(), ConflictOptions{.interface = "lo", .vips = {kVip4}}, {});
  ASSERT_FALSE(loopback);
  EXPECT_EQ(loopback.error(), "conflict watch on lo: lo is not an Ethernet interface");
  auto family = ConflictWatch::open(io.get_executor(), ConflictOptions{.interface = "lo", .vips = {kVip6}}, {});
  ASSERT_FALSE(family);
  EXPECT_EQ(family.error(), "conflict watch on lo: VIP 2001:db8::100 is not IPv4");
}

}  // namespace
}  // namespace lvsd::vrrp
