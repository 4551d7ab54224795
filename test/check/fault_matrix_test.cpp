// The fault matrix of the stream checkers: every fault a loopback server can throw at tcp,
// http, https and smtp, judged for its verdict, its time and the descriptors it leaves.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/check/http_prober.hpp"
#include "lvsd/check/runner.hpp"
#include "lvsd/check/smtp_prober.hpp"
#include "lvsd/check/tcp_prober.hpp"
#include "probe_helpers.hpp"
#include "tls_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

enum class Checker { Tcp, Http, Https, Smtp };

enum class Fault {
  ServesCorrectly,
  Refuses,              // the port was closed a moment ago
  NeverAccepts,         // a full accept queue: the kernel drops the SYN
  NeverAnswers,         // accepts, reads the request, says nothing
  ResetsMidReply,       // half the right reply, then a close with SO_LINGER 0: a reset
  AnswersGarbage,       // another protocol's greeting
  DribblesAByteASecond, // the right reply, one byte a second
  Answers503,
  WrongDigest,
  ExpiredCertificate,   // verified against itself as the CA
  SelfSignedVerified,   // verified against the system's store
  SelfSignedUnverified,
  Banner554,
};

const char* name(Checker c) {
  switch (c) {
    case Checker::Tcp: return "Tcp";
    case Checker::Http: return "Http";
    case Checker::Https: return "Https";
    case Checker::Smtp: return "Smtp";
  }
  throw std::logic_error("a checker without a name");
}

const char* name(Fault f) {
  switch (f) {
    case Fault::ServesCorrectly: return "ServesCorrectly";
    case Fault::Refuses: return "Refuses";
    case Fault::NeverAccepts: return "NeverAccepts";
    case Fault::NeverAnswers: return "NeverAnswers";
    case Fault::ResetsMidReply: return "ResetsMidReply";
    case Fault::AnswersGarbage: return "AnswersGarbage";
    case Fault::DribblesAByteASecond: return "DribblesAByteASecond";
    case Fault::Answers503: return "Answers503";
    case Fault::WrongDigest: return "WrongDigest";
    case Fault::ExpiredCertificate: return "ExpiredCertificate";
    case Fault::SelfSignedVerified: return "SelfSignedVerified";
    case Fault::SelfSignedUnverified: return "SelfSignedUnverified";
    case Fault::Banner554: return "Banner554";
  }
  throw std::logic_error("a fault without a name");
}

struct Case {
  Checker checker;
  Fault fault;
  bool up;
  std::string reason;
  model::Millis timeout;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << name(c.checker) << " x " << name(c.fault) << " -> " << (c.up ? "up" : "down") << " \"" << c.reason
      << "\" within " << c.timeout.count() << " ms";
}

// A verdict the server gives (an answer, a refusal) comes well before this.
constexpr model::Millis kAnswered = 600ms;
constexpr model::Millis kHangs = 200ms;
constexpr model::Millis kDribbled = 500ms;
// How late past its timeout an attempt may end.
constexpr model::Millis kSlack = 300ms;

const std::string kBody = "hello\n";
const std::string kBodyMd5 = "b1946ac92492d2347c6235b4d2611184";
const std::string kOtherBody = "hullo\n";
const std::string kOtherBodyMd5 = "8a387fac5645c619277b00f27cc590b9";
const std::string kGarbage = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
const std::string kBanner = "220 mx.example ESMTP\r\n";

std::vector<Case> all_cases() {
  std::vector<Case> all;
  const auto add = [&](Checker checker, Fault fault, bool up, std::string reason, model::Millis timeout = kAnswered) {
    all.push_back({checker, fault, up, std::move(reason), timeout});
  };
  // L4 only connects: a server that accepts is up, whatever it says afterwards.
  add(Checker::Tcp, Fault::ServesCorrectly, true, "connected");
  add(Checker::Tcp, Fault::Refuses, false, "connect refused");
  add(Checker::Tcp, Fault::NeverAccepts, false, "timeout after 200 ms", kHangs);
  add(Checker::Tcp, Fault::NeverAnswers, true, "connected");
  add(Checker::Tcp, Fault::ResetsMidReply, true, "connected");
  add(Checker::Tcp, Fault::AnswersGarbage, true, "connected");
  add(Checker::Tcp, Fault::DribblesAByteASecond, true, "connected");
  // For https the reply's faults come inside a sound TLS session.
  for (const Checker web : {Checker::Http, Checker::Https}) {
    add(web, Fault::ServesCorrectly, true, "HTTP 200");
    add(web, Fault::Refuses, false, "connect refused");
    add(web, Fault::NeverAccepts, false, "timeout after 200 ms", kHangs);
    add(web, Fault::NeverAnswers, false, "timeout after 200 ms", kHangs);
    add(web, Fault::ResetsMidReply, false, "connection reset");
    add(web, Fault::AnswersGarbage, false, "bad HTTP reply: bad version");
    add(web, Fault::DribblesAByteASecond, false, "timeout after 500 ms", kDribbled);
    add(web, Fault::Answers503, false, "HTTP 503 for /health");
    add(web, Fault::WrongDigest, false, "digest mismatch for /health: got " + kOtherBodyMd5);
  }
  add(Checker::Https, Fault::ExpiredCertificate, false, "certificate verify failed: certificate has expired");
  add(Checker::Https, Fault::SelfSignedVerified, false, "certificate verify failed: self-signed certificate");
  add(Checker::Https, Fault::SelfSignedUnverified, true, "HTTP 200");
  add(Checker::Smtp, Fault::ServesCorrectly, true, "SMTP 250");
  add(Checker::Smtp, Fault::Refuses, false, "connect refused");
  add(Checker::Smtp, Fault::NeverAccepts, false, "timeout after 200 ms", kHangs);
  add(Checker::Smtp, Fault::NeverAnswers, false, "timeout after 200 ms", kHangs);
  add(Checker::Smtp, Fault::ResetsMidReply, false, "connection reset");
  add(Checker::Smtp, Fault::AnswersGarbage, false, "bad SMTP reply: SSH-2.0-OpenSSH_9.2p1 Debian-2");
  add(Checker::Smtp, Fault::DribblesAByteASecond, false, "timeout after 500 ms", kDribbled);
  add(Checker::Smtp, Fault::Banner554, false, "SMTP banner 554");
  return all;
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// ---- The servers: one behaviour per fault, on the test's io_context.

std::string http_reply(unsigned status, std::string_view body) {
  return fmt::format("HTTP/1.1 {} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                     body.size(), body);
}

// The first thing a sound server of the checker's protocol says.
std::string right_answer(Checker c) { return c == Checker::Smtp ? kBanner : http_reply(200, kBody); }

tcp::socket& raw(tcp::socket& s) { return s; }
tcp::socket& raw(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

template <class Stream>
asio::awaitable<bool> send(Stream& s, std::string text) {
  auto [ec, n] = co_await asio::async_write(s, asio::buffer(text), kTuple);
  co_return !ec;
}

// Takes (below any TLS) whatever comes until the client closes its end.
asio::awaitable<void> until_closed(tcp::socket& s) {
  std::string sink(512, '\0');
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(sink), kTuple);
    if (ec) co_return;
  }
}

template <class Stream>
asio::awaitable<bool> read_line(Stream& s, std::string& in) {
  auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n", kTuple);
  if (!ec) in.erase(0, n);
  co_return !ec;
}

// `text` one byte a second; the client's close ends it at once rather than at the next byte.
template <class Stream>
asio::awaitable<void> dribble(Stream& s, std::string text) {
  asio::steady_timer tick(s.get_executor());
  for (const char& c : text) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(&c, 1), kTuple);
    if (ec) co_return;
    tick.expires_after(1s);
    const auto woke = co_await (tick.async_wait(kTuple) || raw(s).async_wait(tcp::socket::wait_read, kTuple));
    if (woke.index() == 1) co_return;
  }
}

template <class Stream>
asio::awaitable<void> serve_correctly(Stream& s, Checker checker) {
  if (checker == Checker::Tcp) co_return;
  if (checker != Checker::Smtp) {
    co_await send(s, http_reply(200, kBody));
    co_return;
  }
  std::string in;
  if (!co_await send(s, kBanner) || !co_await read_line(s, in)) co_return;        // EHLO
  if (!co_await send(s, "250 mx.example\r\n") || !co_await read_line(s, in)) co_return;  // QUIT
  co_await send(s, "221 bye\r\n");
}

// One connection, after any TLS handshake: `fault` played to the client.
template <class Stream>
asio::awaitable<void> talk(Stream& s, Checker checker, Fault fault) {
  if (checker == Checker::Http || checker == Checker::Https) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [ec, n] = co_await http::async_read(s, buffer, request, kTuple);
    if (ec) co_return;
  }
  switch (fault) {
    case Fault::ServesCorrectly:
    case Fault::ExpiredCertificate:
    case Fault::SelfSignedVerified:
    case Fault::SelfSignedUnverified:
      co_await serve_correctly(s, checker);
      co_return;
    case Fault::NeverAnswers:
      break;
    case Fault::ResetsMidReply: {
      const std::string answer = right_answer(checker);
      if (!co_await send(s, answer.substr(0, answer.size() / 2))) co_return;
      boost::system::error_code ignored;
      raw(s).set_option(asio::socket_base::linger(true, 0), ignored);
      raw(s).close(ignored);
      co_return;
    }
    case Fault::AnswersGarbage:
      co_await send(s, kGarbage);
      break;
    case Fault::DribblesAByteASecond:
      co_await dribble(s, right_answer(checker));
      co_return;
    case Fault::Answers503:
      co_await send(s, http_reply(503, kBody));
      co_return;
    case Fault::WrongDigest:
      co_await send(s, http_reply(200, kOtherBody));
      co_return;
    case Fault::Banner554:
      co_await send(s, "554 no service here\r\n");
      break;
    case Fault::Refuses:
    case Fault::NeverAccepts:
      throw std::logic_error(fmt::format("a server was made for {}", name(fault)));
  }
  co_await until_closed(raw(s));
}

asio::awaitable<void> session(tcp::socket socket, Checker checker, Fault fault, ssl::context* tls) {
  if (!tls) {
    co_await talk(socket, checker, fault);
    co_return;
  }
  ssl::stream<tcp::socket> stream(std::move(socket), *tls);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
  if (ec) co_return;  // the prober refused the certificate
  co_await talk(stream, checker, fault);
}

// Accepts on 127.0.0.1:<port 0> and plays the fault on each connection. Declared after the
// io_context, so destroyed first.
class Server {
 public:
  Server(asio::io_context& io, Checker checker, Fault fault, ssl::context* tls)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, accept(checker, fault, tls), rethrow);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Has had its connection, and has closed it.
  bool settled() const { return accepted_ > 0 && live_ == 0; }

 private:
  asio::awaitable<void> accept(Checker checker, Fault fault, ssl::context* tls) {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      ++accepted_;
      ++live_;
      asio::co_spawn(acceptor_.get_executor(), session(std::move(socket), checker, fault, tls),
                     [this](std::exception_ptr e) {
                       --live_;
                       rethrow(e);
                     });
    }
  }
  tcp::acceptor acceptor_;
  int accepted_ = 0;
  int live_ = 0;
};

// A port nothing listens on: bound a moment ago on `io`, closed now.
std::uint16_t closed_port(asio::io_context& io) {
  tcp::acceptor gone(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return gone.local_endpoint().port();
}

// Makes `listener` one whose accept queue is full and never emptied: the kernel drops the
// SYNs that come next (tcp_conn_request), as from a server behind a black hole. The
// connections that fill it are started without waiting and kept in `held`.
std::uint16_t fill_accept_queue(tcp::acceptor& listener, std::vector<std::unique_ptr<tcp::socket>>& held) {
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  listener.open(at.protocol());
  listener.bind(at);
  listener.listen(0);
  const tcp::endpoint to(at.address(), listener.local_endpoint().port());
  for (int i = 0; i < 8; ++i) {
    auto s = std::make_unique<tcp::socket>(listener.get_executor());
    s->open(tcp::v4());
    s->non_blocking(true);
    ::connect(s->native_handle(), to.data(), static_cast<socklen_t>(to.size()));
    held.push_back(std::move(s));
  }
  return to.port();
}

// ---- TLS: a key and a self-signed certificate for "localhost", made at test time.

using testing::Identity;

// Valid from `from` to `to` seconds from now.
Identity localhost_identity(long from, long to) { return testing::make_identity("localhost", "DNS:localhost", from, to); }

std::unique_ptr<ssl::context> server_tls(const Identity& id) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_use_certificate(ctx->native_handle(), id.cert.get());
  SSL_CTX_use_PrivateKey(ctx->native_handle(), id.key.get());
  return ctx;
}

// ---- One case.

std::unique_ptr<Prober> make_prober(const Case& c, const std::string& ca_file, TcpConnector& connector) {
  if (c.checker == Checker::Tcp) return std::make_unique<TcpProber>(connector);
  if (c.checker == Checker::Smtp) return std::make_unique<SmtpProber>(model::SmtpCheck{});
  model::HttpCheck spec{.urls = {{.path = "/health", .digest = model::Digest{model::DigestAlgorithm::Md5, kBodyMd5}}}};
  if (c.checker == Checker::Https) {
    spec.host = "localhost";
    if (c.fault == Fault::SelfSignedVerified) spec.tls = {.verify = true};  // the system's store
    else if (c.fault != Fault::SelfSignedUnverified) spec.tls = {.verify = true, .ca_file = ca_file};
  }
  return std::make_unique<HttpProber>(spec, c.checker == Checker::Https);
}

struct Outcome {
  Result result;
  std::chrono::milliseconds elapsed{0};  // around the attempt, by the test's own clock
  std::size_t fds_before = 0;            // with the servers up, before the attempt
  std::size_t fds_after = 0;             // after it, once the server has closed its side
};

Outcome run_case(const Case& c) {
  const bool https = c.checker == Checker::Https;
  const Identity id =
      c.fault == Fault::ExpiredCertificate ? localhost_identity(-2 * 86400, -86400) : localhost_identity(-3600, 86400);
  std::optional<testing::PemFile> ca;
  if (https) ca.emplace([&](FILE* f) { PEM_write_X509(f, id.cert.get()); });
  asio::io_context io;
  TcpConnector connector(io.get_executor());
  const auto prober = make_prober(c, ca ? ca->path() : std::string(), connector);
  const auto tls = https ? server_tls(id) : nullptr;
  tcp::acceptor stuck(io);
  std::vector<std::unique_ptr<tcp::socket>> held;
  std::optional<Server> server;
  std::uint16_t port = 0;
  if (c.fault == Fault::Refuses) port = closed_port(io);
  else if (c.fault == Fault::NeverAccepts) port = fill_accept_queue(stuck, held);
  else port = server.emplace(io, c.checker, c.fault, tls.get()).port();

  Outcome out;
  out.fds_before = testing::open_fds();
  const auto start = std::chrono::steady_clock::now();
  out.result =
      testing::run_attempt(io, *prober, Target{.endpoint = {model::IpAddress::v4(0x7f000001), port}}, c.timeout);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  // The server's side ends when the prober's is closed: a second at the most.
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (server && !server->settled() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  io.poll();
  out.fds_after = testing::open_fds();
  return out;
}

class StreamChecker : public ::testing::TestWithParam<Case> {};

TEST_P(StreamChecker, GivesTheVerdictInTime) {
  const Case& c = GetParam();
  const Outcome out = run_case(c);
  EXPECT_EQ(out.result.up, c.up);
  EXPECT_EQ(out.result.reason, c.reason);
  const auto elapsed = out.elapsed.count();
  const auto timeout = c.timeout.count();
  EXPECT_LE(elapsed, timeout + kSlack.count());
  if (c.reason == timeout_text(c.timeout)) EXPECT_GE(elapsed, timeout);
  else EXPECT_LT(elapsed, timeout / 2);  // the server's answer decided, not the timer
}

TEST_P(StreamChecker, LeavesNoDescriptor) {
  const Outcome out = run_case(GetParam());
  EXPECT_EQ(out.fds_after, out.fds_before);
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, StreamChecker, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return fmt::format("{}_{}", name(info.param.checker), name(info.param.fault));
                         });

}  // namespace
}  // namespace lvsd::check
