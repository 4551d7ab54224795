// A TCP connect: up when the handshake completes.
#include "lvsd/check/tcp_prober.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "socket_setup.hpp"

namespace lvsd::check {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code last_error() { return {errno, boost::system::system_category()}; }

// Closes a connected socket with a reset, as HAProxy closes its checks: no FIN exchange,
// and no TIME_WAIT entry per check (10,000 checks a second would keep 600,000 of them).
void reset_and_close(int fd) {
  const ::linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
}

// A socket until a waiter takes it: closed if the connect ends before (a failure, or the
// cancellation Asio throws at a co_await once the check is cancelled).
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

struct TcpConnector::State : std::enable_shared_from_this<State> {
  using Handler = asio::any_completion_handler<void(error_code)>;
  // A connect under way: its socket, in `epoll` with its key as the event's data.
  struct Waiter {
    int fd;
    Handler handler;
  };

  explicit State(asio::any_io_executor executor) : epoll(std::move(executor)) { open(); }

  // The epoll set: made with the connector, or at a connect if it could not be then.
  std::optional<Result> open() {
    if (epoll.is_open() || closed) return std::nullopt;
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return failure("cannot make an epoll set: " + last_error().message());
    error_code ec;
    epoll.assign(fd, ec);
    if (ec) {
      ::close(fd);
      return failure("cannot watch an epoll set: " + ec.message());
    }
    return std::nullopt;
  }

  // Closes every socket; the suspended connects are destroyed, not resumed.
  void close() {
    closed = true;
    error_code ignored;
    epoll.close(ignored);
    for (auto& [key, w] : waiters) {
      w.handler.get_cancellation_slot().clear();
      ::close(w.fd);
    }
    waiters.clear();
  }

  // Waits for the connect of `fd` (under way) to end; completes with its error, none if
  // connected, or operation_aborted when cancelled. Takes the socket when the wait starts,
  // and closes it either way.
  template <class Token>
  auto wait(OwnedFd& fd, Token&& token) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](Handler handler, OwnedFd* socket) { start(socket->release(), std::move(handler)); }, token, &fd);
  }

  void start(int fd, Handler handler) {
    const std::uint64_t key = next_key++;
    ::epoll_event event{};
    event.events = EPOLLOUT | EPOLLONESHOT;
    event.data.u64 = key;
    if (::epoll_ctl(epoll.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
      const error_code ec = last_error();
      ::close(fd);
      later(std::move(handler), ec);
      return;
    }
    auto slot = handler.get_cancellation_slot();
    waiters.emplace(key, Waiter{fd, std::move(handler)});
    if (slot.is_connected())
      slot.assign([state = weak_from_this(), key](asio::cancellation_type) {
        if (auto s = state.lock()) s->cancel(key);
      });
    watch();
  }

  // Cancelled (the check's timeout): the socket is closed, which takes it out of `epoll`.
  void cancel(std::uint64_t key) {
    auto it = waiters.find(key);
    if (it == waiters.end()) return;  // already ended
    ::close(it->second.fd);
    Handler handler = std::move(it->second.handler);
    waiters.erase(it);
    // The slot still holds this function, which is running: it stays, and finds nothing
    // if called again.
    later(std::move(handler), asio::error::operation_aborted);
    // The last one: the wait on `epoll` would keep the io_context running for nothing.
    if (waiters.empty()) {
      error_code ignored;
      epoll.cancel(ignored);
    }
  }

  // Completes a connect from the loop, outside the function that ends it.
  void later(Handler handler, error_code ec) {
    asio::post(epoll.get_executor(), [handler = std::move(handler), ec]() mutable { std::move(handler)(ec); });
  }

  // One wait on the epoll descriptor while connects are under way.
  void watch() {
    if (watching || waiters.empty()) return;
    watching = true;
    epoll.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](const error_code& ec) {
      self->watching = false;
      if (self->closed) return;  // the connector is gone
      if (!ec) self->collect();
      self->watch();  // (cancelled when none was left: one may have started since)
    });
  }

  // Every connect that has ended: taken out first (slots cleared), then resumed, so that
  // what a resumed check does (a cancellation, a new connect) cannot touch one of them.
  void collect() {
    std::array<::epoll_event, 128> events;
    std::vector<std::pair<Waiter, error_code>> ended;
    for (;;) {
      const int n = ::epoll_wait(epoll.native_handle(), events.data(), static_cast<int>(events.size()), 0);
      if (n < 0 && errno == EINTR) continue;
      for (int i = 0; i < n; ++i) {
        auto it = waiters.find(events[static_cast<std::size_t>(i)].data.u64);
        if (it == waiters.end()) continue;
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(it->second.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error == 0) reset_and_close(it->second.fd);
        else ::close(it->second.fd);
        it->second.handler.get_cancellation_slot().clear();
        ended.emplace_back(std::move(it->second), error_code(error, boost::system::system_category()));
        waiters.erase(it);
      }
      if (n < static_cast<int>(events.size())) break;
    }
    // In the loop's thread already: resumed here, as dispatch() would.
    for (auto& [w, ec] : ended) std::move(w.handler)(ec);
  }

  asio::posix::stream_descriptor epoll;
  std::unordered_map<std::uint64_t, Waiter> waiters;
  std::uint64_t next_key = 0;
  bool watching = false;
  bool closed = false;  // the connector is gone
};

TcpConnector::TcpConnector(asio::any_io_executor executor) : state_(std::make_shared<State>(std::move(executor))) {}

TcpConnector::~TcpConnector() { state_->close(); }

std::size_t TcpConnector::pending() const { return state_->waiters.size(); }

asio::awaitable<Result> TcpConnector::connect(const Target& target) {
  if (auto refused = state_->open()) co_return *refused;
  const auto peer = to_asio(target.endpoint);
  OwnedFd socket(::socket(peer.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) co_return failure("cannot open a socket: " + last_error().message());
  if (auto refused = bind_as_asked(socket.get(), target)) co_return *refused;
  if (::connect(socket.get(), peer.data(), static_cast<socklen_t>(peer.size())) == 0) {
    reset_and_close(socket.release());
    co_return success("connected");
  }
  if (errno != EINPROGRESS) co_return failure(connect_failure(last_error()));
  // The state stays while this connect waits, whatever becomes of the connector.
  const auto state = state_;
  const auto [ec] = co_await state->wait(socket, asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) co_return failure("connect cancelled");  // attempt() says timeout
  if (ec) co_return failure(connect_failure(ec));
  co_return success("connected");
}

asio::awaitable<Result> TcpProber::probe(const Target& target) { return connector_.connect(target); }

}  // namespace lvsd::check
