// HTTP and HTTPS checks on Boost.Beast: one connection per URL, the reply judged by status,
// body digest and body regex; TLS through OpenSSL.
#include "lvsd/check/http_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/regex.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <tuple>
#include <variant>

#include "socket_setup.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using asio::ip::tcp;

// Far above any sane reply header, far below what would hurt.
constexpr std::uint32_t kHeaderLimit = 64 << 10;
constexpr std::size_t kChunk = 64 << 10;

// An incremental digest (OpenSSL EVP).
class Digester {
 public:
  explicit Digester(model::DigestAlgorithm algorithm)
      : algorithm_(algorithm), ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    const EVP_MD* md = algorithm == model::DigestAlgorithm::Md5 ? EVP_md5() : EVP_sha256();
    ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), md, nullptr) == 1;
  }
  void update(std::string_view data) {
    ok_ = ok_ && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1;
  }
  std::string hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ok_ = ok_ && EVP_DigestFinal_ex(ctx_.get(), out, &n) == 1;
    // A system whose OpenSSL refuses MD5 (FIPS mode) gets a reason that says so.
    if (!ok_) return algorithm_ == model::DigestAlgorithm::Md5 ? "(MD5 unavailable)" : "(SHA-256 unavailable)";
    std::string text;
    text.reserve(2 * n);
    for (unsigned int i = 0; i < n; ++i) fmt::format_to(std::back_inserter(text), "{:02x}", out[i]);
    return text;
  }

 private:
  model::DigestAlgorithm algorithm_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  bool ok_ = false;
};

// What the checks of one URL need from a body, taken as it streams by.
class BodySink {
 public:
  BodySink(const model::HttpUrl& url, bool views) : regex_bytes_(url.regex.empty() ? 0 : url.regex_bytes) {
    if (url.digest) digest_.emplace(url.digest->algorithm);
    if (views) {
      md5_.emplace(model::DigestAlgorithm::Md5);
      sha256_.emplace(model::DigestAlgorithm::Sha256);
    }
  }
  void add(std::string_view data) {
    length_ += data.size();
    for (auto* d : {&digest_, &md5_, &sha256_})
      if (*d) (*d)->update(data);
    if (prefix_.size() < regex_bytes_) prefix_.append(data.substr(0, regex_bytes_ - prefix_.size()));
  }
  std::size_t length() const { return length_; }
  const std::string& prefix() const { return prefix_; }
  std::string digest() { return digest_ ? digest_->hex() : std::string(); }
  std::string md5() { return md5_ ? md5_->hex() : std::string(); }
  std::string sha256() { return sha256_ ? sha256_->hex() : std::string(); }

 private:
  std::size_t regex_bytes_;
  std::size_t length_ = 0;
  std::string prefix_;
  std::optional<Digester> digest_, md5_, sha256_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::uint16_t default_port(bool https) { return https ? 443 : 80; }

// A Host header (or a URL's authority) split: the host without brackets, and the port if
// one is written.
struct Authority {
  std::string host;
  std::optional<std::uint16_t> port;
};

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const unsigned long n = std::stoul(std::string(s));
  if (n == 0 || n > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

Authority split_authority(std::string_view text) {
  if (model::IpAddress::parse(text)) return {std::string(text), std::nullopt};  // also a bare IPv6
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close != std::string_view::npos) {
      Authority a{std::string(text.substr(1, close - 1)), std::nullopt};
      if (text.size() > close + 1 && text[close + 1] == ':') a.port = parse_port(text.substr(close + 2));
      return a;
    }
  }
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos)
    if (auto port = parse_port(text.substr(colon + 1))) return {std::string(text.substr(0, colon)), port};
  return {std::string(text), std::nullopt};
}

// "host" or "[v6]", with ":port" unless it is the scheme's own.
std::string authority_text(const std::string& host, std::uint16_t port, bool https) {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host + "]" : host;
  if (port != default_port(https)) out += fmt::format(":{}", port);
  return out;
}

// The same server: equal host (any case) and equal port (the scheme's default if none).
bool same_authority(std::string_view a, std::string_view b, bool https) {
  const Authority x = split_authority(a), y = split_authority(b);
  return lower(x.host) == lower(y.host) &&
         x.port.value_or(default_port(https)) == y.port.value_or(default_port(https));
}

// Where a redirect's Location leads, as a path on the same server; nullopt when it leads to
// another server or another scheme (which would need a connection the check did not ask for).
std::optional<std::string> redirect_path(std::string_view location, std::string_view current,
                                         std::string_view host_header, bool https) {
  location = location.substr(0, location.find('#'));
  const auto colon = location.find(':');
  const auto first_slash = location.find('/');
  std::string_view rest = location;
  if (colon != std::string_view::npos && (first_slash == std::string_view::npos || colon < first_slash)) {
    if (lower(location.substr(0, colon)) != (https ? "https" : "http")) return std::nullopt;
    rest = location.substr(colon + 1);
    if (rest.substr(0, 2) != "//") return std::nullopt;
  }
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    const auto end = std::min(rest.find('/'), rest.find('?'));
    if (!same_authority(rest.substr(0, end), host_header, https)) return std::nullopt;
    if (end == std::string_view::npos) return std::string("/");
    rest.remove_prefix(end);
    return rest.front() == '/' ? std::string(rest) : "/" + std::string(rest);
  }
  if (!rest.empty() && rest.front() == '/') return std::string(rest);
  // Relative: against the current path's directory (or, for "?q", the path itself).
  const std::string_view base = current.substr(0, current.find('?'));
  if (!rest.empty() && rest.front() == '?') return std::string(base) + std::string(rest);
  return std::string(base.substr(0, base.rfind('/') + 1)) + std::string(rest);
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool accepted(const model::HttpUrl& url, unsigned status) {
  return std::any_of(url.status.begin(), url.status.end(),
                     [&](const model::StatusRange& r) { return r.low <= status && status <= r.high; });
}

// OpenSSL's reason without asio's " (SSL routines)" tail.
std::string tls_words(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category())
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) return reason;
  return ec.message();
}

std::string handshake_failure(const error_code& ec) {
  if (ec == asio::error::connection_reset) return "connection reset";
  if (ec == asio::error::eof || ec == ssl::error::stream_truncated) return "TLS handshake failed: connection closed";
  return "TLS handshake failed: " + tls_words(ec);
}

std::string send_failure(const error_code& ec) {
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return "connection reset";
  if (ec.category() == asio::error::get_ssl_category()) return "TLS error: " + tls_words(ec);
  return "send failed: " + ec.message();
}

std::string reply_failure(const error_code& ec) {
  if (ec == asio::error::connection_reset) return "connection reset";
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category())
    return "bad HTTP reply: " + ec.message();
  if (ec.category() == asio::error::get_ssl_category()) return "TLS error: " + tls_words(ec);
  return "read failed: " + ec.message();
}

// A TLS peer that closes without close_notify: an end of stream like a plain socket's, which
// ends a body that runs to the end of the connection.
template <class Parser>
void truncated_is_eof(Parser& parser, error_code& ec) {
  if (ec != ssl::error::stream_truncated) return;
  if (!parser.got_some()) {
    ec = http::error::end_of_stream;
    return;
  }
  ec = {};
  parser.put_eof(ec);
}

// The request, as Beast writes a request with these three fields.
std::string request_text(bool head, std::string_view path, std::string_view host) {
  return fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lvsd\r\nConnection: close\r\n\r\n",
                     head ? "HEAD" : "GET", path, host);
}

// A plain connection: a socket of the shared epoll set, written to and read from with plain
// system calls, the reply parsed by Beast's synchronous reads between waits (the same
// parsing as its asynchronous ones, without a composed operation and a trip through the
// loop per read).
class PlainTransport {
 public:
  PlainTransport(SocketWaits& waits, SocketWaits::Socket& socket) : waits_(waits), socket_(socket) {}

  asio::awaitable<error_code> send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto sent = ::send(socket_.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent >= 0) {
        bytes.remove_prefix(static_cast<std::size_t>(sent));
      } else if (errno != EINTR) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) co_return error_code(errno, boost::system::system_category());
        auto [ec] = co_await waits_.wait(socket_, SocketWaits::Ready::Write, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return ec;
      }
    }
    co_return error_code();
  }

  template <class Parser>
  asio::awaitable<error_code> read_header(beast::flat_buffer& buffer, Parser& parser) {
    return keep_reading([this, b = &buffer, p = &parser](error_code& ec) { http::read_header(*this, *b, *p, ec); });
  }
  template <class Parser>
  asio::awaitable<error_code> read(beast::flat_buffer& buffer, Parser& parser) {
    return keep_reading([this, b = &buffer, p = &parser](error_code& ec) { http::read(*this, *b, *p, ec); });
  }

  // SyncReadStream, for Beast: what the socket holds, would_block when it holds nothing yet.
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    ec = {};
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      const asio::mutable_buffer into = *it;
      if (into.size() == 0) continue;
      for (;;) {
        const auto got = ::recv(socket_.fd(), into.data(), into.size(), 0);
        if (got > 0) {
          received_ += static_cast<std::size_t>(got);
          return static_cast<std::size_t>(got);
        }
        if (got == 0) {
          ec = asio::error::eof;
          return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) ec = asio::error::would_block;
        else ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  // Reads until `step` (one of Beast's reads, which stops at would_block with its parser
  // and buffer as they were) says something else. The socket's set is edge-triggered:
  // a wait comes only after a read found it empty.
  template <class Step>
  asio::awaitable<error_code> keep_reading(Step step) {
    for (;;) {
      // A server that sends fast keeps the socket full: the rest of the loop gets its turn
      // after each chunk, as it does between Asio's reads.
      if (received_ >= kChunk) {
        received_ = 0;
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      }
      error_code ec;
      step(ec);
      if (ec != asio::error::would_block) co_return ec;
      received_ = 0;
      auto [waited] = co_await waits_.wait(socket_, SocketWaits::Ready::Read, asio::as_tuple(asio::use_awaitable));
      if (waited) co_return waited;
    }
  }

  SocketWaits& waits_;
  SocketWaits::Socket& socket_;
  std::size_t received_ = 0;  // since the last wait or turn given
};

// A TLS connection: Beast's asynchronous reads on the stream.
class TlsTransport {
 public:
  explicit TlsTransport(beast::ssl_stream<tcp::socket>& stream) : stream_(stream) {}

  asio::awaitable<error_code> send(std::string_view bytes) {
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  template <class Parser>
  asio::awaitable<error_code> read_header(beast::flat_buffer& buffer, Parser& parser) {
    auto [ec, n] = co_await http::async_read_header(stream_, buffer, parser, asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  template <class Parser>
  asio::awaitable<error_code> read(beast::flat_buffer& buffer, Parser& parser) {
    auto [ec, n] = co_await http::async_read(stream_, buffer, parser, asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }

 private:
  beast::ssl_stream<tcp::socket>& stream_;
};

// The body regex: ECMAScript as the config checked it with std::regex, matched by
// Boost.Regex. libstdc++'s matcher recurses once per character a repetition takes (".*ok"
// over the default 64 KiB overflows the stack) and its search is quadratic (".*down" over
// 16 KiB without a match: 9 s of the loop every check shares); Boost's gives up on a pattern
// that explodes, with an exception. Flags: ^ and $ at the ends of the body only, and . not
// matching a newline, as in std::regex's ECMAScript.
class BodyRegex {
 public:
  explicit BodyRegex(std::string text) {
    // A search finds ".*X" exactly where it finds "X" (".*" may match nothing), and without
    // trying ".*" from every offset of a long line.
    for (;;) {
      if (text.rfind(".*?", 0) == 0) text.erase(0, 3);
      else if (text.rfind(".*", 0) == 0) text.erase(0, 2);
      else break;
    }
    try {
      boost_.emplace(text, boost::regex::ECMAScript | boost::regex::no_mod_m | boost::regex::no_mod_s);
    } catch (const boost::regex_error&) {
      // The few ECMAScript forms Boost reads otherwise: libstdc++'s polynomial matcher (its
      // stack bounded by the pattern), or, for a back-reference, its default one.
      try {
        std_.emplace(text, std::regex::ECMAScript | std::regex_constants::__polynomial);
      } catch (const std::regex_error&) {
        std_.emplace(text, std::regex::ECMAScript);
      }
    }
  }
  // nullopt: too complex to decide.
  std::optional<bool> search(const std::string& body) const {
    if (std_) return std::regex_search(body, *std_);
    try {
      return boost::regex_search(body, *boost_);
    } catch (const std::runtime_error&) {
      return std::nullopt;
    }
  }

 private:
  std::optional<boost::regex> boost_;
  std::optional<std::regex> std_;
};

}  // namespace

std::string body_digest(model::DigestAlgorithm algorithm, std::string_view body) {
  Digester d(algorithm);
  d.update(body);
  return d.hex();
}

namespace {

// A client TLS context as `tls` asks, or the words for why it cannot be made.
std::variant<std::shared_ptr<ssl::context>, std::string> make_context(const model::TlsOptions& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  if (tls.verify) {
    ctx->set_verify_mode(ssl::verify_peer, ec);
    if (tls.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return "cannot load the system's CA certificates: " + tls_words(ec);
    } else {
      ctx->load_verify_file(tls.ca_file, ec);
      if (ec) return fmt::format("cannot load CA file {}: {}", tls.ca_file, tls_words(ec));
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
    if (ec) return fmt::format("cannot load certificate {}: {}", tls.cert_file, tls_words(ec));
  }
  if (!tls.key_file.empty()) {
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
    if (ec) return fmt::format("cannot load key {}: {}", tls.key_file, tls_words(ec));
  }
  return ctx;
}

// One context for every prober with the same TLS options while any of them lives: loading
// the system's CA store took 0.1 s and 900 KiB per context on the development VM, and a
// farm has an HTTPS check per real server. A failure is not kept: a reload reads the files.
std::variant<std::shared_ptr<ssl::context>, std::string> shared_context(const model::TlsOptions& tls) {
  using Key = std::tuple<bool, std::string, std::string, std::string>;
  static std::mutex mutex;
  static std::map<Key, std::weak_ptr<ssl::context>> contexts;
  const std::lock_guard lock(mutex);
  Key key{tls.verify, tls.ca_file, tls.cert_file, tls.key_file};
  if (auto it = contexts.find(key); it != contexts.end())
    if (auto ctx = it->second.lock()) return ctx;
  auto made = make_context(tls);
  if (const auto* ctx = std::get_if<std::shared_ptr<ssl::context>>(&made)) {
    std::erase_if(contexts, [](const auto& entry) { return entry.second.expired(); });
    contexts[key] = *ctx;
  }
  return made;
}

}  // namespace

struct HttpProber::State {
  std::shared_ptr<ssl::context> tls;  // https only
  std::string tls_error;              // no context: every attempt fails with this
  std::vector<std::optional<BodyRegex>> regexes;  // one per URL
  // http only: the set its sockets wait on, shared with the other http checks and held
  // between attempts (else it would be made again at the next attempt).
  std::shared_ptr<SocketWaits> waits;
};

// One request of one URL on one connection.
struct HttpProber::Request {
  std::size_t url = 0;      // index in spec_.urls
  std::string path;         // asked for; a followed redirect changes it
  std::string host;         // the Host header
  std::string sni;          // empty: none
  std::string verify_name;  // the certificate must be for this name or, with verify_ip, address
  bool verify_ip = false;
  bool follow = false;      // a redirect with a Location is handed back, not judged
};

struct HttpProber::Outcome {
  Result result;          // the URL's verdict, unless a redirect is to be followed
  unsigned status = 0;
  std::string location;   // set: follow it

  static Outcome verdict(Result result, unsigned status = 0) {
    Outcome o;
    o.result = std::move(result);
    o.status = status;
    return o;
  }
  static Outcome redirect(unsigned status, std::string location) {
    Outcome o;
    o.status = status;
    o.location = std::move(location);
    return o;
  }
};

HttpProber::HttpProber(model::HttpCheck spec, bool https, std::size_t body_limit)
    : spec_(std::move(spec)), https_(https), body_limit_(body_limit), state_(std::make_unique<State>()) {
  if (spec_.urls.empty()) throw std::invalid_argument("an HTTP check needs at least one URL");
  for (const auto& url : spec_.urls)
    state_->regexes.push_back(url.regex.empty() ? std::nullopt : std::optional<BodyRegex>(url.regex));
  if (!https_) return;
  auto ctx = shared_context(spec_.tls);
  if (auto* error = std::get_if<std::string>(&ctx)) state_->tls_error = std::move(*error);
  else state_->tls = std::get<std::shared_ptr<ssl::context>>(std::move(ctx));
}

HttpProber::~HttpProber() = default;

asio::awaitable<Result> HttpProber::probe(const Target& target) {
  views_.clear();
  if (!state_->tls_error.empty()) co_return failure(state_->tls_error);

  Request rq;
  if (spec_.host.empty()) {
    rq.host = authority_text(target.endpoint.address.to_string(), target.endpoint.port, https_);
  } else {
    const Authority a = split_authority(spec_.host);
    rq.host = a.port ? spec_.host : authority_text(a.host, target.endpoint.port, https_);
  }
  const Authority named = split_authority(rq.host);
  const bool host_is_ip = model::IpAddress::parse(named.host).has_value();
  rq.sni = !spec_.tls.sni.empty() ? spec_.tls.sni : host_is_ip ? std::string() : named.host;
  rq.verify_name = rq.sni.empty() ? named.host : rq.sni;
  rq.verify_ip = rq.sni.empty();
  rq.follow = spec_.max_redirects > 0;

  unsigned status = 0;
  for (rq.url = 0; rq.url < spec_.urls.size(); ++rq.url) {
    const auto& url = spec_.urls[rq.url];
    rq.path = url.path;
    for (std::uint32_t redirects = 0;;) {
      Outcome out = co_await fetch(target, rq);
      if (out.location.empty()) {
        if (!out.result.up) co_return out.result;
        status = out.status;
        break;
      }
      if (redirects++ == spec_.max_redirects) co_return failure("too many redirects");
      auto next = redirect_path(out.location, rq.path, rq.host, https_);
      if (!next) co_return failure(fmt::format("redirect off the server to {} for {}", out.location, url.path));
      rq.path = std::move(*next);
    }
  }
  co_return success(fmt::format("HTTP {}", status));
}

asio::awaitable<HttpProber::Outcome> HttpProber::fetch(const Target& target, const Request& rq) {
  return https_ ? fetch_tls(target, rq) : fetch_plain(target, rq);
}

asio::awaitable<HttpProber::Outcome> HttpProber::fetch_plain(const Target& target, const Request& rq) {
  // Asked for at each attempt: the prober may have outlived the io_context of the last.
  const auto waits = SocketWaits::shared(co_await asio::this_coro::executor);
  state_->waits = waits;
  auto connected = co_await waits->connect(target);
  auto* socket = std::get_if<SocketWaits::Socket>(&connected);
  if (!socket) co_return Outcome::verdict(std::get<Result>(std::move(connected)));
  PlainTransport transport(*waits, *socket);
  co_return co_await exchange(transport, rq);
}

asio::awaitable<HttpProber::Outcome> HttpProber::fetch_tls(const Target& target, const Request& rq) {
  tcp::socket socket(co_await asio::this_coro::executor);
  const auto peer = to_asio(target.endpoint);
  if (auto failed = prepare(socket, peer.protocol(), target)) co_return Outcome::verdict(*failed);
  auto [ec] = co_await socket.async_connect(peer, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return Outcome::verdict(failure(connect_failure(ec)));
  beast::ssl_stream<tcp::socket> stream(std::move(socket), *state_->tls);
  SSL* ssl = stream.native_handle();
  if (!rq.sni.empty() && SSL_set_tlsext_host_name(ssl, rq.sni.c_str()) != 1)
    co_return Outcome::verdict(failure("cannot set the TLS server name " + rq.sni));
  if (spec_.tls.verify) {
    const int set = rq.verify_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), rq.verify_name.c_str())
                                 : SSL_set1_host(ssl, rq.verify_name.c_str());
    if (set != 1) co_return Outcome::verdict(failure("cannot verify a certificate for " + rq.verify_name));
  }
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) {
    const long verified = SSL_get_verify_result(ssl);
    if (spec_.tls.verify && verified != X509_V_OK)
      co_return Outcome::verdict(failure(std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified)));
    co_return Outcome::verdict(failure(handshake_failure(hec)));
  }
  // No TLS shutdown: the request said Connection: close, and waiting for the server's
  // close_notify would only add a way to hang.
  TlsTransport transport(stream);
  co_return co_await exchange(transport, rq);
}

template <class Transport>
asio::awaitable<HttpProber::Outcome> HttpProber::exchange(Transport& transport, const Request& rq) {
  const auto& url = spec_.urls[rq.url];
  const bool head = spec_.method == model::HttpMethod::Head;
  {
    const std::string request = request_text(head, rq.path, rq.host);
    if (const auto ec = co_await transport.send(request)) co_return Outcome::verdict(failure(send_failure(ec)));
  }

  // The parser, the buffer and the body's digests on the heap, not in the frame: with them
  // in it, g++ 12's sanitizer build sees a mismatched new/delete in Asio's frame allocator.
  struct Reading {
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
  };
  const auto reading = std::make_unique<Reading>();
  auto& buffer = reading->buffer;
  auto& parser = reading->parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(boost::none);  // judged after the status, below
  parser.skip(head);
  {
    auto ec = co_await transport.read_header(buffer, parser);
    truncated_is_eof(parser, ec);
    if (ec) co_return Outcome::verdict(failure(reply_failure(ec)));
  }
  const unsigned status = parser.get().result_int();
  if (rq.follow && is_redirect(status)) {
    const auto location = parser.get()[http::field::location];
    if (!location.empty()) co_return Outcome::redirect(status, std::string(location));
  }
  const auto bad_status = [&] { return Outcome::verdict(failure(fmt::format("HTTP {} for {}", status, url.path)), status); };
  const bool status_ok = accepted(url, status);
  if (!status_ok && !keep_views_) co_return bad_status();

  const auto too_long = [&] {
    return Outcome::verdict(failure(fmt::format("body longer than {} bytes for {}", body_limit_, url.path)), status);
  };
  if (const auto length = parser.content_length(); length && *length > body_limit_)
    co_return status_ok ? too_long() : bad_status();
  parser.body_limit(body_limit_);
  const auto sink = std::make_unique<BodySink>(url, keep_views_);
  BodySink& body = *sink;
  // As long as the body when its length is given (a health page is short), at most kChunk;
  // not zeroed: only what the parser wrote is read.
  const auto chunk_size = static_cast<std::size_t>(
      std::clamp<std::uint64_t>(parser.content_length().value_or(kChunk), 1, kChunk));
  const auto chunk = std::make_unique_for_overwrite<char[]>(chunk_size);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.get();
    parser.get().body().size = chunk_size;
    auto ec = co_await transport.read(buffer, parser);
    if (ec == http::error::need_buffer) ec = {};
    body.add({chunk.get(), chunk_size - parser.get().body().size});
    truncated_is_eof(parser, ec);
    if (ec == http::error::body_limit) co_return status_ok ? too_long() : bad_status();
    if (ec) co_return Outcome::verdict(failure(reply_failure(ec)), status);
  }
  if (keep_views_) views_.push_back(HttpView{rq.path, status, body.length(), body.md5(), body.sha256()});

  if (!status_ok) co_return bad_status();
  if (url.digest) {
    const std::string got = body.digest();
    if (got != lower(url.digest->hex))
      co_return Outcome::verdict(failure(fmt::format("digest mismatch for {}: got {}", url.path, got)), status);
  }
  if (const auto& re = state_->regexes[rq.url]) {
    const auto found = re->search(body.prefix());
    if (!found) co_return Outcome::verdict(failure(fmt::format("regex /{}/ too complex for {}", url.regex, url.path)), status);
    if (!*found)
      co_return Outcome::verdict(failure(fmt::format("body does not match /{}/ for {}", url.regex, url.path)), status);
  }
  co_return Outcome::verdict(success(fmt::format("HTTP {}", status)), status);
}

}  // namespace lvsd::check
