// The TCP prober and its connector against real loopback sockets: accepts, refuses, never
// accepts; many connects at once, timeouts, a connector gone while connects wait; and the
// epoll set under the connector: a burst served in turns with the timers between, a busy
// loop still giving the sockets their turns, readiness that came unwaited for kept.
#include "lvsd/check/tcp_prober.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "lvsd/check/runner.hpp"
#include "probe_helpers.hpp"
#include "socket_setup.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

Result probe_once(const Target& target, model::Millis timeout = 2000ms) {
  asio::io_context io;
  TcpConnector connector(io.get_executor());
  TcpProber prober(connector);
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

// Connections that fill a listener's accept queue (backlog 0), so that the next connects to
// it hang as to a server whose SYNs are dropped; started without waiting.
std::vector<std::unique_ptr<tcp::socket>> fill_queue(asio::io_context& io, std::uint16_t port) {
  std::vector<std::unique_ptr<tcp::socket>> held;
  const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  for (int i = 0; i < 8; ++i) {
    auto s = std::make_unique<tcp::socket>(io);
    s->open(tcp::v4());
    s->non_blocking(true);
    ::connect(s->native_handle(), to.data(), static_cast<socklen_t>(to.size()));
    held.push_back(std::move(s));
  }
  return held;
}

tcp::acceptor stuck_listener(asio::io_context& io) {
  tcp::acceptor listener(io);
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  listener.open(at.protocol());
  listener.bind(at);
  listener.listen(0);
  return listener;
}

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
  auto listener = stuck_listener(io);
  const auto target = loopback(listener.local_endpoint().port());
  const auto held = fill_queue(io, target.endpoint.port);
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

TEST(TcpConnector, ManyConnectsAtOnceAllEnd) {
  // 300 connects under way together on one connector: each ends with its own verdict, and
  // nothing stays pending.
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), true);
  listener.listen(1024);
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor gone(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = gone.local_endpoint().port();
  }
  TcpConnector connector(io.get_executor());
  const auto up = loopback(listener.local_endpoint().port());
  const auto down = loopback(closed_port);
  int ups = 0, refused = 0, other = 0;
  for (int i = 0; i < 300; ++i)
    asio::co_spawn(io, connector.connect(i % 3 == 0 ? down : up), [&](std::exception_ptr e, Result r) {
      if (e) std::rethrow_exception(e);
      if (r.up) ++ups;
      else if (r.reason == "connect refused") ++refused;
      else ++other;
    });
  io.run();
  EXPECT_EQ(ups, 200);
  EXPECT_EQ(refused, 100);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(connector.pending(), 0u);
}

TEST(TcpConnector, ATimedOutConnectClosesItsSocket) {
  asio::io_context io;
  auto listener = stuck_listener(io);
  const auto held = fill_queue(io, listener.local_endpoint().port());
  TcpConnector connector(io.get_executor());
  TcpProber prober(connector);
  const auto before = open_fds();
  const auto target = loopback(listener.local_endpoint().port());  // outlives the attempts
  std::vector<Result> results;
  for (int i = 0; i < 20; ++i)
    asio::co_spawn(io, attempt(prober, target, 100ms),
                   [&](std::exception_ptr e, Result r) {
                     if (e) std::rethrow_exception(e);
                     results.push_back(std::move(r));
                   });
  io.run();
  ASSERT_EQ(results.size(), 20u);
  for (const auto& r : results) EXPECT_EQ(r.reason, "timeout after 100 ms");
  EXPECT_EQ(connector.pending(), 0u);
  EXPECT_EQ(open_fds(), before);
}

TEST(TcpConnector, GoneWhileConnectsWaitLeavesNoDescriptorAndNoDanglingCancel) {
  // The connector closes its sockets and forgets its connects; a cancellation that comes
  // afterwards through the connect's slot finds nothing.
  asio::io_context io;
  auto listener = stuck_listener(io);
  const auto held = fill_queue(io, listener.local_endpoint().port());
  const auto before = open_fds();
  asio::cancellation_signal stop;
  bool ended = false;
  {
    TcpConnector connector(io.get_executor());
    const auto target = loopback(listener.local_endpoint().port());
    asio::co_spawn(io, connector.connect(target),
                   asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr, Result) { ended = true; }));
    io.run_for(50ms);
    EXPECT_EQ(connector.pending(), 1u);
  }
  stop.emit(asio::cancellation_type::terminal);
  io.restart();
  io.run();
  EXPECT_FALSE(ended);  // destroyed, not resumed
  EXPECT_EQ(open_fds(), before);
}

TEST(TcpConnector, CancelledBeforeItsWaitStartsClosesItsSocket) {
  // A cancellation emitted before the connect has started: whether Asio throws at its
  // co_await (before the wait takes the socket) or hands it to the wait, the socket closes.
  asio::io_context io;
  auto listener = stuck_listener(io);
  const auto held = fill_queue(io, listener.local_endpoint().port());
  TcpConnector connector(io.get_executor());
  const auto before = open_fds();
  const auto target = loopback(listener.local_endpoint().port());
  asio::cancellation_signal stop;
  std::exception_ptr thrown;
  std::string reason;
  bool ended = false;
  asio::co_spawn(io, connector.connect(target),
                 asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, Result r) {
                   thrown = e;
                   reason = r.reason;
                   ended = true;
                 }));
  stop.emit(asio::cancellation_type::terminal);
  io.run();
  EXPECT_TRUE(ended);
  if (!thrown) {
    EXPECT_EQ(reason, "connect cancelled");
  }
  EXPECT_EQ(connector.pending(), 0u);
  EXPECT_EQ(open_fds(), before);
}

TEST(TcpConnector, OverIpv6) {
  asio::io_context io;
  boost::system::error_code ec;
  tcp::acceptor listener(io);
  listener.open(tcp::v6(), ec);
  if (!ec) listener.bind(tcp::endpoint(asio::ip::make_address("::1"), 0), ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  listener.listen();
  const Result r = probe_once(Target{.endpoint = {*model::IpAddress::parse("::1"), listener.local_endpoint().port()}});
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "connected");
}

TEST(TcpConnector, AnInterfaceThatDoesNotExistIsTheVerdict) {
  Target t = loopback(9);
  t.bind_interface = "nosuch0";
  const Result r = probe_once(t);
  EXPECT_FALSE(r.up);
  // SO_BINDTODEVICE needs CAP_NET_RAW: either refusal names the interface.
  EXPECT_EQ(r.reason.rfind("cannot bind to interface nosuch0: ", 0), 0u) << r.reason;
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// Connects, then (after `pause`, if any) waits until the socket has something to read,
// and then takes `work` of the loop's time, as a check does with what it read.
asio::awaitable<void> connect_and_wait_to_read(SocketWaits* waits, Target target, std::chrono::microseconds pause,
                                               std::chrono::microseconds work, int* waiting, int* resumed) {
  auto connected = co_await waits->connect(target);
  auto& socket = std::get<SocketWaits::Socket>(connected);
  if (pause.count() > 0) {
    asio::steady_timer sleep(co_await asio::this_coro::executor, pause);
    co_await sleep.async_wait(asio::use_awaitable);
  }
  ++*waiting;
  co_await waits->wait(socket, SocketWaits::Ready::Read, asio::use_awaitable);
  for (const auto until = std::chrono::steady_clock::now() + work; std::chrono::steady_clock::now() < until;) {
  }
  ++*resumed;
}

// `count` sockets of `waits`, connected and waiting to read, each taking `work` once
// resumed; and the server's side of each, a plain descriptor with a byte written to it
// (so that the loop has nothing else to do).
class ReadyBurst {
 public:
  ReadyBurst(asio::io_context& io, SocketWaits& waits, int count, std::chrono::microseconds work)
      : listener_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), true) {
    listener_.listen(1024);
    const auto target = loopback(listener_.local_endpoint().port());
    for (int i = 0; i < count; ++i)
      asio::co_spawn(io, connect_and_wait_to_read(&waits, target, 0ms, work, &waiting_, &resumed_), rethrow);
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (waiting_ < count && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
    io.poll();  // nothing left over in the loop's queue
    for (int i = 0; i < waiting_; ++i) {
      accepted_.push_back(::accept(listener_.native_handle(), nullptr, nullptr));
      if (accepted_.back() < 0 || ::write(accepted_.back(), "x", 1) != 1)
        throw std::runtime_error("the server side failed");
    }
  }
  ~ReadyBurst() {
    for (const int fd : accepted_) ::close(fd);
  }
  ReadyBurst(const ReadyBurst&) = delete;
  ReadyBurst& operator=(const ReadyBurst&) = delete;
  int waiting() const { return waiting_; }
  int resumed() const { return resumed_; }

 private:
  tcp::acceptor listener_;
  std::vector<int> accepted_;
  int waiting_ = 0, resumed_ = 0;
};

TEST(SocketWaits, ABurstIsServedInTurnsWithTheTimersBetween) {
  // 100 sockets readable at once, each 100 us of work, and a timer due: the timer's handler
  // runs after one turn of them, not after all of them.
  asio::io_context io;
  SocketWaits waits(io.get_executor());
  ReadyBurst burst(io, waits, 100, 100us);
  ASSERT_EQ(burst.waiting(), 100);
  int resumed_before_timer = -1;
  asio::steady_timer due(io, std::chrono::steady_clock::now());
  due.async_wait([&](boost::system::error_code) { resumed_before_timer = burst.resumed(); });
  io.run_for(2s);
  EXPECT_EQ(burst.resumed(), 100);
  EXPECT_GE(resumed_before_timer, 1);
  EXPECT_LE(resumed_before_timer, SocketWaits::kMinTurn / 100us + 1);
  EXPECT_EQ(waits.watched(), 0u);
}

TEST(SocketWaits, ABusyLoopStillGivesTheSocketsTheirTurns) {
  // The rest of the loop takes 20 ms a turn (a timer that comes back at once): the sockets'
  // turns grow to match, so that 100 of them (10 ms of work) are through within two of its
  // turns, not one kMinTurn of them per turn.
  asio::io_context io;
  SocketWaits waits(io.get_executor());
  ReadyBurst burst(io, waits, 100, 100us);
  ASSERT_EQ(burst.waiting(), 100);
  int busy_turns = 0, busy_turns_before_all = -1;
  asio::steady_timer busy(io);
  std::function<void(boost::system::error_code)> spin = [&](boost::system::error_code) {
    if (burst.resumed() == 100) {
      busy_turns_before_all = busy_turns;
      return;
    }
    ++busy_turns;
    for (const auto until = std::chrono::steady_clock::now() + 20ms; std::chrono::steady_clock::now() < until;) {
    }
    busy.expires_after(0ms);
    busy.async_wait(spin);
  };
  busy.expires_after(0ms);
  busy.async_wait(spin);
  io.run_for(5s);
  EXPECT_EQ(burst.resumed(), 100);
  EXPECT_GE(busy_turns_before_all, 0);
  EXPECT_LE(busy_turns_before_all, 2);
}

TEST(SocketWaits, AReadinessThatCameWhileNobodyWaitedIsKept) {
  // The set is edge-triggered: data that came while the check was doing something else
  // (here, sleeping) ends its next wait at once, rather than leaving it for an edge that
  // never comes.
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  SocketWaits waits(io.get_executor());
  tcp::socket accepted(io);
  listener.async_accept(accepted, [&](boost::system::error_code ec) {
    if (!ec) asio::write(accepted, asio::buffer("x", 1));
  });
  int waiting = 0, resumed = 0;
  const auto target = loopback(listener.local_endpoint().port());
  asio::co_spawn(io, connect_and_wait_to_read(&waits, target, 100ms, 0us, &waiting, &resumed), rethrow);
  io.run_for(2s);
  EXPECT_EQ(waiting, 1);
  EXPECT_EQ(resumed, 1);
}

}  // namespace
}  // namespace lvsd::check
