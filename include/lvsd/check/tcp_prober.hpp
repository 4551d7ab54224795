// L4: the real server's port accepts a TCP connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>

#include "lvsd/check/prober.hpp"

namespace lvsd::check {

class SocketWaits;  // src/check/socket_setup.hpp

// The connects of the process's tcp checks, waited for on the epoll set that the check
// sockets of the io_context share, which the io_context watches as one descriptor. A check
// is then socket, connect, one epoll_ctl, getsockopt, setsockopt and close, and the connects
// that end together are collected by one epoll_wait: at 10,000 checks a second the system
// calls are most of a check's cost, and an Asio socket spends three more on each (FIONBIO,
// an epoll_ctl to watch for writing, a poll). Used from one thread; must outlive the
// connects under way.
class TcpConnector {
 public:
  explicit TcpConnector(boost::asio::any_io_executor executor);
  ~TcpConnector();
  TcpConnector(const TcpConnector&) = delete;
  TcpConnector& operator=(const TcpConnector&) = delete;

  // Connects to the target from its bind_address and bind_interface, if set, and resets the
  // connection once made (no FIN exchange, no TIME_WAIT entry per check). Up "connected";
  // down "connect refused", "host unreachable", …. Waits without end: the caller bounds it
  // by cancelling it (any cancellation type), which closes the socket.
  boost::asio::awaitable<Result> connect(const Target& target);

  // Sockets under way in the set (those of the other checks on it too).
  std::size_t pending() const;

 private:
  std::shared_ptr<SocketWaits> waits_;
};

class TcpProber final : public Prober {
 public:
  explicit TcpProber(TcpConnector& connector) : connector_(connector) {}
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  TcpConnector& connector_;
};

}  // namespace lvsd::check
