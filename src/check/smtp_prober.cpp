// The SMTP dialogue of a health check: greeting, EHLO (or HELO), QUIT.
#include "lvsd/check/smtp_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include <string_view>

#include "printable.hpp"
#include "socket_setup.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t kMaxReplyBytes = 4096;
constexpr std::size_t kMaxReplyLines = 64;
constexpr std::size_t kQuotedBytes = 40;  // of a bad line, in the reason

// A complete reply's code, or why there is none.
struct Reply {
  unsigned code = 0;
  std::string failure;  // not empty: no reply
  static Reply of(unsigned code) { return {code, {}}; }
  static Reply none(std::string why) { return {0, std::move(why)}; }
};

std::string transfer_failure(const boost::system::error_code& ec, std::string_view what) {
  if (ec == asio::error::eof || ec == asio::error::broken_pipe) return "connection closed";
  if (ec == asio::error::connection_reset) return "connection reset";
  return fmt::format("{} failed: {}", what, ec.message());
}

// One SMTP connection: replies are read line by line from what has been received.
class Session {
 public:
  explicit Session(tcp::socket& socket) : socket_(socket) {}

  // The next reply: lines "ddd-text" up to one "ddd text" (or bare "ddd"), all with the
  // same code, each ended by CRLF (LF alone is taken too).
  asio::awaitable<Reply> read_reply() {
    std::size_t start = 0;  // of the line being parsed; earlier lines belong to this reply
    std::size_t lines = 0;
    unsigned code = 0;
    for (;;) {
      const auto eol = buffer_.find('\n', start);
      if (eol == std::string::npos) {
        if (buffer_.size() >= kMaxReplyBytes)
          co_return Reply::none(fmt::format("SMTP reply longer than {} bytes", kMaxReplyBytes));
        // Read straight into the buffer: with a large array in its frame, a coroutine makes
        // g++ 12 see a mismatched new/delete in Asio's frame allocator.
        const auto old_size = buffer_.size();
        buffer_.resize(kMaxReplyBytes);
        auto [ec, n] = co_await socket_.async_read_some(
            asio::buffer(buffer_.data() + old_size, kMaxReplyBytes - old_size), asio::as_tuple(asio::use_awaitable));
        buffer_.resize(old_size + n);
        if (ec) co_return Reply::none(transfer_failure(ec, "receive"));
        continue;
      }
      std::string_view line(buffer_.data() + start, eol - start);
      if (line.ends_with('\r')) line.remove_suffix(1);
      const auto digit = [&](std::size_t i) { return line[i] >= '0' && line[i] <= '9'; };
      const bool well_formed = line.size() >= 3 && digit(0) && digit(1) && digit(2) &&
                               (line.size() == 3 || line[3] == ' ' || line[3] == '-');
      const unsigned line_code =
          well_formed ? static_cast<unsigned>((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0')) : 0;
      if (!well_formed || (lines > 0 && line_code != code))
        co_return Reply::none("bad SMTP reply: " + printable(line, kQuotedBytes));
      code = line_code;
      ++lines;
      start = eol + 1;
      if (line.size() == 3 || line[3] == ' ') {
        buffer_.erase(0, start);  // what follows belongs to the next reply
        co_return Reply::of(code);
      }
      if (lines == kMaxReplyLines)
        co_return Reply::none(fmt::format("SMTP reply of more than {} lines", kMaxReplyLines));
    }
  }

  // Sends one command line and reads its reply.
  asio::awaitable<Reply> command(std::string line) {
    line += "\r\n";
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return Reply::none(transfer_failure(ec, "send"));
    co_return co_await read_reply();
  }

  // QUIT, and no wait for its answer: the verdict is known, and a server slow to say 221
  // must not turn it into a timeout.
  asio::awaitable<void> quit() {
    static constexpr std::string_view kQuit = "QUIT\r\n";
    co_await asio::async_write(socket_, asio::buffer(kQuit), asio::as_tuple(asio::use_awaitable));
  }

 private:
  tcp::socket& socket_;
  std::string buffer_;  // received and not yet taken by a reply
};

}  // namespace

SmtpProber::SmtpProber(model::SmtpCheck check) : check_(std::move(check)) {}

asio::awaitable<Result> SmtpProber::probe(const Target& target) {
  tcp::socket socket(co_await asio::this_coro::executor);
  const auto peer = to_asio(target.endpoint);
  if (auto failure = prepare(socket, peer.protocol(), target)) co_return *failure;
  auto [ec] = co_await socket.async_connect(peer, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return failure(connect_failure(ec));

  Session session(socket);
  const Reply banner = co_await session.read_reply();
  if (!banner.failure.empty()) co_return failure(banner.failure);
  if (banner.code != 220) {
    co_await session.quit();  // RFC 5321 3.1: after a 554 greeting the client sends QUIT
    co_return failure(fmt::format("SMTP banner {}", banner.code));
  }

  std::string verb = "EHLO";
  Reply hello = co_await session.command(verb + " " + check_.helo_name);
  // 500 and 502: a server older than EHLO, which HELO must satisfy (RFC 5321 4.1.4).
  if (hello.failure.empty() && (hello.code == 500 || hello.code == 502)) {
    verb = "HELO";
    hello = co_await session.command(verb + " " + check_.helo_name);
  }
  if (!hello.failure.empty()) co_return failure(hello.failure);
  co_await session.quit();
  if (hello.code != 250) co_return failure(fmt::format("SMTP {} {}", verb, hello.code));
  co_return success("SMTP 250");
}

}  // namespace lvsd::check
