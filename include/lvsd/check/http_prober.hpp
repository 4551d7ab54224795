// L7: HTTP and HTTPS checks (status, body digest, body regex, redirects, TLS), and the body
// digest genhash prints.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// A longer body fails the check: it is read through (digests and the regex see it as it
// streams by), so the bound is there for a server that never stops sending, not for memory.
inline constexpr std::size_t kHttpBodyLimit = 16 << 20;

// Lower-case hex digest of a whole body, as keepalived's genhash prints it for MD5.
std::string body_digest(model::DigestAlgorithm algorithm, std::string_view body);

// What one URL's final response was, for `lvsctl probe URL` and for logs.
struct HttpView {
  std::string path;        // the path asked for last (after any redirects)
  unsigned status = 0;
  std::size_t length = 0;  // body bytes received
  std::string md5;         // of the body, lower-case hex
  std::string sha256;
  bool operator==(const HttpView&) const = default;
};

// One attempt: for each URL in order, a new connection (TLS for https), one request with
// `Connection: close`, and the reply judged; every URL must pass and the first failure is
// the result. Redirects are followed only on the same server (a path, or an absolute URL
// with the scheme and authority of the request) and only `max_redirects` of them per URL.
class HttpProber final : public Prober {
 public:
  // Throws std::regex_error for a regex the config would have refused.
  HttpProber(model::HttpCheck spec, bool https, std::size_t body_limit = kHttpBodyLimit);
  ~HttpProber() override;
  HttpProber(const HttpProber&) = delete;
  HttpProber& operator=(const HttpProber&) = delete;

  boost::asio::awaitable<Result> probe(const Target& target) override;

  // With views kept, every probe fills views() with one HttpView per URL answered (both
  // digests of every body computed, so off by default).
  void keep_views(bool on) { keep_views_ = on; }
  const std::vector<HttpView>& views() const { return views_; }

 private:
  struct State;
  struct Request;
  struct Outcome;
  // The request and the reply judged, on a plain or a TLS connection.
  template <class Transport>
  boost::asio::awaitable<Outcome> exchange(Transport& transport, const Request& request);
  // One request on a new connection: plain through the shared epoll set of the check
  // sockets, TLS on an Asio socket.
  boost::asio::awaitable<Outcome> fetch(const Target& target, const Request& request);
  boost::asio::awaitable<Outcome> fetch_plain(const Target& target, const Request& request);
  boost::asio::awaitable<Outcome> fetch_tls(const Target& target, const Request& request);

  model::HttpCheck spec_;
  bool https_;
  std::size_t body_limit_;
  std::unique_ptr<State> state_;  // the TLS context and the compiled regexes
  bool keep_views_ = false;
  std::vector<HttpView> views_;
};

}  // namespace lvsd::check
