// The DNS prober against a small DNS server of the test's on loopback, whose every reply
// (and spoof) is written here byte by byte.
#include "lvsd/check/dns_prober.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <string_view>
#include <vector>

#include "lvsd/check/dns_codec.hpp"
#include "probe_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;
using testing::open_fds;
using testing::run_attempt;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kNoError = 0, kServFail = 2, kNxDomain = 3, kRefused = 5;

// The wire form of a name: "mail.example.org" -> 4 mail 7 example 3 org 0.
Bytes wire_name(std::string_view name) {
  Bytes out;
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

// An answer record for the question's name (a pointer to it: offset 12).
Bytes record(std::uint16_t type, const Bytes& data) {
  Bytes r{0xC0, 0x0C, static_cast<std::uint8_t>(type >> 8),        static_cast<std::uint8_t>(type),       0, 1, 0, 0,
          0x01, 0x2C, static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())};
  r.insert(r.end(), data.begin(), data.end());
  return r;
}
Bytes a(std::uint8_t a1, std::uint8_t a2, std::uint8_t a3, std::uint8_t a4) { return record(1, {a1, a2, a3, a4}); }

// The reply to `query`: its id and question, QR and RA set, `rcode`, these answers.
Bytes reply_to(const Bytes& query, std::uint8_t rcode, const std::vector<Bytes>& answers = {}) {
  Bytes r = query;
  r[2] |= 0x80;
  r[3] = static_cast<std::uint8_t>(0x80 | rcode);
  r[7] = static_cast<std::uint8_t>(answers.size());
  for (const auto& answer : answers) r.insert(r.end(), answer.begin(), answer.end());
  return r;
}

// A DNS server on `io` at a port of its own: sends back what `answer` makes of each query.
using Answer = std::function<std::vector<Bytes>(const Bytes& query)>;
testing::UdpServer serve(asio::io_context& io, Answer answer, const char* address = "127.0.0.1") {
  return testing::serve_udp(
      io,
      [answer = std::move(answer)](const std::string& query) {
        std::vector<std::string> out;
        for (const auto& datagram : answer(Bytes(query.begin(), query.end())))
          out.emplace_back(datagram.begin(), datagram.end());
        return out;
      },
      address);
}

Bytes query_of(const testing::UdpServer& server, std::size_t n) {
  const auto& d = server.received->at(n).datagram;
  return Bytes(d.begin(), d.end());
}

Answer always(std::uint8_t rcode, std::vector<Bytes> answers = {}) {
  return [=](const Bytes& q) { return std::vector<Bytes>{reply_to(q, rcode, answers)}; };
}

Target loopback(std::uint16_t port) { return Target{.endpoint = {model::IpAddress::v4(0x7f000001), port}}; }

Result probe(asio::io_context& io, const model::DnsCheck& check, std::uint16_t port, model::Millis timeout = 2000ms) {
  DnsProber prober(check);
  return run_attempt(io, prober, loopback(port), timeout);
}

TEST(DnsProber, NoErrorIsUp) {
  asio::io_context io;
  const auto server = serve(io, always(kNoError));
  const Result r = probe(io, {}, server.port);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "NOERROR");
  // What it asked: the root's SOA, recursion desired.
  ASSERT_EQ(server.received->size(), 1u);
  auto query = dns::decode(query_of(server, 0));
  ASSERT_TRUE(query) << query.error();
  EXPECT_FALSE(query->qr);
  EXPECT_TRUE(query->rd);
  EXPECT_EQ(query->questions, (std::vector<dns::Question>{{.name = ".", .type = 6, .klass = 1}}));
}

TEST(DnsProber, TheExpectedAnswerMustBeThere) {
  asio::io_context io;
  const auto server = serve(io, always(kNoError, {a(192, 0, 2, 7), a(192, 0, 2, 1)}));
  model::DnsCheck check{.name = "www.example.org", .type = model::DnsType::A, .expect = "192.0.2.1"};
  EXPECT_EQ(probe(io, check, server.port).reason, "NOERROR");
  EXPECT_EQ(dns::decode(query_of(server, 0))->questions.front().name, "www.example.org.");

  check.expect = "192.0.2.9";
  const Result r = probe(io, check, server.port);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "no answer 192.0.2.9");
}

TEST(DnsProber, TheExpectedNameOfAnMxOrCname) {
  asio::io_context io;
  Bytes mx{0, 10};
  const auto mail = wire_name("mail.example.org");
  mx.insert(mx.end(), mail.begin(), mail.end());
  const auto server = serve(io, always(kNoError, {record(5, wire_name("web.example.org")), record(15, mx)}));
  EXPECT_EQ(
      probe(io, {.name = "example.org", .type = model::DnsType::Mx, .expect = "mail.example.org."}, server.port).reason,
      "NOERROR");
  EXPECT_EQ(probe(io, {.name = "example.org", .type = model::DnsType::Cname, .expect = "web.example.org."}, server.port)
                .reason,
            "NOERROR");
  // The CNAME is not an answer of the type asked for.
  EXPECT_EQ(
      probe(io, {.name = "example.org", .type = model::DnsType::A, .expect = "web.example.org."}, server.port).reason,
      "no answer web.example.org.");
  // ANY takes an answer of any type.
  EXPECT_EQ(
      probe(io, {.name = "example.org", .type = model::DnsType::Any, .expect = "mail.example.org"}, server.port).reason,
      "NOERROR");
}

TEST(DnsProber, AnErrorRcodeIsDownByName) {
  asio::io_context io;
  for (const auto& [rcode, name] : {std::pair{kServFail, "SERVFAIL"}, std::pair{kNxDomain, "NXDOMAIN"},
                                    std::pair{kRefused, "REFUSED"}, std::pair{std::uint8_t{12}, "RCODE 12"}}) {
    const auto server = serve(io, always(rcode));
    const Result r = probe(io, {.name = "example.org", .type = model::DnsType::A}, server.port);
    EXPECT_FALSE(r.up);
    EXPECT_EQ(r.reason, name);
  }
}

TEST(DnsProber, ASpoofedReplyDoesNotEndTheAttempt) {
  asio::io_context io;
  const auto server = serve(io, [](const Bytes& q) {
    Bytes other_id = reply_to(q, kServFail);
    other_id[1] ^= 0x01;
    Bytes other_question = reply_to(q, kServFail);
    other_question[other_question.size() - 3] = 28;  // AAAA, not A
    Bytes a_query = q;                               // QR clear: not a reply
    return std::vector<Bytes>{{0x42}, other_id, other_question, a_query, reply_to(q, kNoError, {a(192, 0, 2, 1)})};
  });
  const Result r = probe(io, {.name = "example.org", .type = model::DnsType::A, .expect = "192.0.2.1"}, server.port);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "NOERROR");
}

TEST(DnsProber, OnlySpoofsIsATimeout) {
  asio::io_context io;
  const auto server = serve(io, [](const Bytes& q) {
    Bytes other_id = reply_to(q, kNoError);
    other_id[0] ^= 0x80;
    return std::vector<Bytes>{other_id};
  });
  const Result r = probe(io, {}, server.port, 100ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 100 ms");
}

TEST(DnsProber, SilenceIsATimeout) {
  asio::io_context io;
  udp::socket deaf(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // bound, never read
  const Result r = probe(io, {}, deaf.local_endpoint().port(), 100ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 100 ms");
}

TEST(DnsProber, ATruncatedReplyIsDown) {
  asio::io_context io;
  const auto server = serve(io, [](const Bytes& q) {
    Bytes r = reply_to(q, kNoError);
    r[2] |= 0x02;  // TC
    return std::vector<Bytes>{r};
  });
  const Result r = probe(io, {}, server.port);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "truncated reply (no TCP fallback)");
}

TEST(DnsProber, AMalformedReplyIsDown) {
  asio::io_context io;
  const auto server = serve(io, [](const Bytes& q) {
    Bytes r = reply_to(q, kNoError, {a(192, 0, 2, 1)});
    r.resize(r.size() - 2);  // the address cut short
    return std::vector<Bytes>{r};
  });
  const Result r = probe(io, {.name = "example.org", .type = model::DnsType::A}, server.port);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "malformed reply: truncated record data");
}

TEST(DnsProber, AClosedPortIsPortUnreachable) {
  asio::io_context io;
  EXPECT_EQ(probe(io, {}, testing::closed_udp_port(io)).reason, "port unreachable");
}

TEST(DnsProber, ANameThatCannotBeAsked) {
  asio::io_context io;
  EXPECT_EQ(probe(io, {.name = "a..b"}, 53).reason, "cannot ask for a..b: empty label in the name");
}

TEST(DnsProber, OverIPv6) {
  asio::io_context io;
  const auto server = serve(io, always(kNoError), "::1");
  DnsProber prober({});
  EXPECT_EQ(run_attempt(io, prober, Target{.endpoint = {*model::IpAddress::parse("::1"), server.port}}, 2000ms).reason,
            "NOERROR");
}

TEST(DnsProber, AThousandAttemptsLeaveNoDescriptorBehind) {
  asio::io_context io;
  const auto up = serve(io, always(kNoError, {a(192, 0, 2, 1)}));
  const auto failing = serve(io, always(kServFail));
  udp::socket deaf(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const model::DnsCheck check{.name = "example.org", .type = model::DnsType::A, .expect = "192.0.2.1"};
  const auto before = open_fds();
  for (int i = 0; i < 1000; ++i) {
    const bool silent = i % 100 == 99, fails = i % 2;
    const auto port = silent ? deaf.local_endpoint().port() : fails ? failing.port : up.port;
    ASSERT_EQ(probe(io, check, port, silent ? 20ms : 2000ms).reason, silent  ? "timeout after 20 ms"
                                                                     : fails ? "SERVFAIL"
                                                                             : "NOERROR")
        << i;
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace lvsd::check
