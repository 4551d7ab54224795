// The TCP prober against real loopback sockets: accepts, refuses, never accepts.
#include "lvsd/check/tcp_prober.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstdio>
#include <optional>
#include <string>

#include "lvsd/check/runner.hpp"
#include "probe_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

Result probe_once(const Target& target, model::Millis timeout = 2000ms) {
  asio::io_context io;
  TcpProber prober;
  std::optional<Result> out;
  asio::co_spawn(io, attempt(prober, target, timeout), [&](std::exception_ptr e, Result r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.run();
  return *out;
}

Target loopback(std::uint16_t port) { return Target{.endpoint = {model::IpAddress::v4(0x7f000001), port}}; }

// ":1F90" for port 8080, as /proc/net/tcp writes a port.
std::string fmt_port(std::uint16_t port) {
  char b[8];
  std::snprintf(b, sizeof b, ":%04X", port);
  return b;
}

using testing::open_fds;

TEST(TcpProber, AListeningPortIsUp) {
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const Result r = probe_once(loopback(listener.local_endpoint().port()));
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "connected");
}

TEST(TcpProber, AClosedPortIsRefused) {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = listener.local_endpoint().port();
  }
  const Result r = probe_once(loopback(port));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect refused");
}

TEST(TcpProber, AListenerThatNeverAcceptsTimesOut) {
  // A full accept queue drops SYNs (tcp_conn_request): connects then hang, as to a server
  // whose SYNs are dropped.
  asio::io_context io;
  tcp::acceptor listener(io);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  listener.open(at.protocol());
  listener.bind(at);
  listener.listen(0);
  const auto target = loopback(listener.local_endpoint().port());
  // Connections that fill the queue, kept open; started without waiting (Asio's own connect
  // would wait for the ones whose SYN is dropped).
  std::vector<std::unique_ptr<tcp::socket>> held;
  const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), target.endpoint.port);
  for (int i = 0; i < 8; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    s->open(tcp::v4());
    s->non_blocking(true);
    ::connect(s->native_handle(), to.data(), static_cast<socklen_t>(to.size()));
    held.push_back(std::move(s));
  }
  const Result r = probe_once(target, 200ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 200 ms");
}

TEST(TcpProber, FromAGivenSourceAddress) {
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Target t = loopback(listener.local_endpoint().port());
  t.bind_address = model::IpAddress::v4(0x7f000002);
  EXPECT_TRUE(probe_once(t).up);
  tcp::socket accepted(io);
  tcp::endpoint peer;
  listener.accept(accepted, peer);  // (the connection is already reset: the check has closed it)
  EXPECT_EQ(peer.address().to_string(), "127.0.0.2");

  t.bind_address = model::IpAddress::parse("192.0.2.99");  // not ours
  const Result r = probe_once(t);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "cannot bind to 192.0.2.99: Cannot assign requested address");
}

// Sockets of /proc/net/tcp in TIME_WAIT (state 06) with `port` at either end.
int time_wait_with(std::uint16_t port) {
  std::FILE* f = std::fopen("/proc/net/tcp", "r");
  if (!f) return -1;
  char line[512];
  int n = 0;
  const std::string hex = fmt_port(port);
  while (std::fgets(line, sizeof line, f)) {
    const std::string l(line);
    if (l.find(hex + " ") != std::string::npos && l.find(" 06 ") != std::string::npos) ++n;
  }
  std::fclose(f);
  return n;
}

TEST(TcpProber, ACheckLeavesNoTimeWaitBehind) {
  // Closed with a reset: 10,000 checks a second must not pile up TIME_WAIT sockets.
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener.local_endpoint().port();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(probe_once(loopback(port)).up);
    tcp::socket accepted(io);
    listener.accept(accepted);
    accepted.close();  // the server's side closes as well
  }
  EXPECT_EQ(time_wait_with(port), 0);
}

TEST(TcpProber, ManyAttemptsLeaveNoDescriptorBehind) {
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto up = loopback(listener.local_endpoint().port());
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor gone(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = gone.local_endpoint().port();
  }
  const auto before = open_fds();
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(probe_once(up).up);
    EXPECT_FALSE(probe_once(loopback(closed_port)).up);
    tcp::socket s(io);
    listener.accept(s);  // empty the queue as a server would
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace lvsd::check
