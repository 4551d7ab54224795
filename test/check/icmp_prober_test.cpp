// The ICMP prober against loopback: the kernel's own echo replies, and in a network
// namespace of the test's where the kernel keeps quiet, a peer that answers as told.
#include "lvsd/check/icmp_prober.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "probe_helpers.hpp"
#include "support/netns.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::icmp;
using namespace std::chrono_literals;
using testing::open_fds;
using testing::run_attempt;
using Bytes = std::vector<std::uint8_t>;

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }
Target to(const char* address) { return Target{.endpoint = {ip(address), 0}}; }

// Why raw ICMP sockets cannot be had here, if they cannot.
std::optional<std::string> no_raw_sockets() {
  const int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) return std::string("raw ICMP sockets not permitted: ") + std::strerror(errno);
  ::close(fd);
  return std::nullopt;
}

#define SKIP_WITHOUT_RAW_SOCKETS() \
  if (auto why = no_raw_sockets()) GTEST_SKIP() << *why

// Runs `body` on a thread of its own in a new network namespace with only loopback, up, and
// a kernel that answers no echo request (icmp_echo_ignore_all there): silence is certain,
// and the test's peer is the only one to answer. The host's network is not touched. The
// reason it could not, if it could not.
std::optional<std::string> in_quiet_network(const std::function<void()>& body) {
  const auto quiet = []() -> std::optional<std::string> {
    for (const char* knob : {"/proc/sys/net/ipv4/icmp_echo_ignore_all", "/proc/sys/net/ipv6/icmp/echo_ignore_all"}) {
      std::ofstream out(knob);
      out << "1\n";
      out.flush();
      if (!out) return std::string("cannot write ") + knob;
    }
    return std::nullopt;
  };
  return lvsd::testing::on_thread_in_new_netns(quiet, body);
}

// An echo request as the peer saw it.
struct Request {
  model::IpAddress from;
  Bytes ip_header;  // IPv4 only: a raw IPv6 socket is not given it
  Bytes icmp;
  std::uint16_t id() const { return static_cast<std::uint16_t>(icmp[4] << 8 | icmp[5]); }
  std::uint16_t sequence() const { return static_cast<std::uint16_t>(icmp[6] << 8 | icmp[7]); }
  Bytes payload() const { return Bytes(icmp.begin() + 8, icmp.end()); }
};

// An ICMP message with its checksum (for IPv4; the kernel fills ICMPv6's).
Bytes message(bool v6, std::uint8_t type, std::uint8_t code, std::uint16_t id, std::uint16_t sequence,
              const Bytes& body) {
  Bytes m{type,
          code,
          0,
          0,
          static_cast<std::uint8_t>(id >> 8),
          static_cast<std::uint8_t>(id),
          static_cast<std::uint8_t>(sequence >> 8),
          static_cast<std::uint8_t>(sequence)};
  m.insert(m.end(), body.begin(), body.end());
  if (!v6) {
    const auto sum = internet_checksum(m);
    m[2] = static_cast<std::uint8_t>(sum >> 8);
    m[3] = static_cast<std::uint8_t>(sum);
  }
  return m;
}

Bytes reply(const Request& r, bool v6) { return message(v6, v6 ? 129 : 0, 0, r.id(), r.sequence(), r.payload()); }

// A destination unreachable quoting the request: its IP header and first 8 bytes.
Bytes unreachable(const Request& r, bool v6, std::uint8_t code, const char* quoted_destination = nullptr) {
  Bytes quoted = r.ip_header;
  if (v6) {  // the header the request had: ::1 to ::1 (or the destination given)
    quoted = {0x60, 0, 0, 0, static_cast<std::uint8_t>(r.icmp.size() >> 8), static_cast<std::uint8_t>(r.icmp.size()),
              58,   64};
    const auto one = ip("::1").bytes();
    const auto dst = ip(quoted_destination ? quoted_destination : "::1").bytes();
    quoted.insert(quoted.end(), one.begin(), one.end());
    quoted.insert(quoted.end(), dst.begin(), dst.end());
  } else if (quoted_destination) {
    const auto dst = ip(quoted_destination).bytes();
    std::copy_n(dst.begin(), 4, quoted.begin() + 16);
  }
  quoted.insert(quoted.end(), r.icmp.begin(), r.icmp.begin() + 8);
  return message(v6, v6 ? 1 : 3, code, 0, 0, quoted);
}

// A host of the quiet network: hands each echo request to `answer` and sends back what it
// returns, each message from the address given with it.
class Peer {
 public:
  struct Send {
    Bytes icmp;
    const char* from = nullptr;  // nullptr: the address the request went to
  };
  using Answer = std::function<std::vector<Send>(const Request&)>;

  Peer(asio::io_context& io, bool v6, Answer answer) : io_(io), v6_(v6), answer_(std::move(answer)) {
    auto socket = std::make_shared<icmp::socket>(io, v6 ? icmp::v6() : icmp::v4());
    asio::co_spawn(io, listen(socket), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  std::vector<Request> requests;

 private:
  asio::awaitable<void> listen(std::shared_ptr<icmp::socket> socket) {
    Bytes buffer(70000);
    for (;;) {
      icmp::endpoint from;
      const auto n = co_await socket->async_receive_from(asio::buffer(buffer), from, asio::use_awaitable);
      Request r{.from = ip(from.address().to_string().c_str())};
      auto packet = std::span(buffer.data(), n);
      if (!v6_) {
        const std::size_t header = (packet[0] & 0x0F) * 4u;
        r.ip_header.assign(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(header));
        packet = packet.subspan(header);
      }
      if (packet[0] != (v6_ ? 128 : 8)) continue;  // its own replies come by too
      r.icmp.assign(packet.begin(), packet.end());
      requests.push_back(r);
      for (const auto& send : answer_(r)) {
        const std::string source = send.from ? send.from : (v6_ ? "::1" : "127.0.0.1");
        co_await sender(source).async_send_to(asio::buffer(send.icmp), icmp::endpoint(from.address(), 0),
                                              asio::use_awaitable);
      }
    }
  }

  icmp::socket& sender(const std::string& source) {
    auto& s = senders_[source];
    if (!s) {
      s = std::make_unique<icmp::socket>(io_, v6_ ? icmp::v6() : icmp::v4());
      s->bind(icmp::endpoint(asio::ip::make_address(source), 0));
    }
    return *s;
  }

  asio::io_context& io_;
  bool v6_;
  Answer answer_;
  std::map<std::string, std::unique_ptr<icmp::socket>> senders_;
};

TEST(IcmpChecksum, TheRfc1071Example) {
  EXPECT_EQ(internet_checksum(Bytes{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}), 0x220d);
  EXPECT_EQ(internet_checksum(Bytes{0x00, 0x01, 0xf2}), static_cast<std::uint16_t>(~(0x0001 + 0xf200)));
  EXPECT_EQ(internet_checksum(Bytes{}), 0xffff);
}

TEST(IcmpProber, LoopbackAnswers) {
  SKIP_WITHOUT_RAW_SOCKETS();
  asio::io_context io;
  IcmpSockets sockets(io.get_executor());
  IcmpProber prober(sockets, {});
  for (const char* address : {"127.0.0.1", "::1"}) {
    const Result r = run_attempt(io, prober, to(address), 2000ms);
    EXPECT_TRUE(r.up) << address << ": " << r.reason;
    EXPECT_EQ(r.reason, "echo reply");
  }
  EXPECT_EQ(sockets.pending(), 0u);
}

TEST(IcmpProber, TheLargestAndTheEmptyPayload) {
  SKIP_WITHOUT_RAW_SOCKETS();
  asio::io_context io;
  IcmpSockets sockets(io.get_executor());
  for (const std::uint16_t size : {0, 1, 65000}) {
    IcmpProber prober(sockets, {.payload_size = size});
    EXPECT_EQ(run_attempt(io, prober, to("127.0.0.1"), 2000ms).reason, "echo reply") << size;
    EXPECT_EQ(run_attempt(io, prober, to("::1"), 2000ms).reason, "echo reply") << size;
  }
}

TEST(IcmpProber, AHundredChecksShareOneSocketPerFamily) {
  SKIP_WITHOUT_RAW_SOCKETS();
  asio::io_context io;
  IcmpSockets sockets(io.get_executor());
  const auto before = open_fds();
  // 127.0.0.1 to 127.0.0.100, each check with its own payload size, all at once: a reply
  // handed to the wrong request would fail its address or payload check and time out.
  std::vector<std::unique_ptr<IcmpProber>> probers;
  std::vector<Target> targets;
  for (std::uint16_t i = 0; i < 100; ++i) {
    probers.push_back(std::make_unique<IcmpProber>(sockets, model::IcmpCheck{.payload_size = i}));
    targets.push_back(Target{.endpoint = {model::IpAddress::v4(0x7f000001 + i), 0}});
  }
  std::vector<Result> results(100);
  for (std::uint16_t i = 0; i < 100; ++i) {
    asio::co_spawn(io, attempt(*probers[i], targets[i], 5000ms), [&results, i](std::exception_ptr e, Result r) {
      if (e) std::rethrow_exception(e);
      results[i] = std::move(r);
    });
  }
  io.run();  // ends when every request has its answer: the receive loop stops with the last
  for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].reason, "echo reply") << "127.0.0." << i + 1;
  EXPECT_EQ(sockets.pending(), 0u);
  EXPECT_EQ(open_fds(), before + 1);  // the IPv4 socket, opened once

  IcmpProber prober(sockets, {});
  EXPECT_TRUE(run_attempt(io, prober, to("::1"), 2000ms).up);
  EXPECT_TRUE(run_attempt(io, prober, to("127.0.0.1"), 2000ms).up);
  EXPECT_EQ(open_fds(), before + 2);  // and the IPv6 one
}

TEST(IcmpProber, SilenceTimesOutAndForgetsTheRequest) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {});
    for (const char* address : {"127.0.0.1", "::1"}) {
      const Result r = run_attempt(io, prober, to(address), 100ms);
      EXPECT_FALSE(r.up);
      EXPECT_EQ(r.reason, "timeout after 100 ms") << address;
      EXPECT_EQ(sockets.pending(), 0u);
    }
    io.restart();
    io.run();  // returns: no receive loop is left waiting for an answer
    EXPECT_TRUE(io.stopped());
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, ALateReplyIsIgnoredAndCounted) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    // The first request goes unanswered; with the second come the first's late reply and
    // then the second's own.
    std::vector<Request> seen;
    Peer peer(io, false, [&](const Request& r) -> std::vector<Peer::Send> {
      seen.push_back(r);
      if (seen.size() == 1) return {};
      return {{reply(seen[0], false)}, {reply(r, false)}};
    });
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {});
    EXPECT_EQ(run_attempt(io, prober, to("127.0.0.1"), 100ms).reason, "timeout after 100 ms");
    EXPECT_EQ(sockets.pending(), 0u);
    const auto ignored = sockets.ignored();
    EXPECT_EQ(run_attempt(io, prober, to("127.0.0.1"), 2000ms).reason, "echo reply");
    EXPECT_EQ(sockets.ignored(), ignored + 1);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_NE(seen[0].sequence(), seen[1].sequence());
    EXPECT_EQ(seen[0].id(), sockets.identifier());
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, ForeignAndBadPacketsAreIgnoredAndCounted) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    Peer peer(io, false, [](const Request& r) -> std::vector<Peer::Send> {
      Bytes bad_sum = reply(r, false);
      bad_sum[2] ^= 0xff;
      Bytes other_payload = r.payload();
      other_payload.back() ^= 0xff;
      return {
          {message(false, 0, 0, static_cast<std::uint16_t>(r.id() + 1), r.sequence(), r.payload())},  // another id
          {message(false, 0, 0, r.id(), static_cast<std::uint16_t>(r.sequence() + 1), r.payload())},  // no such request
          {bad_sum},
          {message(false, 0, 0, r.id(), r.sequence(), other_payload)},
          {reply(r, false), "127.0.0.2"},                    // not the address asked
          {unreachable(r, false, 1, "127.0.0.3")},           // an error for a request to elsewhere
          {message(false, 0, 0, r.id(), r.sequence(), {})},  // too short a payload
          {reply(r, false)},
      };
    });
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {});
    const Result r = run_attempt(io, prober, to("127.0.0.1"), 2000ms);
    EXPECT_TRUE(r.up);
    EXPECT_EQ(r.reason, "echo reply");
    EXPECT_EQ(sockets.ignored(), 7u);
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, AnUnreachableQuotingTheRequestIsTheAnswer) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    for (const bool v6 : {false, true}) {
      asio::io_context io;
      std::uint8_t code = 0;
      Peer peer(io, v6, [&](const Request& r) -> std::vector<Peer::Send> { return {{unreachable(r, v6, code)}}; });
      IcmpSockets sockets(io.get_executor());
      IcmpProber prober(sockets, {});
      const auto target = to(v6 ? "::1" : "127.0.0.1");
      code = v6 ? 3 : 1;
      const Result r = run_attempt(io, prober, target, 2000ms);
      EXPECT_FALSE(r.up);
      EXPECT_EQ(r.reason, "host unreachable") << v6;
      code = 0;
      EXPECT_EQ(run_attempt(io, prober, target, 2000ms).reason, "network unreachable") << v6;
      code = v6 ? 1 : 13;
      EXPECT_EQ(run_attempt(io, prober, target, 2000ms).reason, "administratively prohibited") << v6;
      code = v6 ? 4 : 3;
      EXPECT_EQ(run_attempt(io, prober, target, 2000ms).reason, "port unreachable") << v6;
      code = 15;
      EXPECT_EQ(run_attempt(io, prober, target, 2000ms).reason, "destination unreachable (code 15)") << v6;
      EXPECT_EQ(sockets.pending(), 0u);
    }
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, IPv6RepliesAreMatchedToo) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    Peer peer(io, true, [](const Request& r) -> std::vector<Peer::Send> {
      return {{message(true, 129, 0, static_cast<std::uint16_t>(r.id() + 1), r.sequence(), r.payload())},
              {reply(r, true)}};
    });
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {.payload_size = 100});
    EXPECT_EQ(run_attempt(io, prober, to("::1"), 2000ms).reason, "echo reply");
    EXPECT_EQ(sockets.ignored(), 1u);
    ASSERT_EQ(peer.requests.size(), 1u);
    EXPECT_EQ(peer.requests[0].payload().size(), 100u);
    EXPECT_EQ(peer.requests[0].payload()[99], 99);
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, FromAGivenSourceAddressAndInterface) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    Peer peer(io, false, [](const Request& r) -> std::vector<Peer::Send> { return {{reply(r, false)}}; });
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {});
    Target t = to("127.0.0.1");
    t.bind_address = ip("127.0.0.2");
    EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "echo reply");
    ASSERT_EQ(peer.requests.size(), 1u);
    EXPECT_EQ(peer.requests[0].from, ip("127.0.0.2"));

    t.bind_interface = "lo";
    EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "echo reply");

    t.bind_interface = "nosuch0";
    EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "cannot bind to interface nosuch0: No such device");
    t.bind_interface.clear();

    t.bind_address = ip("192.0.2.99");  // not an address of this network
    EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "cannot send from 192.0.2.99: Network is unreachable");
    t.bind_address = ip("::1");
    EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "cannot send from ::1 to an IPv4 address");
    EXPECT_EQ(sockets.pending(), 0u);
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, IPv6FromAGivenSourceAddress) {
  SKIP_WITHOUT_RAW_SOCKETS();
  asio::io_context io;
  IcmpSockets sockets(io.get_executor());
  IcmpProber prober(sockets, {});
  Target t = to("::1");
  t.bind_address = ip("::1");
  t.bind_interface = "lo";
  EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "echo reply");
  t.bind_address = ip("2001:db8::99");
  t.bind_interface.clear();
  EXPECT_EQ(run_attempt(io, prober, t, 2000ms).reason, "cannot send from 2001:db8::99: Invalid argument");
}

TEST(IcmpProber, NoRouteIsNetworkUnreachable) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    IcmpSockets sockets(io.get_executor());
    IcmpProber prober(sockets, {});
    EXPECT_EQ(run_attempt(io, prober, to("198.51.100.1"), 2000ms).reason, "network unreachable");
    EXPECT_EQ(sockets.pending(), 0u);
  });
  if (why) GTEST_SKIP() << *why;
}

TEST(IcmpProber, DestroyedBeforeItsReceiveLoopEnds) {
  SKIP_WITHOUT_RAW_SOCKETS();
  const auto why = in_quiet_network([] {
    asio::io_context io;
    auto sockets = std::make_unique<IcmpSockets>(io.get_executor());
    IcmpProber prober(*sockets, {});
    bool done = false;
    const Target target = to("127.0.0.1");
    asio::co_spawn(io, attempt(prober, target, 50ms), [&](std::exception_ptr e, Result r) {
      if (e) std::rethrow_exception(e);
      EXPECT_EQ(r.reason, "timeout after 50 ms");
      done = true;
    });
    while (!done) io.run_one();
    sockets.reset();  // the loop may still hold its socket's state: it must end cleanly
    io.restart();
    io.run();
  });
  if (why) GTEST_SKIP() << *why;
}

}  // namespace
}  // namespace lvsd::check
