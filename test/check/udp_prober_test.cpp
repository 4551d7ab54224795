// The UDP prober against loopback servers of the test's: echoes, a chosen reply, a closed
// port, a server that reads nothing.
#include "lvsd/check/udp_prober.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probe_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;
using testing::closed_udp_port;
using testing::open_fds;
using testing::run_attempt;
using testing::serve_udp;

// Each datagram back as it came.
std::vector<std::string> echo(const std::string& datagram) { return {datagram}; }

Target loopback(std::uint16_t port) { return Target{.endpoint = {model::IpAddress::v4(0x7f000001), port}}; }

TEST(UdpProber, AnEchoIsAReply) {
  asio::io_context io;
  const auto server = serve_udp(io, echo);
  UdpProber prober({.payload = "ping\n"});
  const Result r = run_attempt(io, prober, loopback(server.port), 2000ms);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "reply");
  ASSERT_EQ(server.received->size(), 1u);
  EXPECT_EQ(server.received->front().datagram, "ping\n");
}

TEST(UdpProber, AnEmptyPayloadAndAnEmptyReply) {
  asio::io_context io;
  const auto server = serve_udp(io, echo);
  UdpProber prober({});
  EXPECT_EQ(run_attempt(io, prober, loopback(server.port), 2000ms).reason, "reply");
}

TEST(UdpProber, TheReplyMustMatchExpect) {
  asio::io_context io;
  const auto server = serve_udp(io, [](const std::string&) { return std::vector<std::string>{"PONG 42\r\n"}; });
  UdpProber matching({.payload = "PING", .expect = "^PONG [0-9]+"});
  EXPECT_EQ(run_attempt(io, matching, loopback(server.port), 2000ms).reason, "reply");

  UdpProber other({.payload = "PING", .expect = "^OK"});
  const Result r = run_attempt(io, other, loopback(server.port), 2000ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "reply does not match /^OK/");
}

TEST(UdpProber, ABinaryReplyIsMatchedWhole) {
  asio::io_context io;
  const auto server = serve_udp(io, [](const std::string&) { return std::vector{std::string("\0\x01tail", 6)}; });
  UdpProber prober({.payload = std::string("\0", 1), .expect = "tail$"});
  EXPECT_EQ(run_attempt(io, prober, loopback(server.port), 2000ms).reason, "reply");
}

TEST(UdpProber, AClosedPortIsPortUnreachable) {
  asio::io_context io;
  UdpProber prober({.payload = "x"});
  const Result r = run_attempt(io, prober, loopback(closed_udp_port(io)), 2000ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "port unreachable");
}

TEST(UdpProber, AServerThatNeverAnswersTimesOut) {
  asio::io_context io;
  udp::socket deaf(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // bound, never read
  UdpProber prober({.payload = "x"});
  const Result r = run_attempt(io, prober, loopback(deaf.local_endpoint().port()), 100ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 100 ms");
}

TEST(UdpProber, OverIPv6) {
  asio::io_context io;
  const auto server = serve_udp(io, echo, "::1");
  UdpProber prober({.payload = "ping"});
  const Result r = run_attempt(io, prober, Target{.endpoint = {*model::IpAddress::parse("::1"), server.port}}, 2000ms);
  EXPECT_EQ(r.reason, "reply");
}

TEST(UdpProber, FromAGivenSourceAddress) {
  asio::io_context io;
  const auto server = serve_udp(io, echo);
  UdpProber prober({.payload = "ping"});
  Target t = loopback(server.port);
  t.bind_address = model::IpAddress::v4(0x7f000002);
  EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "reply");
  ASSERT_EQ(server.received->size(), 1u);
  EXPECT_EQ(server.received->front().from.address().to_string(), "127.0.0.2");

  t.bind_address = model::IpAddress::parse("192.0.2.99");  // not ours
  EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "cannot bind to 192.0.2.99: Cannot assign requested address");
}

TEST(UdpProber, AThousandAttemptsLeaveNoDescriptorBehind) {
  asio::io_context io;
  const auto server = serve_udp(io, echo);
  const auto closed = closed_udp_port(io);
  udp::socket deaf(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  UdpProber prober({.payload = "ping", .expect = "ping"});
  const auto before = open_fds();
  // Few to the closed port: the kernel sends at most icmp_msgs_burst ICMP errors at once.
  for (int i = 0; i < 1000; ++i) {
    const bool silent = i % 100 == 99, refused = i % 50 == 48;
    const auto port = silent ? deaf.local_endpoint().port() : refused ? closed : server.port;
    const Result r = run_attempt(io, prober, loopback(port), silent ? 20ms : 2000ms);
    ASSERT_EQ(r.reason, silent ? "timeout after 20 ms" : refused ? "port unreachable" : "reply") << i;
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace lvsd::check
