// The control socket over real unix sockets in a temporary directory: the line protocol, each
// kind of bad input, the socket file's life (stale, live, not a socket, mode, group, removal)
// and the peer check, with a child process that drops to nobody.
#include "lvsd/control/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lvsd/control/client.hpp"
#include "support/loop.hpp"

namespace lvsd::control {
namespace {
namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

using Reply = boost::system::result<json, std::string>;

struct TempDir {
  TempDir() {
    char name[] = "/tmp/lvsd-control-XXXXXX";
    dir = ::mkdtemp(name);
    ::chmod(dir.c_str(), 0755);  // nobody must reach the socket in the peer tests
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string dir;
};

// A client that speaks bytes, for what request() never sends; its reads run the server's loop.
class Raw {
 public:
  Raw(asio::io_context& io, const std::string& path) : io_(io) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // The next line (without its newline), or nullopt at the end of the stream or after `limit`.
  std::optional<std::string> line(std::chrono::steady_clock::duration limit = 3s) {
    bool closed = false;
    lvsd::testing::run_until(io_, [&] {
      if (buffer_.find('\n') != std::string::npos) return true;
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
      closed = n == 0;
      return closed;
    }, limit);
    const auto end = buffer_.find('\n');
    if (end == std::string::npos) return std::nullopt;
    std::string out = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    return out;
  }
  // True when the server closed the connection within `limit` (nothing more to read).
  bool closed(std::chrono::steady_clock::duration limit = 3s) {
    return lvsd::testing::run_until(io_, [&] {
      char chunk[4096];
      const auto n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) buffer_.append(chunk, static_cast<std::size_t>(n));
      return n == 0;
    }, limit);
  }

 private:
  asio::io_context& io_;
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class ControlServer : public ::testing::Test {
 protected:
  std::string path() const { return temp_.dir + "/lvsd-vrrp.sock"; }

  std::unique_ptr<Server> open(ServerOptions options) {
    auto server = Server::open(io_.get_executor(), std::move(options));
    if (!server) {
      ADD_FAILURE() << server.error();
      return nullptr;
    }
    (*server)->handle("status", [this](const json&) {
      ++calls_;
      return json{{"instances", json::array({"VI_1"})}};
    });
    return std::move(*server);
  }
  std::unique_ptr<Server> open() { return open(ServerOptions{.path = path()}); }

  // request() blocks: it runs on a thread of its own while this one runs the server.
  Reply ask(const json& request) {
    std::optional<Reply> reply;
    std::atomic<bool> done = false;
    std::thread client([&] {
      reply.emplace(control::request(path(), request, 3s));
      done = true;
    });
    lvsd::testing::run_until(io_, [&] { return done.load(); }, 5s);
    client.join();
    return *reply;
  }

  // request() from a child process as `uid` with `gid` and the supplementary `groups`; its
  // answer ("ok" or the error) comes back through a pipe.
  std::string ask_as(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return "no pipe";
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(pipe_fds[0]);
      std::string out;
      if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
        out = "cannot drop privileges";
      } else {
        auto reply = control::request(path(), json{{"command", "status"}}, 3s);
        out = reply ? "ok" : reply.error();
      }
      (void)!::write(pipe_fds[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(pipe_fds[1]);
    int status = 0;
    lvsd::testing::run_until(io_, [&] { return ::waitpid(child, &status, WNOHANG) == child; }, 5s);
    std::string out(4096, '\0');
    const auto n = ::read(pipe_fds[0], out.data(), out.size());
    ::close(pipe_fds[0]);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }

  TempDir temp_;
  asio::io_context io_;
  int calls_ = 0;
};

TEST(SocketPath, TheVrrpProcessSocketSitsBesideTheControlSocket) {
  EXPECT_EQ(vrrp_socket_path("/run/lvsd/lvsd.sock"), "/run/lvsd/lvsd-vrrp.sock");
  EXPECT_EQ(vrrp_socket_path("/run/lvsd/control"), "/run/lvsd/control-vrrp");
  EXPECT_EQ(vrrp_socket_path("/var/run/a.b/ctl.v1.sock"), "/var/run/a.b/ctl.v1-vrrp.sock");
}

TEST_F(ControlServer, AnswersStatus) {
  auto server = open();
  ASSERT_TRUE(server);
  const auto reply = ask(json{{"command", "status"}});
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(*reply, (json{{"instances", json::array({"VI_1"})}, {"ok", true}}));
  EXPECT_EQ(server->counters().answered, 1u);
  EXPECT_EQ(server->counters().connections, 1u);
}

TEST_F(ControlServer, AnswersSeveralRequestsOnOneConnection) {
  auto server = open();
  ASSERT_TRUE(server);
  Raw raw(io_, path());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.send("{\"command\":\"status\"}\n{\"command\":\"status\"}\r\n"));
  EXPECT_EQ(raw.line(), R"({"instances":["VI_1"],"ok":true})");
  EXPECT_EQ(raw.line(), R"({"instances":["VI_1"],"ok":true})");
  ASSERT_TRUE(raw.send("{\"command\":\"status\"}\n"));
  EXPECT_EQ(raw.line(), R"({"instances":["VI_1"],"ok":true})");
  EXPECT_EQ(calls_, 3);
  EXPECT_EQ(server->counters().connections, 1u);
}

struct BadLine {
  std::string line;
  std::string error;
  std::uint64_t ServerCounters::*counter;
};

class BadRequests : public ControlServer, public ::testing::WithParamInterface<BadLine> {};

TEST_P(BadRequests, AreAnsweredWithAnErrorAndTheConnectionGoesOn) {
  auto server = open();
  ASSERT_TRUE(server);
  Raw raw(io_, path());
  ASSERT_TRUE(raw.send(GetParam().line + "\n"));
  EXPECT_EQ(raw.line(), json({{"error", GetParam().error}}).dump());
  EXPECT_EQ(server->counters().*GetParam().counter, 1u);
  EXPECT_EQ(server->counters().answered, 0u);
  EXPECT_EQ(calls_, 0);
  ASSERT_TRUE(raw.send("{\"command\":\"status\"}\n"));
  EXPECT_EQ(raw.line(), R"({"instances":["VI_1"],"ok":true})");
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, BadRequests,
    ::testing::Values(
        BadLine{"status please", R"(not JSON: send one object per line, such as {"command":"status"})",
                &ServerCounters::not_json},
        BadLine{"", R"(not JSON: send one object per line, such as {"command":"status"})", &ServerCounters::not_json},
        BadLine{R"(["status"])", R"(not a JSON object: send one object per line, such as {"command":"status"})",
                &ServerCounters::not_object},
        BadLine{R"({"cmd":"status"})", R"(no "command" (a string) in the request)", &ServerCounters::no_command},
        BadLine{R"({"command":7})", R"(no "command" (a string) in the request)", &ServerCounters::no_command},
        BadLine{R"({"command":"drain"})", R"(unknown command "drain" (known: status))",
                &ServerCounters::unknown_command}));

TEST_F(ControlServer, AHandlerThatThrowsIsAnsweredWithItsMessage) {
  auto server = open();
  ASSERT_TRUE(server);
  server->handle("boom", [](const json&) -> json { throw std::runtime_error("no node yet"); });
  const auto reply = ask(json{{"command", "boom"}});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "boom failed: no node yet");
  EXPECT_EQ(server->counters().handler_errors, 1u);
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

TEST_F(ControlServer, ALineOverTheLimitClosesTheConnection) {
  auto server = open();
  ASSERT_TRUE(server);
  Raw raw(io_, path());
  ASSERT_TRUE(raw.send(std::string(70'000, 'x')));
  EXPECT_EQ(raw.line(), R"({"error":"request longer than 65536 bytes; closing"})");
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(server->counters().too_long, 1u);
  EXPECT_EQ(server->counters().requests, 0u);
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

TEST_F(ControlServer, AnIdleClientIsToldAndClosed) {
  auto server = open(ServerOptions{.path = path(), .idle_timeout = 300ms});
  ASSERT_TRUE(server);
  const auto start = std::chrono::steady_clock::now();
  Raw raw(io_, path());
  EXPECT_EQ(raw.line(), R"({"error":"idle for 300 ms; closing"})");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_TRUE(raw.closed());
  EXPECT_EQ(server->counters().idle, 1u);
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

TEST_F(ControlServer, OneConnectionOverTheLimitIsToldAndClosed) {
  auto server = open(ServerOptions{.path = path(), .max_connections = 2});
  ASSERT_TRUE(server);
  auto first = std::make_unique<Raw>(io_, path());
  Raw second(io_, path());
  ASSERT_TRUE(lvsd::testing::run_until(io_, [&] { return server->counters().connections == 2; }, 3s));
  Raw third(io_, path());
  EXPECT_EQ(third.line(), R"({"error":"too many connections (at most 2); try again"})");
  EXPECT_TRUE(third.closed());
  EXPECT_EQ(server->counters().too_many, 1u);
  ASSERT_TRUE(second.send("{\"command\":\"status\"}\n"));
  EXPECT_EQ(second.line(), R"({"instances":["VI_1"],"ok":true})");
  first.reset();  // a place frees up once the server sees it leave
  ASSERT_TRUE(lvsd::testing::run_until(io_, [&] { return ask(json{{"command", "status"}}).has_value(); }, 3s));
}

TEST_F(ControlServer, MakesItsDirectoryAndTheSocketIsRootsOnly) {
  const std::string nested = temp_.dir + "/run/lvsd/lvsd-vrrp.sock";
  auto server = open(ServerOptions{.path = nested});
  ASSERT_TRUE(server);
  struct stat st{};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::stat((temp_.dir + "/run/lvsd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((temp_.dir + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(ControlServer, AControlGroupOwnsTheSocketWithMode0660) {
  auto server = open(ServerOptions{.path = path(), .group = "adm"});
  ASSERT_TRUE(server);
  struct stat st{};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, ::getgrnam("adm")->gr_gid);
}

TEST_F(ControlServer, AnUnknownGroupIsAnErrorAndLeavesNoSocket) {
  auto server = Server::open(io_.get_executor(), ServerOptions{.path = path(), .group = "no-such-group-lvsd"});
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error(), "unknown control group \"no-such-group-lvsd\" (control_group in lvsd.toml(5))");
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(ControlServer, AStaleSocketIsReplaced) {
  {
    // Bound, never listening, closed: what a killed process leaves.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path().c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path()));
  auto server = open();
  ASSERT_TRUE(server);
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

TEST_F(ControlServer, ALiveSocketIsNotStolen) {
  auto first = open();
  ASSERT_TRUE(first);
  auto second = Server::open(io_.get_executor(), ServerOptions{.path = path()});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "another lvsd serves " + path());
  EXPECT_TRUE(ask(json{{"command", "status"}}));
  EXPECT_EQ(first->counters().answered, 1u);
}

TEST_F(ControlServer, AFileThatIsNotASocketIsNotTouched) {
  std::ofstream(path()) << "precious\n";
  auto server = Server::open(io_.get_executor(), ServerOptions{.path = path()});
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error(), path() + " exists and is not a socket; not touching it");
  std::ifstream in(path());
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlServer, TheSocketIsRemovedAtStopAndAtItsEnd) {
  auto server = open();
  ASSERT_TRUE(server);
  ASSERT_TRUE(std::filesystem::is_socket(path()));
  server->stop();
  EXPECT_FALSE(std::filesystem::exists(path()));
  const auto reply = ask(json{{"command", "status"}});
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "cannot connect to " + path() + ": No such file or directory (is lvsd running?)");
  server = open();
  ASSERT_TRUE(std::filesystem::is_socket(path()));
  server.reset();
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(ControlServer, ANonRootUserIsKeptOutByTheSocketsMode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  auto server = open();
  ASSERT_TRUE(server);
  EXPECT_EQ(ask_as(65534, 65534, {}),
            "permission denied on " + path() + " (root only; see control_group in lvsd.toml(5))");
}

TEST_F(ControlServer, ANonRootPeerIsRefusedEvenWhenTheModeLetsItIn) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  auto server = open();
  ASSERT_TRUE(server);
  ASSERT_EQ(::chmod(path().c_str(), 0666), 0);
  EXPECT_EQ(ask_as(65534, 65534, {}),
            "permission denied: uid 65534 is not root (root only; see control_group in lvsd.toml(5))");
  EXPECT_EQ(server->counters().refused_peers, 1u);
  EXPECT_EQ(calls_, 0);
  EXPECT_TRUE(ask(json{{"command", "status"}}));
}

TEST_F(ControlServer, OnlyTheControlGroupsMembersAsTheUserDatabaseSays) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  {
    // nobody's primary group is nogroup: a member.
    auto server = open(ServerOptions{.path = path(), .group = "nogroup"});
    ASSERT_TRUE(server);
    EXPECT_EQ(ask_as(65534, 65534, {}), "ok");
    EXPECT_EQ(calls_, 1);
  }
  // A process that holds adm among its groups gets through the mode, but nobody is no member
  // of adm in /etc/group: refused.
  const gid_t adm = ::getgrnam("adm")->gr_gid;
  auto server = open(ServerOptions{.path = path(), .group = "adm"});
  ASSERT_TRUE(server);
  EXPECT_EQ(ask_as(65534, 65534, {adm}), "permission denied: uid 65534 is neither root nor a member of group adm");
  EXPECT_EQ(server->counters().refused_peers, 1u);
  EXPECT_EQ(calls_, 1);
}

}  // namespace
}  // namespace lvsd::control
