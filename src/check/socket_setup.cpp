// Address conversion, binding as a check asks, connect-failure words, and the epoll set the
// tcp and http checks' sockets wait on.
#include "socket_setup.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace lvsd::check {
namespace asio = boost::asio;
using boost::system::error_code;

boost::asio::ip::address to_asio(const model::IpAddress& a) {
  if (a.is_v4()) return boost::asio::ip::address_v4(a.v4_host_order());
  boost::asio::ip::address_v6::bytes_type b;
  std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
  return boost::asio::ip::address_v6(b);
}

std::string connect_failure(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  if (ec == error::connection_refused) return "connect refused";
  if (ec == error::host_unreachable) return "host unreachable";
  if (ec == error::network_unreachable) return "network unreachable";
  if (ec == error::connection_reset) return "connection reset";
  return "connect failed: " + ec.message();
}

std::optional<Result> bind_as_asked(int fd, const Target& target) {
  const auto last_error = [] { return boost::system::error_code(errno, boost::system::system_category()).message(); };
  if (!target.bind_interface.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, target.bind_interface.c_str(),
                   static_cast<socklen_t>(target.bind_interface.size())) != 0)
    return failure("cannot bind to interface " + target.bind_interface + ": " + last_error());
  if (target.bind_address) {
    // Port 0: any; the endpoint type only lays out the sockaddr.
    const boost::asio::ip::udp::endpoint source(to_asio(*target.bind_address), 0);
    if (::bind(fd, source.data(), static_cast<socklen_t>(source.size())) != 0)
      return failure("cannot bind to " + target.bind_address->to_string() + ": " + last_error());
  }
  return std::nullopt;
}

namespace {

error_code last_error() { return {errno, boost::system::system_category()}; }

}  // namespace

struct SocketWaits::State : std::enable_shared_from_this<State> {
  // A socket in the set, under the key its events carry (a descriptor number may be reused
  // by the time an event for its old socket is read).
  struct Entry {
    std::uint32_t seen = 0;  // events collected and not yet taken by a wait
    std::uint32_t want = 0;  // what the wait under way waits for
    Handler handler;         // the wait under way, if any
  };

  explicit State(asio::any_io_executor e) : executor(std::move(e)) { open(); }

  // The epoll set: made with the object, or at a connect if it could not be then.
  std::optional<Result> open() {
    if (closed) return failure("cannot wait on a closed epoll set");
    if (epoll) return std::nullopt;
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return failure("cannot make an epoll set: " + last_error().message());
    error_code ec;
    epoll.emplace(executor).assign(fd, ec);
    if (ec) {
      epoll.reset();
      ::close(fd);
      return failure("cannot watch an epoll set: " + ec.message());
    }
    return std::nullopt;
  }

  void close() {
    if (closed) return;
    closed = true;
    epoll.reset();  // (the descriptor object too: the set may outlive the io_context)
    // Taken out first: destroying a wait destroys a frame, whose socket then finds nothing.
    auto gone = std::move(entries);
    entries.clear();
    ready.clear();
    for (auto& [key, entry] : gone)
      if (entry.handler) entry.handler.get_cancellation_slot().clear();
  }

  void start(Socket& socket, std::uint32_t want, Handler handler) {
    if (closed || !epoll) throw std::logic_error("a wait on a closed epoll set");
    if (socket.key_ == 0) {
      // Edge-triggered, both ways, for as long as the socket is open: one epoll_ctl per socket.
      ::epoll_event event{};
      event.events = EPOLLIN | EPOLLOUT | EPOLLET;
      event.data.u64 = next_key;
      if (::epoll_ctl(epoll->native_handle(), EPOLL_CTL_ADD, socket.fd_, &event) != 0) {
        later(std::move(handler), last_error());
        return;
      }
      socket.key_ = next_key++;
      entries.emplace(socket.key_, Entry{});
    }
    Entry& entry = entries.at(socket.key_);
    entry.want = want;
    // An edge collected while nobody waited for it: over already.
    if (over(entry)) {
      entry.seen &= ~want;
      later(std::move(handler), {});
      return;
    }
    auto slot = handler.get_cancellation_slot();
    entry.handler.swap(handler);  // (Asio 1.81's move assignment of a handler crashes: swapped)
    if (slot.is_connected())
      slot.assign([state = weak_from_this(), key = socket.key_](asio::cancellation_type) {
        if (auto s = state.lock()) s->cancel(key);
      });
    watch();
  }

  void cancel(std::uint64_t key) {
    auto it = entries.find(key);
    if (it == entries.end() || !it->second.handler) return;  // ended already
    // The slot still holds this function, which is running: it stays, and finds nothing
    // if called again.
    later(std::move(it->second.handler), asio::error::operation_aborted);
  }

  // Completes a wait from the loop, outside the function that ends it.
  void later(Handler handler, error_code ec) {
    asio::post(executor, [handler = std::move(handler), ec]() mutable { std::move(handler)(ec); });
  }

  // One wait on the epoll descriptor while sockets are in the set and no turn is posted
  // (none while the set is empty: it would keep the io_context running).
  void watch() {
    if (watching || cut_at || closed || entries.empty() || !epoll) return;
    watching = true;
    epoll->async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](const error_code& ec) {
      self->watching = false;
      if (self->closed) return;
      if (!ec) self->turn();
      else self->watch();  // cancelled when the set emptied: a socket may have come since
    });
  }

  // One turn: the sockets whose wait is over are resumed one by one, those left from the
  // turn before first, then those that epoll_wait finds, kBatch at a time. Ends when none is
  // left, or when its time is up: the next turn is then posted, to run after the loop has
  // looked at its timers.
  void turn() {
    const auto began = Clock::now();
    const auto budget = cut_at ? std::max<Clock::duration>(kMinTurn, began - *cut_at) : Clock::duration(kMinTurn);
    cut_at.reset();
    for (bool drained = false;;) {
      while (!ready.empty()) {
        // Looked up again: what a resumed check did (a cancellation, closing a socket) may
        // have ended a wait that was over.
        auto it = entries.find(ready.front());
        ready.pop_front();
        if (it == entries.end() || !it->second.handler || !over(it->second)) continue;
        Entry& entry = it->second;
        entry.seen &= ~entry.want;
        entry.handler.get_cancellation_slot().clear();
        Handler handler;
        handler.swap(entry.handler);
        std::move(handler)(error_code());  // in the loop's thread already: as dispatch() would
        if (closed) return;                // a resumed check ended the set's owner
        if (const auto now = Clock::now(); now - began >= budget && (!ready.empty() || !drained)) {
          cut_at = now;
          asio::post(executor, [self = shared_from_this()] {
            if (!self->closed) self->turn();
          });
          return;
        }
      }
      if (drained) break;
      std::array<::epoll_event, kBatch> events;
      int n = 0;
      do n = ::epoll_wait(epoll->native_handle(), events.data(), static_cast<int>(events.size()), 0);
      while (n < 0 && errno == EINTR);
      for (int i = 0; i < n; ++i) {
        const auto& event = events[static_cast<std::size_t>(i)];
        auto it = entries.find(event.data.u64);
        if (it == entries.end()) continue;
        it->second.seen |= event.events;
        if (it->second.handler && over(it->second)) ready.push_back(it->first);
      }
      drained = n < static_cast<int>(kBatch);
    }
    watch();
  }

  // Whether what the entry's wait waits for has come.
  static bool over(const Entry& entry) { return (entry.seen & (entry.want | EPOLLERR | EPOLLHUP)) != 0; }

  asio::any_io_executor executor;
  std::optional<asio::posix::stream_descriptor> epoll;
  std::unordered_map<std::uint64_t, Entry> entries;
  std::deque<std::uint64_t> ready;  // entries whose wait is over, to be resumed in turn
  std::uint64_t next_key = 1;
  bool watching = false;
  std::optional<Clock::time_point> cut_at;  // a turn ended with sockets left, then: the next is posted
  bool closed = false;
};

SocketWaits::Socket::~Socket() { close(); }

SocketWaits::Socket::Socket(Socket&& other) noexcept
    : state_(std::move(other.state_)), fd_(std::exchange(other.fd_, -1)), key_(std::exchange(other.key_, 0)) {}

SocketWaits::Socket& SocketWaits::Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
    fd_ = std::exchange(other.fd_, -1);
    key_ = std::exchange(other.key_, 0);
  }
  return *this;
}

void SocketWaits::Socket::close() {
  if (fd_ < 0) return;
  if (key_ != 0 && state_ && !state_->closed) {
    state_->entries.erase(key_);
    // Nothing left to wait for: the wait on the set would keep the io_context running.
    if (state_->entries.empty() && state_->epoll) {
      error_code ignored;
      state_->epoll->cancel(ignored);
    }
  }
  ::close(fd_);  // (which takes it out of the set)
  fd_ = -1;
  key_ = 0;
  state_.reset();
}

void SocketWaits::Socket::reset() {
  if (fd_ < 0) return;
  const ::linger reset{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close();
}

SocketWaits::SocketWaits(asio::any_io_executor executor) : state_(std::make_shared<State>(std::move(executor))) {}

SocketWaits::~SocketWaits() { state_->close(); }

void SocketWaits::close() { state_->close(); }

std::size_t SocketWaits::watched() const { return state_->entries.size(); }

void SocketWaits::start(Socket& socket, Ready ready, Handler handler) {
  state_->start(socket, ready == Ready::Read ? EPOLLIN : EPOLLOUT, std::move(handler));
}

asio::awaitable<std::variant<SocketWaits::Socket, Result>> SocketWaits::connect(const Target& target) {
  // The state stays while this connect runs, whatever becomes of this object.
  const auto state = state_;
  if (auto refused = state->open()) co_return *refused;
  const auto peer = to_asio(target.endpoint);
  Socket socket;
  socket.fd_ = ::socket(peer.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (socket.fd_ < 0) co_return failure("cannot open a socket: " + last_error().message());
  socket.state_ = state;
  if (auto refused = bind_as_asked(socket.fd_, target)) co_return *refused;
  if (::connect(socket.fd_, peer.data(), static_cast<socklen_t>(peer.size())) == 0) co_return std::move(socket);
  if (errno != EINPROGRESS) co_return failure(connect_failure(last_error()));
  const auto [ec] = co_await wait(socket, Ready::Write, asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) co_return failure("connect cancelled");  // attempt() says timeout
  if (ec) co_return failure(connect_failure(ec));
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(socket.fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) co_return failure(connect_failure(error_code(error, boost::system::system_category())));
  co_return std::move(socket);
}

namespace {

// Where an io_context keeps its shared set, as an Asio service: the io_context's shutdown
// closes the set, its waits destroyed as the io_context destroys its own.
class SharedWaits final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit SharedWaits(asio::execution_context& context) : service(context) {}
  std::shared_ptr<SocketWaits> get(const asio::any_io_executor& executor) {
    if (auto held = waits_.lock()) return held;
    auto made = std::make_shared<SocketWaits>(executor);
    waits_ = made;
    return made;
  }

 private:
  void shutdown() override {
    if (auto held = waits_.lock()) held->close();
  }
  std::weak_ptr<SocketWaits> waits_;
};

}  // namespace

std::shared_ptr<SocketWaits> SocketWaits::shared(const asio::any_io_executor& executor) {
  auto& context = asio::query(executor, asio::execution::context_as<asio::execution_context&>);
  return asio::use_service<SharedWaits>(context).get(executor);
}

}  // namespace lvsd::check
