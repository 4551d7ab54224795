// ARP and neighbour discovery frames against golden bytes, and sent across a veth pair.
#include "lvsd/vrrp/announce.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {
using model::Family;
using model::IpAddress;
using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

constexpr Mac kMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Mac kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

const Bytes kGratuitousArp = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,  // Ethernet
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,                                      // request
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x0a,                          // us, the VIP
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x0a,                          // ?, the VIP
};

const Bytes kArpProbe = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // sender IP 0.0.0.0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x0a,
};

// fe80::1 -> ff02::1 for 2001:db8::100; the checksum computed apart (Python, from RFC 4443
// 2.3's pseudo-header).
const Bytes kUnsolicitedNa = {
    0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,  // Ethernet
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,                                      // 32 bytes, ICMPv6, 255
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x88, 0x00, 0x27, 0x64, 0x20, 0x00, 0x00, 0x00,  // type 136, checksum, Override
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  // target link-layer address
};

// :: -> ff02::1:ff00:100 (the solicited-node group of 2001:db8::100), no options.
const Bytes kNeighbourProbe = {
    0x33, 0x33, 0xff, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x01, 0x00,
    0x87, 0x00, 0x4a, 0xef, 0x00, 0x00, 0x00, 0x00,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
};

const Signature kSignature4{.vrid = 51, .priority = 200, .primary = ip("192.0.2.1")};
const Signature kSignature6{.vrid = 51, .priority = 200, .primary = ip("fe80::1")};

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The ARP frames padded to 60 bytes with the signature in the padding.
const Bytes kArpSignature = {
    0x4c, 0x56, 0x53, 0x44, 0x01, 0x33, 0xc8,  // "LVSD", version 1, VRID 51, priority 200
    0xc0, 0x00, 0x02, 0x01,                    // primary 192.0.2.1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // to 60 bytes
};
const Bytes kSignedGratuitousArp = concat(kGratuitousArp, kArpSignature);
const Bytes kSignedArpProbe = concat(kArpProbe, kArpSignature);

// Option 253, 4 units of 8 bytes: "LVSD", version 1, VRID 51, priority 200, 7 zeros, fe80::1.
const Bytes kNdSignature = {
    0xfd, 0x04, 0x4c, 0x56, 0x53, 0x44, 0x01, 0x33, 0xc8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

// kUnsolicitedNa and kNeighbourProbe with the option: payload length and checksum change
// (computed apart, as above).
const Bytes kSignedUnsolicitedNa = [] {
  Bytes f = concat(kUnsolicitedNa, kNdSignature);
  f[19] = 0x40;  // 64 bytes
  f[56] = 0xc2;
  f[57] = 0xee;
  return f;
}();
const Bytes kSignedNeighbourProbe = [] {
  Bytes f = concat(kNeighbourProbe, kNdSignature);
  f[19] = 0x38;  // 56 bytes
  f[56] = 0xe6;
  f[57] = 0x79;
  return f;
}();

// The addresses, payload length and checksum of an ND frame set anew, so that only what a
// test changed in its ICMPv6 part is wrong.
Bytes resealed(Bytes frame, const IpAddress& source, const IpAddress& destination) {
  std::copy_n(source.bytes().begin(), 16, frame.begin() + 22);
  std::copy_n(destination.bytes().begin(), 16, frame.begin() + 38);
  const std::size_t length = frame.size() - 54;
  frame[18] = static_cast<std::uint8_t>(length >> 8);
  frame[19] = static_cast<std::uint8_t>(length);
  frame[56] = frame[57] = 0;
  const std::uint16_t sum = icmpv6_checksum(source, destination, std::span(frame).subspan(54));
  frame[56] = static_cast<std::uint8_t>(sum >> 8);
  frame[57] = static_cast<std::uint8_t>(sum);
  return frame;
}

TEST(AnnounceFrames, GratuitousArpIsABroadcastRequestFromAndForTheVip) {
  EXPECT_EQ(gratuitous_arp(kMac, ip("192.0.2.10")), kGratuitousArp);
}

TEST(AnnounceFrames, ArpProbeHasNoSenderAddress) { EXPECT_EQ(arp_probe(kMac, ip("192.0.2.10")), kArpProbe); }

TEST(AnnounceFrames, UnsolicitedNaGoesToAllNodesWithOverride) {
  EXPECT_EQ(unsolicited_na(kMac, ip("fe80::1"), ip("2001:db8::100")), kUnsolicitedNa);
}

TEST(AnnounceFrames, NeighbourProbeIsADadSolicitation) {
  EXPECT_EQ(neighbour_probe(kMac, ip("2001:db8::100")), kNeighbourProbe);
}

TEST(AnnounceFrames, VirtualMacCarriesTheVrid) {
  EXPECT_EQ(virtual_mac(51, Family::V4), (Mac{0x00, 0x00, 0x5e, 0x00, 0x01, 0x33}));
  EXPECT_EQ(virtual_mac(51, Family::V6), (Mac{0x00, 0x00, 0x5e, 0x00, 0x02, 0x33}));
  EXPECT_EQ(to_string(virtual_mac(255, Family::V4)), "00:00:5e:00:01:ff");
}

TEST(AnnounceFrames, AnAddressOfTheWrongFamilyIsAProgrammerError) {
  try {
    gratuitous_arp(kMac, ip("2001:db8::1"));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ARP target 2001:db8::1 is not IPv4");
  }
  EXPECT_THROW(unsolicited_na(kMac, ip("10.0.0.1"), ip("2001:db8::1")), std::invalid_argument);
  EXPECT_THROW(neighbour_probe(kMac, ip("10.0.0.1")), std::invalid_argument);
}

TEST(AnnounceFrames, SignedArpFramesCarryTheSignatureInTheirPadding) {
  EXPECT_EQ(gratuitous_arp(kMac, ip("192.0.2.10"), kSignature4), kSignedGratuitousArp);
  EXPECT_EQ(arp_probe(kMac, ip("192.0.2.10"), kSignature4), kSignedArpProbe);
  EXPECT_EQ(kSignedArpProbe.size(), 60u);
}

TEST(AnnounceFrames, SignedNdFramesCarryTheSignatureAsAnExperimentalOption) {
  EXPECT_EQ(unsolicited_na(kMac, ip("fe80::1"), ip("2001:db8::100"), kSignature6), kSignedUnsolicitedNa);
  EXPECT_EQ(neighbour_probe(kMac, ip("2001:db8::100"), kSignature6), kSignedNeighbourProbe);
}

TEST(AnnounceFrames, ASignatureOfTheWrongFamilyIsAProgrammerError) {
  try {
    arp_probe(kMac, ip("192.0.2.10"), kSignature6);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "signature primary fe80::1 is not IPv4");
  }
  EXPECT_THROW(neighbour_probe(kMac, ip("2001:db8::100"), kSignature4), std::invalid_argument);
  EXPECT_THROW(unsolicited_na(kMac, ip("fe80::1"), ip("2001:db8::100"), kSignature4), std::invalid_argument);
}

TEST(AnnounceFrames, SolicitedNodeGroupAndItsMac) {
  EXPECT_EQ(solicited_node_group(ip("2001:db8::12:3456")), ip("ff02::1:ff12:3456"));
  EXPECT_EQ(multicast_mac(ip("ff02::1:ff12:3456")), (Mac{0x33, 0x33, 0xff, 0x12, 0x34, 0x56}));
}

TEST(AnnounceFrames, SignatureInWords) {
  EXPECT_EQ(to_string(kSignature4), "VRID 51, priority 200, primary 192.0.2.1");
}

TEST(ParseArp, ReadsAGratuitousRequest) {
  EXPECT_EQ(parse_arp(kGratuitousArp), (ArpMessage{.op = 1, .sender_mac = kMac, .sender_ip = ip("192.0.2.10"),
                                                   .target_mac = {}, .target_ip = ip("192.0.2.10")}));
}

TEST(ParseArp, ReadsAReplyPaddedToTheEthernetMinimum) {
  Bytes reply = {
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x0a,
      0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
  };
  reply.resize(60);
  EXPECT_EQ(parse_arp(reply), (ArpMessage{.op = 2, .sender_mac = kPeerMac, .sender_ip = ip("192.0.2.10"),
                                          .target_mac = kMac, .target_ip = ip("0.0.0.0")}));
}

TEST(ParseArp, RefusesOtherFrames) {
  EXPECT_FALSE(parse_arp(std::span(kGratuitousArp).first(41)));
  EXPECT_FALSE(parse_arp(kUnsolicitedNa));
  auto other = kGratuitousArp;
  other[17] = 0xdd;  // protocol type 0x86dd
  other[15] = 0x01;
  EXPECT_FALSE(parse_arp(other));
  other = kGratuitousArp;
  other[19] = 16;  // protocol address length
  EXPECT_FALSE(parse_arp(other));
}

TEST(ParseArp, ReadsTheSignature) {
  auto m = parse_arp(kSignedGratuitousArp);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->signature, kSignature4);
  EXPECT_EQ(m->sender_ip, ip("192.0.2.10"));
  m = parse_arp(arp_probe(kPeerMac, ip("10.0.0.7"), Signature{.vrid = 7, .priority = 1, .primary = ip("10.0.0.2")}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->signature, (Signature{.vrid = 7, .priority = 1, .primary = ip("10.0.0.2")}));
  EXPECT_EQ(m->sender_mac, kPeerMac);
}

TEST(ParseArp, PaddingThatIsNoSignatureGivesNone) {
  EXPECT_EQ(parse_arp(kGratuitousArp)->signature, std::nullopt);  // 42 bytes: no padding at all
  auto zeros = kGratuitousArp;
  zeros.resize(60);  // as a driver pads it
  EXPECT_EQ(parse_arp(zeros)->signature, std::nullopt);
  auto junk = kSignedGratuitousArp;
  junk[43] = 'X';  // "LXSD"
  EXPECT_EQ(parse_arp(junk)->signature, std::nullopt);
  auto later = kSignedGratuitousArp;
  later[46] = 2;  // a version we do not know
  EXPECT_EQ(parse_arp(later)->signature, std::nullopt);
  // Cut before the end of the primary address.
  EXPECT_EQ(parse_arp(std::span(kSignedGratuitousArp).first(52))->signature, std::nullopt);
  EXPECT_EQ(parse_arp(std::span(kSignedGratuitousArp).first(53))->signature, kSignature4);
}

TEST(ParseNa, ReadsAnUnsolicitedAdvert) {
  EXPECT_EQ(parse_na(kUnsolicitedNa),
            (NeighbourAdvert{.ethernet_source = kMac, .source = ip("fe80::1"), .destination = ip("ff02::1"),
                             .target = ip("2001:db8::100"), .router = false, .solicited = false,
                             .override_flag = true, .target_mac = kMac}));
}

TEST(ParseNa, RefusesWhatRfc4861SaysToDrop) {
  auto bad = kUnsolicitedNa;
  bad[21] = 64;  // hop limit
  EXPECT_FALSE(parse_na(bad));
  bad = kUnsolicitedNa;
  bad[70] ^= 0x01;  // the target: the checksum no longer matches
  EXPECT_FALSE(parse_na(bad));
  EXPECT_FALSE(parse_na(std::span(kUnsolicitedNa).first(kUnsolicitedNa.size() - 1)));  // shorter than its length
  EXPECT_FALSE(parse_na(unsolicited_na(kMac, ip("fe80::1"), ip("ff02::5"))));          // multicast target
  EXPECT_FALSE(parse_na(kNeighbourProbe));                                             // a solicitation
  EXPECT_FALSE(parse_na(kGratuitousArp));
}

TEST(ParseNa, ReadsTheSignatureAndStillTheTargetAddress) {
  const auto na = parse_na(kSignedUnsolicitedNa);
  ASSERT_TRUE(na);
  EXPECT_EQ(na->signature, kSignature6);
  EXPECT_EQ(na->target_mac, kMac);
  EXPECT_EQ(parse_na(kUnsolicitedNa)->signature, std::nullopt);
  auto other = kSignedUnsolicitedNa;
  other[89] = 'X';  // "LXSD": an experimental option of someone else's, skipped
  const auto foreign = parse_na(resealed(other, ip("fe80::1"), ip("ff02::1")));
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->signature, std::nullopt);
  EXPECT_EQ(foreign->target_mac, kMac);
}

TEST(ParseNs, ReadsADadProbe) {
  EXPECT_EQ(parse_ns(kNeighbourProbe),
            (NeighbourSolicitation{.ethernet_source = kMac, .source = ip("::"), .destination = ip("ff02::1:ff00:100"),
                                   .target = ip("2001:db8::100"), .source_mac = std::nullopt,
                                   .signature = std::nullopt}));
  const auto signed_probe = parse_ns(kSignedNeighbourProbe);
  ASSERT_TRUE(signed_probe);
  EXPECT_EQ(signed_probe->signature, kSignature6);
  EXPECT_EQ(signed_probe->target, ip("2001:db8::100"));
}

TEST(ParseNs, RefusesWhatRfc4861SaysToDrop) {
  // Resealed unchanged: still a probe (the helper is right).
  EXPECT_TRUE(parse_ns(resealed(kNeighbourProbe, ip("::"), ip("ff02::1:ff00:100"))));
  // From ::, to a group that is not a solicited-node one.
  EXPECT_FALSE(parse_ns(resealed(kNeighbourProbe, ip("::"), ip("ff02::1"))));
  // From ::, with a source link-layer address option.
  const Bytes source_option = {0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  EXPECT_FALSE(parse_ns(resealed(concat(kNeighbourProbe, source_option), ip("::"), ip("ff02::1:ff00:100"))));
  // The same from an address: a plain solicitation, and the option is read.
  const auto from_address =
      parse_ns(resealed(concat(kNeighbourProbe, source_option), ip("2001:db8::1"), ip("ff02::1:ff00:100")));
  ASSERT_TRUE(from_address);
  EXPECT_EQ(from_address->source_mac, kMac);
  EXPECT_EQ(from_address->source, ip("2001:db8::1"));
  auto bad = kNeighbourProbe;
  bad[21] = 64;  // hop limit
  EXPECT_FALSE(parse_ns(bad));
  bad = kSignedNeighbourProbe;
  bad[86] ^= 0x01;  // the signature's priority: the checksum covers it
  EXPECT_FALSE(parse_ns(bad));
  EXPECT_FALSE(parse_ns(kUnsolicitedNa));
  EXPECT_FALSE(parse_ns(kSignedArpProbe));
}

TEST(Icmpv6Checksum, OfAValidMessageIsZero) {
  const auto icmp = std::span(kUnsolicitedNa).subspan(54);
  EXPECT_EQ(icmpv6_checksum(ip("fe80::1"), ip("ff02::1"), icmp), 0);
}

TEST(AnnouncerOpen, SaysWhatIsWrong) {
  lvsd::testing::NetnsScope ns;
  if (!ns.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
  auto missing = Announcer::open("nope0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no interface nope0");
  auto loopback = Announcer::open("lo");
  ASSERT_FALSE(loopback);
  EXPECT_EQ(loopback.error(), "lo is not an Ethernet interface");
}

// An AF_PACKET socket reading one EtherType on one interface, as the conflict detector will.
class Listener {
 public:
  Listener(const char* interface, std::uint16_t ethertype) {
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ethertype));
    if (fd_ < 0) throw std::runtime_error("no packet socket");
    sockaddr_ll at{};
    at.sll_family = AF_PACKET;
    at.sll_protocol = htons(ethertype);
    at.sll_ifindex = static_cast<int>(::if_nametoindex(interface));
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) throw std::runtime_error("cannot bind");
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The first incoming frame `wanted` accepts, within 5 s. The kernels on the link send
  // their own frames too (MLD reports, router solicitations): those are passed over.
  std::optional<Bytes> next(const std::function<bool(const Bytes&)>& wanted) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    Bytes frame(2048);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      sockaddr_ll from{};
      socklen_t size = sizeof from;
      const auto n = ::recvfrom(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&from), &size);
      if (n < 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
      Bytes got(frame.begin(), frame.begin() + n);
      if (wanted(got)) return got;
    }
  }

 private:
  int fd_ = -1;
};

bool from(const Bytes& frame, const Mac& mac) { return frame.size() >= 12 && std::equal(mac.begin(), mac.end(), frame.begin() + 6); }

bool eventually(const std::string& command) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline)
    if (lvsd::testing::NetnsScope::run(command)) return true;
  return false;
}

// v0 (02:00:00:00:00:01; 10.0.0.1, fe80::1) and v1 (02:00:00:00:00:02; 10.0.0.2,
// 2001:db8::2), a veth pair in one namespace: what v0 sends, v1 receives.
class AnnounceLink : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    ASSERT_TRUE(ns_.run(
        "ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02"
        " && ip link set v0 addrgenmode none && ip link set v1 addrgenmode none"
        " && ip addr add 10.0.0.1/24 dev v0 && ip addr add fe80::1/64 dev v0 nodad"
        " && ip addr add 10.0.0.2/24 dev v1 && ip addr add 2001:db8::2/64 dev v1 nodad"
        " && ip link set v0 up && ip link set v1 up"));
    // Until the carrier is seen, the queue is noop and drops what is sent.
    ASSERT_TRUE(eventually("ip link show v0 | grep -q 'qdisc noqueue' && ip link show v1 | grep -q 'qdisc noqueue'"));
    auto a = Announcer::open("v0");
    ASSERT_TRUE(a) << a.error();
    announcer_.emplace(std::move(*a));
  }

  lvsd::testing::NetnsScope ns_;
  std::optional<Announcer> announcer_;
};

TEST_F(AnnounceLink, GratuitousArpArrivesAndUpdatesTheNeighbourEntry) {
  ASSERT_EQ(announcer_->mac(), kMac);
  // A stale entry pointing elsewhere, as a backup's peers hold for the old master.
  ASSERT_TRUE(ns_.run("ip neigh replace 10.0.0.100 lladdr 02:00:00:00:00:99 dev v1 nud stale"));
  Listener listener("v1", ETH_P_ARP);
  ASSERT_FALSE(announcer_->announce(ip("10.0.0.100")));
  EXPECT_EQ(announcer_->sent(), 1u);
  const auto frame = listener.next([](const Bytes& f) { return from(f, kMac); });
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, gratuitous_arp(kMac, ip("10.0.0.100")));
  EXPECT_TRUE(eventually("ip neigh show 10.0.0.100 dev v1 | grep -q 'lladdr 02:00:00:00:00:01'"));
}

TEST_F(AnnounceLink, UnsolicitedNaArrivesAndUpdatesTheNeighbourEntry) {
  ASSERT_TRUE(ns_.run("ip -6 neigh replace 2001:db8::100 lladdr 02:00:00:00:00:99 dev v1 nud stale"));
  Listener listener("v1", ETH_P_IPV6);
  ASSERT_FALSE(announcer_->announce(ip("2001:db8::100")));
  const auto frame = listener.next([](const Bytes& f) { return from(f, kMac) && parse_na(f); });
  ASSERT_TRUE(frame);
  EXPECT_EQ(*frame, kUnsolicitedNa);  // from v0's link-local address, fe80::1
  // The kernel checks the hop limit and the checksum before it takes the new address.
  EXPECT_TRUE(eventually("ip -6 neigh show 2001:db8::100 dev v1 | grep -q 'lladdr 02:00:00:00:00:01'"));
}

TEST_F(AnnounceLink, AnnouncingIpv6NeedsALinkLocalAddress) {
  auto a = Announcer::open("v1");  // v1 has only 2001:db8::2
  ASSERT_TRUE(a);
  EXPECT_EQ(a->announce(ip("2001:db8::100")), boost::system::errc::address_not_available);
  EXPECT_EQ(a->sent(), 0u);
}

TEST_F(AnnounceLink, ArpProbeIsAnsweredByTheHolderOfTheVip) {
  // v1 stands for a second master that holds the VIP.
  ASSERT_TRUE(ns_.run("ip addr add 10.0.0.100/32 dev v1"));
  Listener listener("v0", ETH_P_ARP);
  ASSERT_FALSE(announcer_->probe(ip("10.0.0.100")));
  const auto frame = listener.next([](const Bytes& f) {
    const auto m = parse_arp(f);
    return m && m->op == 2;
  });
  ASSERT_TRUE(frame);
  EXPECT_EQ(parse_arp(*frame), (ArpMessage{.op = 2, .sender_mac = kPeerMac, .sender_ip = ip("10.0.0.100"),
                                           .target_mac = kMac, .target_ip = ip("0.0.0.0")}));
}

TEST_F(AnnounceLink, NeighbourProbeIsAnsweredByTheHolderOfTheVip) {
  ASSERT_TRUE(ns_.run("ip addr add 2001:db8::100/128 dev v1 nodad"));
  Listener listener("v0", ETH_P_IPV6);
  ASSERT_FALSE(announcer_->probe(ip("2001:db8::100")));
  const auto frame = listener.next([](const Bytes& f) {
    const auto na = parse_na(f);
    return na && na->target == ip("2001:db8::100");
  });
  ASSERT_TRUE(frame);
  // RFC 4861 7.2.4: to all nodes, not solicited, since the solicitation came from ::.
  EXPECT_EQ(parse_na(*frame),
            (NeighbourAdvert{.ethernet_source = kPeerMac, .source = ip("2001:db8::100"), .destination = ip("ff02::1"),
                             .target = ip("2001:db8::100"), .router = false, .solicited = false,
                             .override_flag = true, .target_mac = kPeerMac}));
}

// Linux reads the ARP message and skips the ND option it does not know: signed frames do to
// a plain kernel what unsigned ones do.
TEST_F(AnnounceLink, SignedGratuitousArpAndNaStillUpdateTheNeighbourEntries) {
  announcer_->set_signature(Signature{.vrid = 51, .priority = 200, .primary = ip("10.0.0.1")});
  ASSERT_TRUE(ns_.run("ip neigh replace 10.0.0.100 lladdr 02:00:00:00:00:99 dev v1 nud stale"));
  Listener listener("v1", ETH_P_ARP);
  ASSERT_FALSE(announcer_->announce(ip("10.0.0.100")));
  const auto frame = listener.next([](const Bytes& f) { return from(f, kMac); });
  ASSERT_TRUE(frame);
  ASSERT_EQ(frame->size(), 60u);
  EXPECT_EQ(parse_arp(*frame)->signature, announcer_->signature());
  EXPECT_TRUE(eventually("ip neigh show 10.0.0.100 dev v1 | grep -q 'lladdr 02:00:00:00:00:01'"));

  announcer_->set_signature(kSignature6);
  ASSERT_TRUE(ns_.run("ip -6 neigh replace 2001:db8::100 lladdr 02:00:00:00:00:99 dev v1 nud stale"));
  Listener listener6("v1", ETH_P_IPV6);
  ASSERT_FALSE(announcer_->announce(ip("2001:db8::100")));
  const auto na = listener6.next([](const Bytes& f) { return from(f, kMac) && parse_na(f); });
  ASSERT_TRUE(na);
  EXPECT_EQ(*na, kSignedUnsolicitedNa);
  EXPECT_TRUE(eventually("ip -6 neigh show 2001:db8::100 dev v1 | grep -q 'lladdr 02:00:00:00:00:01'"));
}

TEST_F(AnnounceLink, SignedProbesAreStillAnsweredByTheHolderOfTheVip) {
  ASSERT_TRUE(ns_.run("ip addr add 10.0.0.100/32 dev v1 && ip addr add 2001:db8::100/128 dev v1 nodad"));
  Listener listener("v0", ETH_P_ARP);
  announcer_->set_signature(Signature{.vrid = 51, .priority = 200, .primary = ip("10.0.0.1")});
  ASSERT_FALSE(announcer_->probe(ip("10.0.0.100")));
  const auto reply = listener.next([](const Bytes& f) {
    const auto m = parse_arp(f);
    return m && m->op == 2;
  });
  ASSERT_TRUE(reply);
  // The kernel's reply carries no signature: only lvsd's own frames do.
  EXPECT_EQ(parse_arp(*reply), (ArpMessage{.op = 2, .sender_mac = kPeerMac, .sender_ip = ip("10.0.0.100"),
                                           .target_mac = kMac, .target_ip = ip("0.0.0.0"), .signature = std::nullopt}));
  Listener listener6("v0", ETH_P_IPV6);
  announcer_->set_signature(kSignature6);
  ASSERT_FALSE(announcer_->probe(ip("2001:db8::100")));
  const auto na = listener6.next([](const Bytes& f) {
    const auto a = parse_na(f);
    return a && a->target == ip("2001:db8::100");
  });
  ASSERT_TRUE(na);
  EXPECT_EQ(parse_na(*na)->ethernet_source, kPeerMac);
  EXPECT_EQ(parse_na(*na)->signature, std::nullopt);
}

}  // namespace
}  // namespace lvsd::vrrp
