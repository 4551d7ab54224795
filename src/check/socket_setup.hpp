// What the socket-based probers share: open, bind to the check's source address and
// interface; the words for a failed connect; and the epoll set that the tcp and http
// checks' sockets wait on.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "lvsd/check/prober.hpp"

namespace lvsd::check {

boost::asio::ip::address to_asio(const model::IpAddress& a);

template <class Endpoint = boost::asio::ip::tcp::endpoint>
Endpoint to_asio(const model::Endpoint& e) {
  return Endpoint(to_asio(e.address), e.port);
}

// "connect refused", "host unreachable", "network unreachable", "connection reset",
// otherwise "connect failed: <the system's words>".
std::string connect_failure(const boost::system::error_code& ec);

// Binds the socket `fd` (not yet connected) to the target's bind_interface and
// bind_address, if set; a failure is the result.
std::optional<Result> bind_as_asked(int fd, const Target& target);

// Opens `socket` for `protocol` and binds it as the target asks; a failure is the result.
template <class Socket, class Protocol>
std::optional<Result> prepare(Socket& socket, const Protocol& protocol, const Target& target) {
  boost::system::error_code ec;
  socket.open(protocol, ec);
  if (ec) return failure("cannot open a socket: " + ec.message());
  return bind_as_asked(socket.native_handle(), target);
}

// Check sockets waited on in one epoll set of their own, which the io_context watches as
// one descriptor. At thousands of checks a second the system calls are most of a check's
// cost: a socket here costs socket, connect, one epoll_ctl and close around what the check
// itself says (an Asio socket adds FIONBIO, a second epoll_ctl to watch for writing and a
// poll), and the sockets that become ready together are collected by one epoll_wait.
// The ready sockets are resumed in turns of the loop: a turn lasts kMinTurn, and the rest
// waits for the next turn, after the loop has run the timers due meanwhile, so that a burst
// of replies (hundreds, when a busy server answers its backlog at once) does not hold back
// every round due while it is served. A turn that goes on with such a rest lasts as long as
// the rest of the loop took since: a loop that is behind still gives the sockets half its
// time, so that their checks do not time out while rounds start (a round can start late;
// a reply read late is a false timeout). Used from one thread.
class SocketWaits {
 public:
  static constexpr std::size_t kBatch = 32;  // events taken per epoll_wait
  static constexpr std::chrono::microseconds kMinTurn{1000};

  explicit SocketWaits(boost::asio::any_io_executor executor);
  ~SocketWaits();
  SocketWaits(const SocketWaits&) = delete;
  SocketWaits& operator=(const SocketWaits&) = delete;

  // The set the tcp and http checks of an io_context share: made by the first that asks
  // while none is held, closed when the last holder lets it go or when the io_context
  // shuts down (the set may then outlive the io_context, closed).
  static std::shared_ptr<SocketWaits> shared(const boost::asio::any_io_executor& executor);

  // Closes the set: the waits under way are destroyed, not resumed (their sockets close
  // with the coroutine frames that hold them), and the set holds nothing of the io_context
  // any more. A closed set waits for nothing again.
  void close();

  struct State;

  // A non-blocking socket, closed with this object; in the set once it has waited.
  class Socket {
   public:
    Socket() = default;
    ~Socket();
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    int fd() const { return fd_; }
    // Closes it with a reset (SO_LINGER 0), as HAProxy closes its checks: no FIN exchange,
    // and no TIME_WAIT entry per check.
    void reset();

   private:
    friend class SocketWaits;
    friend struct State;
    void close();
    std::shared_ptr<State> state_;
    int fd_ = -1;
    std::uint64_t key_ = 0;  // its place in the set; 0: not in it (yet)
  };

  enum class Ready { Read, Write };

  // Waits until `socket` is ready to read or to write, or has an error or a hang-up (the
  // next system call on it says which). Completes with no error then, operation_aborted
  // when cancelled (any cancellation type), or the error of adding it to the set. A wait
  // can end with the socket not ready after all: the caller tries again and waits again.
  template <class Token>
  auto wait(Socket& socket, Ready ready, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](Handler handler, Socket* s, Ready r) { start(*s, r, std::move(handler)); }, token, &socket, ready);
  }

  // Opens a socket for the target, binds it as the target asks and connects it: the
  // connected socket, or the failure ("connect refused", "cannot bind to …", "connect
  // cancelled" when cancelled). Waits without end: the caller bounds it by cancelling it.
  boost::asio::awaitable<std::variant<Socket, Result>> connect(const Target& target);

  // Sockets in the set.
  std::size_t watched() const;

 private:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
  void start(Socket& socket, Ready ready, Handler handler);
  std::shared_ptr<State> state_;
};

}  // namespace lvsd::check
