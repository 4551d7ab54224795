// The control socket: a unix stream socket answering one JSON object per line, one command
// per request, for lvsctl. Read-mostly: the handlers look at the process's state.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace lvsd::control {

struct ServerOptions {
  std::string path;   // absolute; its directory is made (0755) when missing
  std::string group;  // empty: root only (0600); else root:group 0660 and its members allowed
  std::chrono::milliseconds idle_timeout{10'000};  // a connection silent this long is closed
  std::size_t max_line = 64 * 1024;                // a longer request closes the connection
  std::size_t max_connections = 32;                // one more is told so and closed
};

// Every request and every refusal, by kind; nothing else changes on bad input.
struct ServerCounters {
  std::uint64_t connections = 0;      // accepted and allowed
  std::uint64_t requests = 0;         // lines read whole
  std::uint64_t answered = 0;         // replies with "ok": true
  std::uint64_t not_json = 0;
  std::uint64_t not_object = 0;       // JSON, but not an object
  std::uint64_t no_command = 0;       // an object without a string "command"
  std::uint64_t unknown_command = 0;
  std::uint64_t handler_errors = 0;   // a handler threw: answered with its message
  std::uint64_t too_long = 0;         // a line over max_line
  std::uint64_t idle = 0;             // closed after idle_timeout
  std::uint64_t too_many = 0;         // over max_connections
  std::uint64_t refused_peers = 0;    // neither root nor in the control group
  bool operator==(const ServerCounters&) const = default;
};

// Serves the socket on one executor until stop() or its end. The socket file is made at
// open(), with its mode and owner set before it listens, and removed at stop() (when it is
// still ours: a server that took the path over since keeps its file).
//
// A request is one line: a JSON object with a "command"; the reply is one line: the
// handler's object with "ok": true added, or {"error": "..."} in words. A connection may send
// any number of requests, one after the other. Bad input (not JSON, no or an unknown command,
// a line over max_line, a client idle over idle_timeout, too many connections, a peer that is
// neither root nor a member of the control group by SO_PEERCRED) is answered with an error
// where a reply can be given, closes the connection where it must, and is counted.
class Server {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  // Errors in words: "another lvsd serves /run/lvsd/lvsd-vrrp.sock", a path that is not a
  // socket ("... exists and is not a socket; not touching it"), an unknown group, a failed
  // bind. A stale socket (nothing accepts on it) is replaced.
  static boost::system::result<std::unique_ptr<Server>, std::string> open(boost::asio::any_io_executor executor,
                                                                          ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers (or replaces) the handler of `command`. A handler that throws is answered
  // with {"error": its message}; the server goes on.
  void handle(const std::string& command, Handler handler);
  // Closes the listener and every connection, removes the socket file; nothing more is
  // answered. A second call does nothing.
  void stop();

  const std::string& path() const;
  const ServerOptions& options() const;
  const ServerCounters& counters() const;

  struct Impl;  // server.cpp

 private:
  explicit Server(std::shared_ptr<Impl> impl);
  // Shared with the accept loop and the connections, which may end after the server.
  std::shared_ptr<Impl> impl_;
};

}  // namespace lvsd::control
