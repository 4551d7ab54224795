// lvsctl's side of the control socket: one request, one reply, blocking with a deadline; and
// the path rule both sides share.
#include "lvsd/control/client.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace lvsd::control {
namespace {

using Clock = std::chrono::steady_clock;
using Reply = boost::system::result<nlohmann::json, std::string>;

// The error side, explicitly: a json is constructible from a string too.
Reply failure(std::string text) { return Reply(boost::system::in_place_error, std::move(text)); }

// A reply larger than this is not one lvsd sends: the peer is something else.
constexpr std::size_t kMaxReply = 16 * 1024 * 1024;

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string connect_error(const std::string& path, int error) {
  if (error == EACCES || error == EPERM)
    return fmt::format("permission denied on {} (root only; see control_group in lvsd.toml(5))", path);
  if (error == ENOENT || error == ECONNREFUSED)
    return fmt::format("cannot connect to {}: {} (is lvsd running?)", path, std::strerror(error));
  return fmt::format("cannot connect to {}: {}", path, std::strerror(error));
}

// Waits for `events` on `fd` until `deadline`; false when the time ran out.
bool wait(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left) + 1);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // the read or write that follows says what failed
  }
}

}  // namespace

std::string vrrp_socket_path(std::string_view control_socket) {
  const std::filesystem::path path(control_socket);
  auto name = path.stem().string() + "-vrrp" + path.extension().string();
  return (path.parent_path() / name).string();
}

Reply request(const std::string& path, const nlohmann::json& request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto late = [&] {
    return failure(fmt::format("no reply from {} within {} ms", path, timeout.count()));
  };
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path)
    return failure(fmt::format("control socket path {} is longer than {} bytes", path, sizeof address.sun_path - 1));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const Descriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return failure(fmt::format("cannot make a socket: {}", std::strerror(errno)));
  // A unix socket connects at once, or says EAGAIN while the listener's backlog is full.
  while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EAGAIN && errno != EINTR) return failure(connect_error(path, errno));
    if (Clock::now() >= deadline) return late();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  const std::string line = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  // A server that refuses us answers and closes at once, maybe before our line is out: its
  // answer is still there to read, and says more than the broken pipe.
  std::string send_error;
  for (std::size_t sent = 0; sent < line.size() && send_error.empty();) {
    const auto n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN) {
      if (!wait(fd.get(), POLLOUT, deadline)) return late();
    } else if (errno != EINTR) {
      send_error = fmt::format("cannot send to {}: {}", path, std::strerror(errno));
    }
  }

  std::string reply;
  char buffer[65536];
  for (;;) {
    if (const auto end = reply.find('\n'); end != std::string::npos) {
      reply.resize(end);
      break;
    }
    if (reply.size() > kMaxReply) return failure(fmt::format("{} answered more than {} bytes in one line", path, kMaxReply));
    const auto n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      reply.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      if (!send_error.empty()) return failure(send_error);
      return failure(fmt::format("{} closed the connection without a reply", path));
    } else if (errno == EAGAIN) {
      if (!wait(fd.get(), POLLIN, deadline)) return late();
    } else if (errno != EINTR) {
      if (!send_error.empty()) return failure(send_error);
      return failure(fmt::format("cannot read from {}: {}", path, std::strerror(errno)));
    }
  }
  auto answer = nlohmann::json::parse(reply, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) return failure(fmt::format("{} answered something that is not a JSON object", path));
  if (const auto e = answer.find("error"); e != answer.end())
    return failure(e->is_string() ? e->get<std::string>() : e->dump());
  if (answer.value("ok", false) != true) return failure(fmt::format("{} answered neither \"ok\" nor an error", path));
  return Reply(boost::system::in_place_value, std::move(answer));
}

}  // namespace lvsd::control
