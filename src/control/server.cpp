// The control socket's server: the socket file (its directory, mode, owner, a stale one
// replaced), the peer check, and the line protocol on Boost.Asio coroutines.
#include "lvsd/control/server.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace lvsd::control {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Protocol = asio::local::stream_protocol;
using nlohmann::json;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string errno_text(int error) { return std::strerror(error); }

json error_reply(std::string text) { return json{{"error", std::move(text)}}; }

// The directories above `path` that are missing, made 0755 (whatever the umask): the socket's
// own mode keeps others out, the directory only has to be reachable.
std::optional<std::string> make_parents(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> missing;
  for (auto dir = path.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) break;
    missing.push_back(dir);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
      return fmt::format("cannot make directory {}: {}", it->string(), errno_text(errno));
    if (::chmod(it->c_str(), 0755) != 0)
      return fmt::format("cannot set the mode of {}: {}", it->string(), errno_text(errno));
  }
  return std::nullopt;
}

// Whether something accepts connections on the socket at `path`: another server (true), a
// stale file (false), or a question that cannot be answered (the error).
boost::system::result<bool, std::string> accepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fmt::format("cannot make a socket: {}", errno_text(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int error = errno;
  ::close(fd);
  // EAGAIN: a listener whose backlog is full is still a listener.
  if (rc == 0 || error == EAGAIN) return true;
  if (error == ECONNREFUSED) return false;
  return fmt::format("cannot check whether {} is in use: {}", path, errno_text(error));
}

boost::system::result<gid_t, std::string> group_id(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  const int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) return fmt::format("cannot look up control group \"{}\": {}", name, errno_text(rc));
  if (!found) return fmt::format("unknown control group \"{}\" (control_group in lvsd.toml(5))", name);
  return found->gr_gid;
}

// Whether `uid` is a member of `gid` as the user database says (its primary group or a
// supplementary one): what the peer's process was started with does not count.
bool member(uid_t uid, gid_t gid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) return false;
  if (found->pw_gid == gid) return true;
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count));
    if (::getgrouplist(found->pw_name, found->pw_gid, groups.data(), &count) < 0) return false;
  }
  groups.resize(static_cast<std::size_t>(count));
  return std::find(groups.begin(), groups.end(), gid) != groups.end();
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  struct Connection {
    explicit Connection(Protocol::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    Protocol::socket socket;
    asio::steady_timer timer;
  };

  Impl(asio::any_io_executor ex, ServerOptions opts) : executor(ex), options(std::move(opts)), acceptor(ex) {}

  asio::any_io_executor executor;
  ServerOptions options;
  std::optional<gid_t> gid;
  Protocol::acceptor acceptor;
  std::map<std::string, Handler> handlers;
  ServerCounters counters;
  std::map<std::uint64_t, std::weak_ptr<Connection>> live;
  std::uint64_t next_id = 0;
  dev_t device = 0;  // of the socket file we made: removed only while it is still that one
  ino_t inode = 0;
  bool stopped = false;

  std::optional<std::string> bind() {
    const std::string& path = options.path;
    if (path.empty() || path.front() != '/') return fmt::format("control socket \"{}\" is not an absolute path", path);
    if (path.size() >= sizeof(sockaddr_un::sun_path))
      return fmt::format("control socket path {} is longer than {} bytes", path, sizeof(sockaddr_un::sun_path) - 1);
    if (!options.group.empty()) {
      auto g = group_id(options.group);
      if (!g) return g.error();
      gid = *g;
    }
    if (auto e = make_parents(path)) return e;
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return fmt::format("{} exists and is not a socket; not touching it", path);
      auto busy = accepts(path);
      if (!busy) return busy.error();
      if (*busy) return fmt::format("another lvsd serves {}", path);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fmt::format("cannot remove the stale socket {}: {}", path, errno_text(errno));
    } else if (errno != ENOENT) {
      return fmt::format("cannot check {}: {}", path, errno_text(errno));
    }

    boost::system::error_code ec;
    acceptor.open(Protocol(), ec);
    if (!ec) acceptor.bind(Protocol::endpoint(path), ec);
    if (ec) return fmt::format("cannot bind {}: {}", path, ec.message());
    // Mode and owner before listen(): until then a connect is refused, so nobody slips in
    // under the umask's mode.
    const auto fail = [&](std::string what) {
      const int error = errno;
      ::unlink(path.c_str());
      return fmt::format("cannot {} {}: {}", what, path, errno_text(error));
    };
    if (gid && ::chown(path.c_str(), 0, *gid) != 0) return fail("give the control group");
    if (::chmod(path.c_str(), gid ? 0660 : 0600) != 0) return fail("set the mode of");
    if (::lstat(path.c_str(), &st) != 0) return fail("check");
    device = st.st_dev;
    inode = st.st_ino;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      ::unlink(path.c_str());
      return fmt::format("cannot listen on {}: {}", path, ec.message());
    }
    return std::nullopt;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& [id, weak] : live)
      if (const auto c = weak.lock()) {
        c->timer.cancel();
        c->socket.close(ignored);
      }
    live.clear();
    struct stat st{};
    if (::lstat(options.path.c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode)
      ::unlink(options.path.c_str());
  }

  // Why the peer may not use the socket, if it may not: root always may; anyone else only as
  // a member of the control group.
  std::optional<std::string> refusal(int fd) const {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0)
      return fmt::format("permission denied: cannot tell who is calling ({})", errno_text(errno));
    if (peer.uid == 0) return std::nullopt;
    if (!gid) return fmt::format("permission denied: uid {} is not root (root only; see control_group in lvsd.toml(5))", peer.uid);
    if (member(peer.uid, *gid)) return std::nullopt;
    return fmt::format("permission denied: uid {} is neither root nor a member of group {}", peer.uid, options.group);
  }

  json answer(std::string_view line) {
    ++counters.requests;
    json request = json::parse(line, nullptr, false);
    if (request.is_discarded()) {
      ++counters.not_json;
      return error_reply(R"(not JSON: send one object per line, such as {"command":"status"})");
    }
    if (!request.is_object()) {
      ++counters.not_object;
      return error_reply(R"(not a JSON object: send one object per line, such as {"command":"status"})");
    }
    const auto command = request.find("command");
    if (command == request.end() || !command->is_string()) {
      ++counters.no_command;
      return error_reply(R"(no "command" (a string) in the request)");
    }
    const auto& name = command->get_ref<const std::string&>();
    const auto handler = handlers.find(name);
    if (handler == handlers.end()) {
      ++counters.unknown_command;
      std::string known;
      for (const auto& [n, h] : handlers) known += (known.empty() ? "" : ", ") + n;
      return error_reply(fmt::format("unknown command \"{}\" (known: {})", name, known));
    }
    json reply;
    try {
      reply = handler->second(request);
    } catch (const std::exception& e) {
      ++counters.handler_errors;
      return error_reply(fmt::format("{} failed: {}", name, e.what()));
    }
    if (!reply.is_object()) {
      ++counters.handler_errors;
      return error_reply(fmt::format("{} failed: its answer is not an object", name));
    }
    reply["ok"] = true;
    ++counters.answered;
    return reply;
  }

  // One line to the peer, given at most idle_timeout; false when it could not be written.
  asio::awaitable<bool> send(Connection& c, const json& reply) {
    // Strings from the kernel or the config may hold bytes that are not UTF-8: replaced,
    // never a throw.
    const std::string text = reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    c.timer.expires_after(options.idle_timeout);
    const auto done = co_await (asio::async_write(c.socket, asio::buffer(text), kAwait) || c.timer.async_wait(kAwait));
    co_return done.index() == 0 && !std::get<0>(std::get<0>(done));
  }

  asio::awaitable<void> serve(std::shared_ptr<Connection> c) {
    const auto self = shared_from_this();  // the connection may outlive the Server
    const std::uint64_t id = next_id++;
    if (live.size() >= options.max_connections) {
      ++counters.too_many;
      co_await send(*c, error_reply(fmt::format("too many connections (at most {}); try again", options.max_connections)));
      co_return;
    }
    if (const auto why = refusal(c->socket.native_handle())) {
      ++counters.refused_peers;
      co_await send(*c, error_reply(*why));
      co_return;
    }
    live.emplace(id, c);
    ++counters.connections;
    std::string buffer;
    while (!stopped) {
      c->timer.expires_after(options.idle_timeout);
      const auto got = co_await (asio::async_read_until(c->socket, asio::dynamic_buffer(buffer, options.max_line), '\n', kAwait) ||
                                 c->timer.async_wait(kAwait));
      if (stopped) break;
      if (got.index() == 1) {
        if (std::get<0>(std::get<1>(got))) break;  // cancelled: stopping
        ++counters.idle;
        co_await send(*c, error_reply(fmt::format("idle for {} ms; closing", options.idle_timeout.count())));
        break;
      }
      const auto [ec, n] = std::get<0>(got);
      if (ec == asio::error::not_found) {
        ++counters.too_long;
        co_await send(*c, error_reply(fmt::format("request longer than {} bytes; closing", options.max_line)));
        break;
      }
      if (ec) break;  // the peer left
      std::string_view line(buffer.data(), n - 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const json reply = answer(line);
      buffer.erase(0, n);
      if (stopped || !co_await send(*c, reply)) break;
    }
    live.erase(id);
  }

  asio::awaitable<void> accept_loop() {
    const auto self = shared_from_this();
    asio::steady_timer pause(executor);
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (stopped) break;
      if (ec) {
        // Out of descriptors, most likely: the listener stays, and tries again shortly.
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(kAwait);
        continue;
      }
      spawn(serve(std::make_shared<Connection>(std::move(socket))));
    }
  }

  void spawn(asio::awaitable<void> task) {
    // The coroutines take their failures as values; anything thrown is a bug, and leaves
    // io_context::run() rather than vanishing.
    asio::co_spawn(executor, std::move(task), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
};

boost::system::result<std::unique_ptr<Server>, std::string> Server::open(asio::any_io_executor executor,
                                                                         ServerOptions options) {
  auto impl = std::make_shared<Impl>(std::move(executor), std::move(options));
  if (auto error = impl->bind()) return *error;
  impl->spawn(impl->accept_loop());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { impl_->stop(); }

void Server::handle(const std::string& command, Handler handler) { impl_->handlers[command] = std::move(handler); }
void Server::stop() { impl_->stop(); }
const std::string& Server::path() const { return impl_->options.path; }
const ServerOptions& Server::options() const { return impl_->options; }
const ServerCounters& Server::counters() const { return impl_->counters; }

}  // namespace lvsd::control
