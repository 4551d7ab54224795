// The HTTP and HTTPS prober against real loopback servers: status, body, redirects, faults, TLS.
#include "lvsd/check/http_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
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

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>

#include "lvsd/check/runner.hpp"
#include "probe_helpers.hpp"
#include "socket_setup.hpp"
#include "tls_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using Request = http::request<http::string_body>;
using Reply = std::function<std::string(const Request&)>;
using Session = std::function<asio::awaitable<void>(tcp::socket)>;

// What the servers saw.
struct Seen {
  std::vector<Request> requests;
  std::vector<std::string> sni;          // one per TLS handshake the servername callback saw
  std::vector<std::string> client_cn;    // the client certificate's CN, per TLS connection
  int closed = 0;                        // connections the server has closed
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& r : requests) out.emplace_back(r.target());
    return out;
  }
};

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// Accepts on 127.0.0.1:<port 0> and runs `session` for each connection on the test's
// io_context. Declared after the io_context, so destroyed first.
class Server {
 public:
  Server(asio::io_context& io, Session session)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), session_(std::move(session)) {
    asio::co_spawn(io, accept(&acceptor_, &session_), rethrow);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  static asio::awaitable<void> accept(tcp::acceptor* acceptor, Session* session) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kTuple);
      if (ec) co_return;
      asio::co_spawn(acceptor->get_executor(), (*session)(std::move(socket)), rethrow);
    }
  }
  tcp::acceptor acceptor_;
  Session session_;
};

std::string reply(unsigned status, std::string_view body = "", std::string_view headers = "") {
  return fmt::format("HTTP/1.1 {} Whatever\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}", status,
                     body.size(), headers, body);
}
Reply always(unsigned status, std::string body = "") {
  return [=](const Request&) { return reply(status, body); };
}

template <class Stream>
asio::awaitable<bool> read_request(Stream& s, Seen* seen) {
  beast::flat_buffer buffer;
  Request req;
  auto [ec, n] = co_await http::async_read(s, buffer, req, kTuple);
  if (ec) co_return false;
  seen->requests.push_back(std::move(req));
  co_return true;
}

asio::awaitable<void> serve_http(tcp::socket s, Seen* seen, Reply answer) {
  const bool asked = co_await read_request(s, seen);
  if (asked) {
    const std::string out = answer(seen->requests.back());
    co_await asio::async_write(s, asio::buffer(out), kTuple);
  }
  s.close();
  ++seen->closed;
}
Session http_server(Seen& seen, Reply answer) {
  return [&seen, answer](tcp::socket s) { return serve_http(std::move(s), &seen, answer); };
}

// Reads the request, then `raw` bytes, then (with `reset`) a close with a reset.
asio::awaitable<void> serve_raw(tcp::socket s, Seen* seen, std::shared_ptr<const std::string> raw, bool reset) {
  const bool asked = co_await read_request(s, seen);
  if (asked) {
    co_await asio::async_write(s, asio::buffer(*raw), kTuple);
    if (reset) s.set_option(asio::socket_base::linger(true, 0));
  }
  s.close();
  ++seen->closed;
}
Session raw_server(Seen& seen, std::string bytes, bool reset = false) {
  auto raw = std::make_shared<const std::string>(std::move(bytes));
  return [&seen, raw, reset](tcp::socket s) { return serve_raw(std::move(s), &seen, raw, reset); };
}

// Reads the request and then whatever else comes, never answering.
asio::awaitable<void> serve_silence(tcp::socket s, Seen* seen) {
  co_await read_request(s, seen);
  char byte;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(&byte, 1), kTuple);
    if (ec) break;
  }
  ++seen->closed;
}

// Answers one byte every 100 ms.
asio::awaitable<void> serve_slowly(tcp::socket s, Seen* seen) {
  const bool asked = co_await read_request(s, seen);
  if (asked) {
    const std::string full = reply(200, "slow");
    asio::steady_timer tick(s.get_executor());
    for (const char& c : full) {
      auto [ec, n] = co_await asio::async_write(s, asio::buffer(&c, 1), kTuple);
      if (ec) break;
      tick.expires_after(100ms);
      co_await tick.async_wait(kTuple);
    }
  }
  ++seen->closed;
}

// ---- TLS: keys and certificates made at test time (tls_helpers.hpp).

using testing::cert_file;
using testing::Identity;
using testing::key_file;
using testing::make_identity;
using testing::PemFile;

int record_sni(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  static_cast<Seen*>(arg)->sni.emplace_back(name ? name : "");
  return SSL_TLSEXT_ERR_OK;
}

// A server context with `id`, recording the SNI into `seen`; with `client_ca`, it demands a
// client certificate signed by it.
std::unique_ptr<ssl::context> server_tls(const Identity& id, Seen& seen, const Identity* client_ca = nullptr) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_use_certificate(native, id.cert.get());
  SSL_CTX_use_PrivateKey(native, id.key.get());
  SSL_CTX_set_tlsext_servername_callback(native, record_sni);
  SSL_CTX_set_tlsext_servername_arg(native, &seen);
  if (client_ca) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(native), client_ca->cert.get());
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

asio::awaitable<void> serve_https(tcp::socket s, ssl::context* ctx, Seen* seen, Reply answer) {
  ssl::stream<tcp::socket> tls(std::move(s), *ctx);
  auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, kTuple);
  if (!ec) {
    if (X509* peer = SSL_get_peer_certificate(tls.native_handle())) {
      char cn[256] = "";
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
      seen->client_cn.emplace_back(cn);
      X509_free(peer);
    }
    const bool asked = co_await read_request(tls, seen);
    if (asked) {
      const std::string out = answer(seen->requests.back());
      co_await asio::async_write(tls, asio::buffer(out), kTuple);
    }
  }
  tls.next_layer().close();
  ++seen->closed;
}
Session https_server(ssl::context& ctx, Seen& seen, Reply answer) {
  return [&ctx, &seen, answer](tcp::socket s) { return serve_https(std::move(s), &ctx, &seen, answer); };
}

// ---- Running attempts.

Target loopback(std::uint16_t port) { return Target{.endpoint = {model::IpAddress::v4(0x7f000001), port}}; }

// One attempt bounded by `timeout`, as the check loop makes it, on the servers' io_context.
Result probe(asio::io_context& io, Prober& prober, const Target& target, model::Millis timeout = 2000ms) {
  std::optional<Result> out;
  asio::co_spawn(io, attempt(prober, target, timeout), [&](std::exception_ptr e, Result r) {
    rethrow(e);
    out = std::move(r);
    io.stop();
  });
  io.restart();
  io.run();
  return out.value();
}

Result probe(asio::io_context& io, const model::HttpCheck& spec, std::uint16_t port, bool https = false,
             model::Millis timeout = 2000ms) {
  HttpProber prober(spec, https);
  return probe(io, prober, loopback(port), timeout);
}

// Runs the io_context until `done`, for at most a second.
template <class Pred>
bool run_until(asio::io_context& io, Pred done) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  return done();
}

using testing::open_fds;

std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor gone(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return gone.local_endpoint().port();
}

model::HttpCheck check_of(std::vector<model::HttpUrl> urls) { return model::HttpCheck{.urls = std::move(urls)}; }
model::HttpCheck check_of(model::HttpUrl url) { return check_of(std::vector{std::move(url)}); }

const std::string kHelloMd5 = "b1946ac92492d2347c6235b4d2611184";  // md5sum of "hello\n"
const std::string kHelloSha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

// ---- HTTP

TEST(HttpDigest, AsGenhashPrintsIt) {
  EXPECT_EQ(body_digest(model::DigestAlgorithm::Md5, "hello\n"), kHelloMd5);
  EXPECT_EQ(body_digest(model::DigestAlgorithm::Sha256, "hello\n"), kHelloSha256);
  EXPECT_EQ(body_digest(model::DigestAlgorithm::Md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(HttpProber, A200IsUp) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200, "fine")));
  const Result r = probe(io, model::HttpCheck{}, server.port());
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "HTTP 200");
  ASSERT_EQ(seen.requests.size(), 1u);
  const Request& req = seen.requests[0];
  EXPECT_EQ(req.method(), http::verb::get);
  EXPECT_EQ(req.target(), "/");
  EXPECT_EQ(req.version(), 11u);
  EXPECT_EQ(req[http::field::host], fmt::format("127.0.0.1:{}", server.port()));
  EXPECT_EQ(req[http::field::connection], "close");
  EXPECT_EQ(req[http::field::user_agent], "lvsd");
}

TEST(HttpProber, A503IsDownWithThePath) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(503, "busy")));
  const Result r = probe(io, check_of({.path = "/health"}), server.port());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "HTTP 503 for /health");
  EXPECT_EQ(seen.paths(), std::vector<std::string>{"/health"});
}

TEST(HttpProber, StatusRangesAndLists) {
  asio::io_context io;
  Seen seen;
  unsigned status = 204;
  Server server(io, http_server(seen, [&](const Request&) { return reply(status); }));
  const auto range = check_of({.status = {{200, 299}}});
  EXPECT_EQ(probe(io, range, server.port()).reason, "HTTP 204");
  EXPECT_EQ(probe(io, model::HttpCheck{}, server.port()).reason, "HTTP 204 for /");  // default: 200 only
  const auto list = check_of({.status = {{200, 200}, {301, 302}}});
  status = 302;
  EXPECT_TRUE(probe(io, list, server.port()).up);
  status = 404;
  EXPECT_EQ(probe(io, list, server.port()).reason, "HTTP 404 for /");
}

TEST(HttpProber, HeadAsksForNoBody) {
  asio::io_context io;
  Seen seen;
  // A HEAD reply's Content-Length describes a body that is not sent.
  Server server(io, http_server(seen, [](const Request&) {
                  return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n");
                }));
  model::HttpCheck spec{.method = model::HttpMethod::Head};
  const Result r = probe(io, spec, server.port());
  EXPECT_EQ(r.reason, "HTTP 200");
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0].method(), http::verb::head);
}

TEST(HttpProber, TheHostHeaderAsConfigured) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200)));
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "www.example.com"}, server.port()).up);
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "www.example.com:8080"}, server.port()).up);
  ASSERT_EQ(seen.requests.size(), 2u);
  // Not the scheme's port: it is named, unless the host already names one.
  EXPECT_EQ(seen.requests[0][http::field::host], fmt::format("www.example.com:{}", server.port()));
  EXPECT_EQ(seen.requests[1][http::field::host], "www.example.com:8080");
}

TEST(HttpProber, EveryUrlMustPassInOrder) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, [](const Request& req) {
                  return req.target() == "/a" ? reply(200) : req.target() == "/b" ? reply(204) : reply(503);
                }));
  const Result both = probe(io, check_of({{.path = "/a"}, {.path = "/b", .status = {{200, 299}}}}), server.port());
  EXPECT_TRUE(both.up);
  EXPECT_EQ(both.reason, "HTTP 204");  // the last URL's
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/a", "/b"}));

  seen.requests.clear();
  const Result second = probe(io, check_of({{.path = "/a"}, {.path = "/c"}, {.path = "/b"}}), server.port());
  EXPECT_FALSE(second.up);
  EXPECT_EQ(second.reason, "HTTP 503 for /c");
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/a", "/c"}));  // the first failure ends it
}

TEST(HttpProber, BodyDigests) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200, "hello\n")));
  const auto md5 = [](std::string hex) { return model::Digest{model::DigestAlgorithm::Md5, std::move(hex)}; };
  const auto sha = [](std::string hex) { return model::Digest{model::DigestAlgorithm::Sha256, std::move(hex)}; };
  EXPECT_EQ(probe(io, check_of({.digest = md5(kHelloMd5)}), server.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, check_of({.digest = sha(kHelloSha256)}), server.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, check_of({.digest = md5("d41d8cd98f00b204e9800998ecf8427e")}), server.port()).reason,
            "digest mismatch for /: got " + kHelloMd5);
  EXPECT_EQ(probe(io, check_of({.digest = sha(std::string(64, '0'))}), server.port()).reason,
            "digest mismatch for /: got " + kHelloSha256);
}

TEST(HttpProber, ADigestOfALargeChunkedBody) {
  // Several read buffers' worth, in chunks: the digest is of the whole body as it streamed by.
  std::string body;
  for (int i = 0; body.size() < 300000; ++i) body += fmt::format("line {}\n", i);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  ASSERT_EQ(EVP_Digest(body.data(), body.size(), md, &n, EVP_md5(), nullptr), 1);
  std::string expected;
  for (unsigned int i = 0; i < n; ++i) expected += fmt::format("{:02x}", md[i]);
  std::string raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (std::size_t at = 0; at < body.size(); at += 7000) {
    const auto piece = body.substr(at, 7000);
    raw += fmt::format("{:x}\r\n{}\r\n", piece.size(), piece);
  }
  raw += "0\r\n\r\n";

  asio::io_context io;
  Seen seen;
  Server server(io, raw_server(seen, raw));
  HttpProber prober(check_of({.digest = model::Digest{model::DigestAlgorithm::Md5, expected}}), false);
  prober.keep_views(true);
  EXPECT_EQ(probe(io, prober, loopback(server.port())).reason, "HTTP 200");
  ASSERT_EQ(prober.views().size(), 1u);
  EXPECT_EQ(prober.views()[0], (HttpView{"/", 200, body.size(), expected,
                                          body_digest(model::DigestAlgorithm::Sha256, body)}));
}

TEST(HttpProber, ARegexOverTheFirstBytes) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200, std::string(100, 'x') + "status: ok\n")));
  EXPECT_EQ(probe(io, check_of({.regex = "status: (ok|fine)"}), server.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, check_of({.regex = "status: down"}), server.port()).reason,
            "body does not match /status: down/ for /");
  // The match lies past the bytes the regex sees.
  EXPECT_EQ(probe(io, check_of({.regex = "ok", .regex_bytes = 100}), server.port()).reason,
            "body does not match /ok/ for /");
  EXPECT_EQ(probe(io, check_of({.regex = "ok", .regex_bytes = 112}), server.port()).reason, "HTTP 200");
  // ECMAScript's anchors: the ends of the body, not of its lines; "." stops at a newline.
  EXPECT_EQ(probe(io, check_of({.regex = "ok$"}), server.port()).reason, "body does not match /ok$/ for /");
  EXPECT_EQ(probe(io, check_of({.regex = "^x+status: ok\n$"}), server.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, check_of({.regex = "ok."}), server.port()).reason, "body does not match /ok./ for /");
}

TEST(HttpProber, ARegexOverALongLine) {
  // libstdc++'s matcher would recurse once per byte ".*" takes, past the stack, and take
  // seconds to find no "down".
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200, std::string(60000, 'x') + "okok")));
  EXPECT_EQ(probe(io, check_of({.regex = ".*ok$"}), server.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, check_of({.regex = ".*down"}), server.port()).reason, "body does not match /.*down/ for /");
  EXPECT_EQ(probe(io, check_of({.regex = "(ok)\\1$"}), server.port()).reason, "HTTP 200");
  // Catastrophic backtracking is a verdict, not a stalled loop.
  EXPECT_EQ(probe(io, check_of({.regex = "(x+x+)+y"}), server.port()).reason, "regex /(x+x+)+y/ too complex for /");
}

TEST(HttpProber, ARedirectIsJudgedByItsStatusByDefault) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, [](const Request& req) {
                  return req.target() == "/old" ? reply(302, "", "Location: /new\r\n") : reply(200);
                }));
  const Result r = probe(io, check_of({.path = "/old"}), server.port());
  EXPECT_EQ(r.reason, "HTTP 302 for /old");
  EXPECT_EQ(seen.paths(), std::vector<std::string>{"/old"});
}

TEST(HttpProber, RedirectsFollowedUpToTheLimit) {
  asio::io_context io;
  Seen seen;
  std::uint16_t port = 0;
  Server server(io, http_server(seen, [&](const Request& req) {
                  const std::string_view t = req.target();
                  if (t == "/old") return reply(301, "", "Location: /new\r\n");
                  if (t == "/a") return reply(302, "", "Location: /b\r\n");
                  if (t == "/b") return reply(307, "", "Location: c?x=1\r\n");  // relative
                  if (t == "/abs") return reply(308, "", fmt::format("Location: http://127.0.0.1:{}/new\r\n", port));
                  if (t == "/away") return reply(302, "", "Location: http://elsewhere.example/\r\n");
                  if (t == "/tls") return reply(302, "", fmt::format("Location: https://127.0.0.1:{}/\r\n", port));
                  return reply(200, std::string(t));
                }));
  port = server.port();
  model::HttpCheck one = check_of({.path = "/old"});
  one.max_redirects = 1;
  EXPECT_EQ(probe(io, one, port).reason, "HTTP 200");
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/old", "/new"}));

  seen.requests.clear();
  one.urls[0].path = "/abs";
  EXPECT_EQ(probe(io, one, port).reason, "HTTP 200");
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/abs", "/new"}));

  seen.requests.clear();
  one.urls[0].path = "/a";  // two redirects
  EXPECT_EQ(probe(io, one, port).reason, "too many redirects");
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/a", "/b"}));

  seen.requests.clear();
  model::HttpCheck two = one;
  two.max_redirects = 2;
  EXPECT_EQ(probe(io, two, port).reason, "HTTP 200");
  EXPECT_EQ(seen.paths(), (std::vector<std::string>{"/a", "/b", "/c?x=1"}));

  two.urls[0].path = "/away";
  EXPECT_EQ(probe(io, two, port).reason, "redirect off the server to http://elsewhere.example/ for /away");
  two.urls[0].path = "/tls";  // another scheme: another connection than the check's
  EXPECT_EQ(probe(io, two, port).reason, fmt::format("redirect off the server to https://127.0.0.1:{}/ for /tls", port));
}

TEST(HttpProber, ABodyOverTheLimitFails) {
  asio::io_context io;
  Seen seen;
  Server announced(io, raw_server(seen, fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", kHttpBodyLimit + 1)));
  EXPECT_EQ(probe(io, model::HttpCheck{}, announced.port()).reason, "body longer than 16777216 bytes for /");
  // Not announced, the body is counted as it comes: to the end of the connection, or in chunks.
  HttpProber small(model::HttpCheck{}, false, 1000);
  Server endless(io, raw_server(seen, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(1001, 'x')));
  EXPECT_EQ(probe(io, small, loopback(endless.port())).reason, "body longer than 1000 bytes for /");
  Server chunked(io, raw_server(seen, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" +
                                          std::string(1000, 'x') + "\r\n1\r\nx\r\n0\r\n\r\n"));
  EXPECT_EQ(probe(io, small, loopback(chunked.port())).reason, "body longer than 1000 bytes for /");
  Server fits(io, raw_server(seen, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(1000, 'x')));
  EXPECT_EQ(probe(io, small, loopback(fits.port())).reason, "HTTP 200");
}

TEST(HttpProber, AClosedPortIsRefused) {
  asio::io_context io;
  const Result r = probe(io, model::HttpCheck{}, closed_port());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect refused");
}

TEST(HttpProber, AServerThatNeverAnswersTimesOut) {
  asio::io_context io;
  Seen seen;
  Server server(io, [&](tcp::socket s) { return serve_silence(std::move(s), &seen); });
  const auto before = std::chrono::steady_clock::now();
  const Result r = probe(io, model::HttpCheck{}, server.port(), false, 200ms);
  EXPECT_EQ(r.reason, "timeout after 200 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 900ms);
  EXPECT_EQ(seen.requests.size(), 1u);
  // The prober's socket is closed: the server sees the end of its connection.
  EXPECT_TRUE(run_until(io, [&] { return seen.closed == 1; }));
}

TEST(HttpProber, ASlowlorisTimesOut) {
  asio::io_context io;
  Seen seen;
  Server server(io, [&](tcp::socket s) { return serve_slowly(std::move(s), &seen); });
  const Result r = probe(io, model::HttpCheck{}, server.port(), false, 300ms);
  EXPECT_EQ(r.reason, "timeout after 300 ms");
  EXPECT_TRUE(run_until(io, [&] { return seen.closed == 1; }));
}

TEST(HttpProber, AResetMidReply) {
  asio::io_context io;
  Seen seen;
  Server server(io, raw_server(seen, "HTTP/1.1 200 OK\r\nContent-Le", true));
  EXPECT_EQ(probe(io, model::HttpCheck{}, server.port()).reason, "connection reset");
}

TEST(HttpProber, GarbageIsABadReply) {
  asio::io_context io;
  Seen seen;
  Server garbage(io, raw_server(seen, "HELLO\r\n\r\n"));
  EXPECT_EQ(probe(io, model::HttpCheck{}, garbage.port()).reason, "bad HTTP reply: bad version");
  Server nothing(io, raw_server(seen, ""));
  EXPECT_EQ(probe(io, model::HttpCheck{}, nothing.port()).reason, "bad HTTP reply: end of stream");
  Server partial(io, raw_server(seen, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_EQ(probe(io, model::HttpCheck{}, partial.port()).reason, "bad HTTP reply: partial message");
}

TEST(HttpProber, ManyAttemptsLeaveNoDescriptorBehind) {
  asio::io_context io;
  Seen seen;
  Server up(io, http_server(seen, always(200, "hello\n")));
  Server down(io, http_server(seen, always(503)));
  Server garbage(io, raw_server(seen, "HELLO\r\n\r\n"));
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto tls = server_tls(id, seen);
  Server secure(io, https_server(*tls, seen, always(200)));
  const auto refused = closed_port();
  HttpProber http(check_of({.digest = model::Digest{model::DigestAlgorithm::Md5, kHelloMd5}}), false);
  HttpProber https(model::HttpCheck{}, true);
  const auto waits = SocketWaits::shared(io.get_executor());  // the checks' epoll set, one for them all
  const auto before = open_fds();
  int served = 0;
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(probe(io, http, loopback(up.port())).up);
    EXPECT_FALSE(probe(io, http, loopback(down.port())).up);
    EXPECT_FALSE(probe(io, http, loopback(garbage.port())).up);
    EXPECT_FALSE(probe(io, http, loopback(refused)).up);
    EXPECT_TRUE(probe(io, https, loopback(secure.port())).up);
    served += 4;
  }
  ASSERT_TRUE(run_until(io, [&] { return seen.closed == served; }));
  EXPECT_EQ(open_fds(), before);
}

TEST(HttpProber, TheChecksEpollSetGoesWithTheLastProber) {
  asio::io_context io;
  Seen seen;
  Server server(io, http_server(seen, always(200)));
  const auto before = open_fds();
  std::optional<HttpProber> first(std::in_place, model::HttpCheck{}, false);
  std::optional<HttpProber> second(std::in_place, model::HttpCheck{}, false);
  EXPECT_EQ(probe(io, *first, loopback(server.port())).reason, "HTTP 200");
  EXPECT_EQ(probe(io, *second, loopback(server.port())).reason, "HTTP 200");
  EXPECT_EQ(open_fds(), before + 1);  // one set for both
  first.reset();
  EXPECT_EQ(open_fds(), before + 1);
  second.reset();
  EXPECT_EQ(open_fds(), before);
}

TEST(HttpProber, AProberMayOutliveItsIoContext) {
  // The io_context's end closes the set the prober holds; the prober then goes without
  // touching the io_context, and probes again on another.
  const auto before = open_fds();
  std::optional<HttpProber> prober(std::in_place, model::HttpCheck{}, false);
  for (int i = 0; i < 2; ++i) {
    asio::io_context io;
    Seen seen;
    Server server(io, http_server(seen, always(200)));
    EXPECT_EQ(probe(io, *prober, loopback(server.port())).reason, "HTTP 200");
  }
  EXPECT_EQ(open_fds(), before);
  prober.reset();
  EXPECT_EQ(open_fds(), before);
}

// Sends `all` in pieces of `piece` bytes, 2 ms apart.
asio::awaitable<void> serve_in_pieces(tcp::socket s, Seen* seen, std::string all, std::size_t piece) {
  co_await read_request(s, seen);
  asio::steady_timer pause(s.get_executor());
  for (std::size_t at = 0; at < all.size(); at += piece) {
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(all.substr(at, piece)), kTuple);
    if (ec) break;
    pause.expires_after(2ms);
    co_await pause.async_wait(kTuple);
  }
  s.close();
  ++seen->closed;
}

TEST(HttpProber, ALongBodyInPiecesAndAtOnce) {
  // Read as it comes, with waits between pieces, or a turn of the loop given every 64 KiB
  // when the socket keeps full: the digest and the regex see all of it.
  asio::io_context io;
  Seen seen;
  const std::string body = std::string(300000, 'x') + "hello\n";
  const std::string all = reply(200, body);
  Server pieces(io, [&](tcp::socket s) { return serve_in_pieces(std::move(s), &seen, all, 7000); });
  Server at_once(io, [&](tcp::socket s) { return serve_in_pieces(std::move(s), &seen, all, all.size()); });
  const model::Digest md5{model::DigestAlgorithm::Md5, body_digest(model::DigestAlgorithm::Md5, body)};
  const model::HttpCheck spec = check_of({.digest = md5, .regex = "xhello", .regex_bytes = 400000});
  EXPECT_EQ(probe(io, spec, pieces.port()).reason, "HTTP 200");
  EXPECT_EQ(probe(io, spec, at_once.port()).reason, "HTTP 200");
}

// ---- HTTPS

TEST(HttpsProber, ASelfSignedCertificateIsFineWithoutVerify) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200, "secure")));
  const Result r = probe(io, model::HttpCheck{}, server.port(), true);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "HTTP 200");
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0][http::field::host], fmt::format("127.0.0.1:{}", server.port()));
}

TEST(HttpsProber, VerifyRefusesASelfSignedCertificate) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200)));
  model::HttpCheck spec{.host = "localhost", .tls = {.verify = true}};
  const Result r = probe(io, spec, server.port(), true);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "certificate verify failed: self-signed certificate");
  EXPECT_TRUE(seen.requests.empty());
}

TEST(HttpsProber, VerifyWithACaFileChecksTheName) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost,IP:127.0.0.1");
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200)));
  const PemFile ca = cert_file(id);
  model::HttpCheck spec{.host = "localhost", .tls = {.verify = true, .ca_file = ca.path()}};
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "HTTP 200");
  spec.host = "";  // the address itself, against the certificate's IP name
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "HTTP 200");
  spec.host = "www.example.com";
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "certificate verify failed: hostname mismatch");
  spec.host = "localhost";
  spec.tls.sni = "www.example.com";  // the name sent is the name checked
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "certificate verify failed: hostname mismatch");
}

TEST(HttpsProber, AnExpiredCertificateFailsVerify) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost", -2 * 86400, -86400);
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200)));
  const PemFile ca = cert_file(id);
  model::HttpCheck spec{.host = "localhost", .tls = {.verify = true, .ca_file = ca.path()}};
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "certificate verify failed: certificate has expired");
  spec.tls.verify = false;
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "HTTP 200");
}

TEST(HttpsProber, TheServerNameSent) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200)));
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "www.example.com"}, server.port(), true).up);
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "www.example.com:8443"}, server.port(), true).up);
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "www.example.com", .tls = {.sni = "sni.example.org"}},
                    server.port(), true)
                  .up);
  EXPECT_TRUE(probe(io, model::HttpCheck{}, server.port(), true).up);                      // an address: none
  EXPECT_TRUE(probe(io, model::HttpCheck{.host = "192.0.2.1"}, server.port(), true).up);  // likewise
  EXPECT_EQ(seen.sni, (std::vector<std::string>{"www.example.com", "www.example.com", "sni.example.org", "", ""}));
}

TEST(HttpsProber, AClientCertificate) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto client = make_identity("lvsd-client", "");
  const auto tls = server_tls(id, seen, &client);
  Server server(io, https_server(*tls, seen, always(200)));
  const PemFile cert = cert_file(client), key = key_file(client);
  model::HttpCheck spec{.tls = {.cert_file = cert.path(), .key_file = key.path()}};
  EXPECT_EQ(probe(io, spec, server.port(), true).reason, "HTTP 200");
  EXPECT_EQ(seen.client_cn, std::vector<std::string>{"lvsd-client"});
  // Without one, TLS 1.3 lets the client finish its handshake: the server's alert comes after.
  EXPECT_EQ(probe(io, model::HttpCheck{}, server.port(), true).reason, "TLS error: tlsv13 alert certificate required");
}

TEST(HttpsProber, NotTlsAtAll) {
  asio::io_context io;
  Seen seen;
  // Answers before it is asked, as a plain HTTP server would answer the ClientHello.
  Server plain(io, [&](tcp::socket s) -> asio::awaitable<void> {
    co_await asio::async_write(s, asio::buffer(std::string("HTTP/1.1 400 Bad Request\r\n\r\n")), kTuple);
    co_await s.async_wait(tcp::socket::wait_read, kTuple);
  });
  EXPECT_EQ(probe(io, model::HttpCheck{}, plain.port(), true).reason, "TLS handshake failed: wrong version number");
  // Reads the ClientHello, then closes its side without a word.
  Server closing(io, [&](tcp::socket s) -> asio::awaitable<void> {
    char hello[512];
    co_await s.async_read_some(asio::buffer(hello), kTuple);
    s.shutdown(tcp::socket::shutdown_send);
    co_await s.async_wait(tcp::socket::wait_error, kTuple);
  });
  EXPECT_EQ(probe(io, model::HttpCheck{}, closing.port(), true).reason, "TLS handshake failed: connection closed");
}

TEST(HttpsProber, AHandshakeThatNeverEndsTimesOut) {
  asio::io_context io;
  Seen seen;
  Server server(io, [&](tcp::socket s) { return serve_silence(std::move(s), &seen); });
  EXPECT_EQ(probe(io, model::HttpCheck{}, server.port(), true, 200ms).reason, "timeout after 200 ms");
  EXPECT_TRUE(run_until(io, [&] { return seen.closed == 1; }));
}

TEST(HttpsProber, ProbersWithTheSameTlsOptionsShareOneContext) {
  asio::io_context io;
  Seen seen;
  const auto id = make_identity("localhost", "DNS:localhost");
  const auto tls = server_tls(id, seen);
  Server server(io, https_server(*tls, seen, always(200)));
  std::optional<PemFile> ca;
  ca.emplace([&](FILE* f) { PEM_write_X509(f, id.cert.get()); });
  const model::HttpCheck spec{.host = "localhost", .tls = {.verify = true, .ca_file = ca->path()}};
  auto first = std::make_unique<HttpProber>(spec, true);
  ca.reset();  // the file is gone; the context the first prober made holds its certificate
  auto second = std::make_unique<HttpProber>(spec, true);
  EXPECT_EQ(probe(io, *second, loopback(server.port())).reason, "HTTP 200");
  first.reset();
  second.reset();
  // No prober holds that context any more: a new one reads the file again.
  HttpProber third(spec, true);
  EXPECT_EQ(probe(io, third, loopback(server.port())).reason,
            fmt::format("cannot load CA file {}: No such file or directory", spec.tls.ca_file));
}

TEST(HttpsProber, AMissingCaFileFailsEveryAttempt) {
  asio::io_context io;
  model::HttpCheck spec{.tls = {.verify = true, .ca_file = "/nonexistent/ca.pem"}};
  EXPECT_EQ(probe(io, spec, closed_port(), true).reason, "cannot load CA file /nonexistent/ca.pem: No such file or directory");
}

}  // namespace
}  // namespace lvsd::check
