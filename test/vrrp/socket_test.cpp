// AdvertSocket between two network namespaces joined by a veth pair, and its pure parts.
#include "lvsd/vrrp/socket.hpp"

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {
namespace asio = boost::asio;
using model::Family;
using model::IpAddress;
using lvsd::testing::Entered;
using lvsd::testing::OtherNetns;
using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

// Polls a command until it succeeds or 5 s pass.
bool eventually(const std::string& command) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline)
    if (lvsd::testing::NetnsScope::run(command)) return true;
  return false;
}

// Runs the loop until `task` ends or 5 s pass. The result lives in a shared slot: a task
// still waiting at the deadline may finish during a later call.
template <class T>
std::optional<T> run_until(asio::io_context& io, asio::awaitable<T> task) {
  auto out = std::make_shared<std::optional<T>>();
  asio::co_spawn(io, std::move(task), [out](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    *out = std::move(value);
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!*out && io.run_one_until(deadline) > 0) {
  }
  io.restart();
  return std::move(*out);
}

std::optional<Received> receive(asio::io_context& io, AdvertSocket& socket) {
  auto r = run_until(io, socket.receive());
  if (!r || !*r) return std::nullopt;
  return std::move(**r);
}

Advert advert(Family family) {
  Advert a{.version = 3, .vrid = 51, .priority = 150, .interval = model::Millis{1000}, .family = family};
  a.addresses = {family == Family::V4 ? ip("192.0.2.10") : ip("2001:db8:1::10")};
  return a;
}

Expect expect(Family family) { return Expect{.version = 3, .vrid = 51, .family = family, .interval = model::Millis{1000}}; }

// Director A (this namespace: v0, 10.0.0.1, fe80::1, 2001:db8::1) and director B (its own
// namespace: v1, 10.0.0.2, fe80::2, 2001:db8::2), one veth pair between them. Fixed
// link-local addresses without duplicate address detection, so the sources are known and
// usable at once.
class TwoDirectors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!a_.ok() || !b_.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
    ASSERT_TRUE(a_.run("ip link add v0 type veth peer name v1 && ip link set v1 netns " + b_.path() +
                       " && ip link set v0 addrgenmode none && ip addr add 10.0.0.1/24 dev v0"
                       " && ip addr add fe80::1/64 dev v0 nodad && ip addr add 2001:db8::1/64 dev v0 nodad"
                       " && ip link set v0 up"));
    {
      Entered in(&b_);
      ASSERT_TRUE(a_.run("ip link set lo up && ip link set v1 addrgenmode none && ip addr add 10.0.0.2/24 dev v1"
                         " && ip addr add fe80::2/64 dev v1 nodad && ip addr add 2001:db8::2/64 dev v1 nodad"
                         " && ip link set v1 up"));
      // Until the carrier is seen, the queue is noop and drops what is sent.
      ASSERT_TRUE(eventually("ip link show v1 | grep -q 'qdisc noqueue'"));
    }
    ASSERT_TRUE(eventually("ip link show v0 | grep -q 'qdisc noqueue'"));
  }

  AdvertSocket open_a(SocketOptions options) {
    auto s = AdvertSocket::open(io_.get_executor(), std::move(options));
    if (!s) throw std::runtime_error(s.error());
    return std::move(*s);
  }
  AdvertSocket open_b(SocketOptions options) {
    Entered in(&b_);
    return open_a(std::move(options));
  }

  // A sends to its one peer, B; B reads it as from a peer, and a second socket in B that
  // expects `stranger` reads the same packet (every raw socket of the protocol does) marked.
  void unicast(Family family, const IpAddress& a_address, const IpAddress& b_address, const IpAddress& stranger) {
    auto a = open_a({.interface = "v0", .family = family, .source = a_address, .unicast_peers = {b_address}});
    auto b = open_b({.interface = "v1", .family = family, .unicast_peers = {a_address}});
    auto other = open_b({.interface = "v1", .family = family, .unicast_peers = {stranger}});
    EXPECT_EQ(a.destinations(), std::vector<IpAddress>{b_address});
    ASSERT_FALSE(a.send(advert(family)));
    const auto r = receive(io_, b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->envelope.source, a_address);
    EXPECT_EQ(r->envelope.destination, b_address);
    EXPECT_EQ(r->envelope.ttl, 255);
    EXPECT_EQ(r->drop, std::nullopt);
    EXPECT_EQ(r->payload, encode(advert(family), a_address, b_address));
    EXPECT_TRUE(decode(r->payload, r->envelope, expect(family)).ok);
    const auto s = receive(io_, other);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->drop, Drop::NotAPeer);
  }

  asio::io_context io_;
  lvsd::testing::NetnsScope a_;
  OtherNetns b_;
};

TEST(ParseIpv4, ReadsTheHeaderFieldsAndThePayload) {
  const std::vector<std::uint8_t> packet = {
      0x45, 0xc0, 0x00, 0x1a, 0x12, 0x34, 0x00, 0x00, 0xff, 0x70, 0x00, 0x00,  // TTL 255, proto 112
      0x0a, 0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x12,                          // 10.0.0.1 -> 224.0.0.18
      0x31, 0x33, 0x96, 0x01, 0xaa, 0xbb,                                      // payload
  };
  const auto p = parse_ipv4(packet);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->envelope.source, ip("10.0.0.1"));
  EXPECT_EQ(p->envelope.destination, ip("224.0.0.18"));
  EXPECT_EQ(p->envelope.ttl, 255);
  EXPECT_EQ(std::vector<std::uint8_t>(p->payload.begin(), p->payload.end()),
            (std::vector<std::uint8_t>{0x31, 0x33, 0x96, 0x01, 0xaa, 0xbb}));
}

TEST(ParseIpv4, SkipsOptionsAndStopsAtTheTotalLength) {
  const std::vector<std::uint8_t> packet = {
      0x46, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x40, 0x00, 0x40, 0x70, 0x00, 0x00,  // IHL 6, TTL 64
      0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x94, 0x04, 0x00, 0x00,  // router alert
      0x01, 0x02, 0x03, 0x04,  // 26 bytes in all
  };
  const auto p = parse_ipv4(packet);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->envelope.source, ip("192.0.2.1"));
  EXPECT_EQ(p->envelope.destination, ip("192.0.2.2"));
  EXPECT_EQ(p->envelope.ttl, 64);
  EXPECT_EQ(std::vector<std::uint8_t>(p->payload.begin(), p->payload.end()), (std::vector<std::uint8_t>{0x01, 0x02}));
}

TEST(ParseIpv4, RefusesWhatIsNotAnIpv4VrrpPacket) {
  const std::vector<std::uint8_t> good = {0x45, 0, 0x00, 0x18, 0, 0, 0, 0, 0xff, 0x70, 0, 0,
                                          10,   0, 0,    1,    10, 0, 0, 2, 1,    2,    3, 4};
  ASSERT_TRUE(parse_ipv4(good));
  auto with = [&](std::size_t at, std::uint8_t value) {
    auto p = good;
    p[at] = value;
    return p;
  };
  EXPECT_FALSE(parse_ipv4(std::span(good).first(19)));  // shorter than a header
  EXPECT_FALSE(parse_ipv4(with(0, 0x65)));               // version 6
  EXPECT_FALSE(parse_ipv4(with(0, 0x44)));               // header of 16 bytes
  EXPECT_FALSE(parse_ipv4(with(0, 0x47)));               // header longer than the packet says
  EXPECT_FALSE(parse_ipv4(with(3, 0x19)));               // total length beyond the bytes read
  EXPECT_FALSE(parse_ipv4(with(9, 0x01)));               // ICMP
}

TEST(ScreenSource, DropsOnlyUnicastAdvertsFromStrangers) {
  const std::vector<IpAddress> peers = {ip("10.0.0.2"), ip("10.0.0.3")};
  EXPECT_EQ(screen_source(ip("10.0.0.9"), {}), std::nullopt);  // multicast: anyone
  EXPECT_EQ(screen_source(ip("10.0.0.3"), peers), std::nullopt);
  EXPECT_EQ(screen_source(ip("10.0.0.9"), peers), Drop::NotAPeer);
}

TEST(VrrpGroup, IsTheVrrpMulticastAddress) {
  EXPECT_EQ(group(Family::V4), ip("224.0.0.18"));
  EXPECT_EQ(group(Family::V6), ip("ff02::12"));
}

TEST(AdvertSocketOpen, SaysWhatIsWrong) {
  lvsd::testing::NetnsScope ns;
  if (!ns.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
  asio::io_context io;
  auto missing = AdvertSocket::open(io.get_executor(), {.interface = "nope0"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "no interface nope0");
  auto peer = AdvertSocket::open(io.get_executor(), {.interface = "lo", .unicast_peers = {ip("2001:db8::1")}});
  ASSERT_FALSE(peer);
  EXPECT_EQ(peer.error(), "unicast peer 2001:db8::1 is not IPv4");
  auto source = AdvertSocket::open(io.get_executor(), {.interface = "lo", .family = Family::V6, .source = ip("10.0.0.1")});
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "source 10.0.0.1 is not IPv6");
  // lo has ::1 but no link-local address.
  auto link_local = AdvertSocket::open(io.get_executor(), {.interface = "lo", .family = Family::V6});
  ASSERT_FALSE(link_local);
  EXPECT_EQ(link_local.error(), "no IPv6 link-local address on lo");
}

TEST_F(TwoDirectors, Ipv4MulticastAdvertArrivesWithTtl255) {
  auto a = open_a({.interface = "v0"});
  auto b = open_b({.interface = "v1"});
  EXPECT_EQ(a.source(), ip("10.0.0.1"));  // the interface's address when none is given
  EXPECT_EQ(a.destinations(), std::vector<IpAddress>{ip("224.0.0.18")});

  ASSERT_FALSE(a.send(advert(Family::V4)));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.source, ip("10.0.0.1"));
  EXPECT_EQ(r->envelope.destination, ip("224.0.0.18"));
  EXPECT_EQ(r->envelope.ttl, 255);
  EXPECT_EQ(r->drop, std::nullopt);
  EXPECT_EQ(r->payload, encode(advert(Family::V4), ip("10.0.0.1"), ip("224.0.0.18")));
  const auto d = decode(r->payload, r->envelope, expect(Family::V4));
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, advert(Family::V4));
  EXPECT_EQ(a.counters(), (SocketCounters{.sent = 1}));
  EXPECT_EQ(b.counters(), (SocketCounters{.received = 1}));
}

TEST_F(TwoDirectors, PayloadArrivesByteForByte) {
  auto a = open_a({.interface = "v0"});
  auto b = open_b({.interface = "v1"});
  const std::vector<std::uint8_t> bytes = {0x31, 0x33, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff};
  ASSERT_FALSE(a.send_to(bytes, ip("224.0.0.18")));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, bytes);
}

TEST_F(TwoDirectors, OwnAdvertsDoNotComeBackWithLoopOff) {
  auto a = open_a({.interface = "v0"});
  auto b = open_b({.interface = "v1"});
  ASSERT_FALSE(a.send(advert(Family::V4)));
  ASSERT_TRUE(receive(io_, b));
  // B answers after it has heard A: a looped copy of A's advert would be read first.
  ASSERT_FALSE(b.send(advert(Family::V4)));
  const auto r = receive(io_, a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.source, ip("10.0.0.2"));
  EXPECT_EQ(a.counters().received, 1u);
}

TEST_F(TwoDirectors, OwnAdvertsComeBackWithLoopOn) {
  // The counterpart of the test above: the loop option is what keeps them away.
  auto a = open_a({.interface = "v0", .multicast_loop = true});
  ASSERT_FALSE(a.send(advert(Family::V4)));
  const auto r = receive(io_, a);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.source, ip("10.0.0.1"));
  EXPECT_EQ(r->envelope.destination, ip("224.0.0.18"));
}

TEST_F(TwoDirectors, Ipv4UnicastGoesToEachPeerAndStrangersAreMarked) {
  unicast(Family::V4, ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"));
}

TEST_F(TwoDirectors, Ipv4SourceIsTheGivenAddress) {
  ASSERT_TRUE(a_.run("ip addr add 10.0.0.11/24 dev v0"));
  auto a = open_a({.interface = "v0", .source = ip("10.0.0.11")});
  auto b = open_b({.interface = "v1"});
  ASSERT_FALSE(a.send(advert(Family::V4)));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.source, ip("10.0.0.11"));
  EXPECT_TRUE(decode(r->payload, r->envelope, expect(Family::V4)).ok);
}

TEST_F(TwoDirectors, PacketWithTtl64IsSeenAsSuchAndDropped) {
  auto b = open_b({.interface = "v1"});
  // A plain raw socket, as a router that forwarded the advert would leave it.
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, kProtocol);
  ASSERT_GE(fd, 0);
  const int ttl = 64;
  ASSERT_EQ(::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl), 0);
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "v0", 3), 0);
  const auto payload = encode(advert(Family::V4), ip("10.0.0.1"), ip("10.0.0.2"));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(0x0a000002);
  const auto sent = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);
  ASSERT_EQ(sent, static_cast<ssize_t>(payload.size()));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.ttl, 64);
  EXPECT_EQ(r->payload, payload);
  const auto d = decode(r->payload, r->envelope, expect(Family::V4));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.drop, Drop::BadTtl);
}

TEST_F(TwoDirectors, Ipv6MulticastAdvertComesFromTheLinkLocalAddress) {
  auto a = open_a({.interface = "v0", .family = Family::V6});
  auto b = open_b({.interface = "v1", .family = Family::V6});
  EXPECT_EQ(a.source(), ip("fe80::1"));
  EXPECT_EQ(a.destinations(), std::vector<IpAddress>{ip("ff02::12")});
  ASSERT_FALSE(a.send(advert(Family::V6)));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.source, ip("fe80::1"));
  EXPECT_EQ(r->envelope.destination, ip("ff02::12"));
  EXPECT_EQ(r->envelope.ttl, 255);
  EXPECT_EQ(r->payload, encode(advert(Family::V6), ip("fe80::1"), ip("ff02::12")));
  const auto d = decode(r->payload, r->envelope, expect(Family::V6));
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, advert(Family::V6));
}

TEST_F(TwoDirectors, Ipv6ChecksumIsLeftAsSent) {
  // The kernel computes no checksum for protocol 112 unless IPV6_CHECKSUM asks: a wrong
  // one arrives wrong, so the one encode() computes arrives as computed.
  auto a = open_a({.interface = "v0", .family = Family::V6});
  auto b = open_b({.interface = "v1", .family = Family::V6});
  auto bytes = encode(advert(Family::V6), ip("fe80::1"), ip("ff02::12"));
  bytes[6] ^= 0xff;
  ASSERT_FALSE(a.send_to(bytes, ip("ff02::12")));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, bytes);
  EXPECT_EQ(decode(r->payload, r->envelope, expect(Family::V6)).drop, Drop::BadChecksum);
}

TEST_F(TwoDirectors, Ipv6UnicastGoesToEachPeerAndStrangersAreMarked) {
  unicast(Family::V6, ip("2001:db8::1"), ip("2001:db8::2"), ip("2001:db8::3"));
}

TEST_F(TwoDirectors, SendTriesEveryDestinationAndCountsFailures) {
  // The subnet's broadcast address is refused (a raw socket without SO_BROADCAST); the
  // peer after it still gets its advert.
  auto a = open_a({.interface = "v0", .unicast_peers = {ip("10.0.0.255"), ip("10.0.0.2")}});
  auto b = open_b({.interface = "v1"});
  EXPECT_EQ(a.send(advert(Family::V4)), boost::system::error_code(EACCES, boost::system::system_category()));
  EXPECT_EQ(a.counters(), (SocketCounters{.sent = 1, .send_errors = 1}));
  const auto r = receive(io_, b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.destination, ip("10.0.0.2"));
  EXPECT_EQ(a.send_to(std::vector<std::uint8_t>{1}, ip("::1")), asio::error::address_family_not_supported);
}

TEST_F(TwoDirectors, ReceiveEndsWhenTheSocketCloses) {
  auto b = open_b({.interface = "v1"});
  auto out = std::make_shared<std::optional<boost::system::result<Received>>>();
  asio::co_spawn(io_, b.receive(), [out](std::exception_ptr, boost::system::result<Received> r) { *out = std::move(r); });
  io_.poll();  // the receive now waits
  ASSERT_FALSE(*out);
  b.close();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!*out && io_.run_one_until(deadline) > 0) {
  }
  ASSERT_TRUE(*out);
  ASSERT_FALSE(**out);
  EXPECT_EQ((*out)->error(), asio::error::operation_aborted);
}

}  // namespace
}  // namespace lvsd::vrrp
