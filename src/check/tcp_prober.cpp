// A TCP connect: up when the handshake completes.
#include "lvsd/check/tcp_prober.hpp"

#include <variant>

#include "socket_setup.hpp"

namespace lvsd::check {
namespace asio = boost::asio;

TcpConnector::TcpConnector(asio::any_io_executor executor) : waits_(SocketWaits::shared(executor)) {}

TcpConnector::~TcpConnector() = default;

std::size_t TcpConnector::pending() const { return waits_->watched(); }

asio::awaitable<Result> TcpConnector::connect(const Target& target) {
  auto connected = co_await waits_->connect(target);
  auto* socket = std::get_if<SocketWaits::Socket>(&connected);
  if (!socket) co_return std::get<Result>(std::move(connected));
  // As HAProxy closes its checks: 10,000 checks a second would keep 600,000 TIME_WAIT
  // entries.
  socket->reset();
  co_return success("connected");
}

asio::awaitable<Result> TcpProber::probe(const Target& target) { return connector_.connect(target); }

}  // namespace lvsd::check
