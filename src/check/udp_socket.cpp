// A connected UDP socket with its first datagram sent, and the words for its errors.
#include "udp_socket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "socket_setup.hpp"

namespace lvsd::check {
namespace asio = boost::asio;
using asio::ip::udp;

asio::awaitable<std::optional<Result>> send_connected(udp::socket& socket, const Target& target,
                                                      asio::const_buffer datagram) {
  const auto peer = to_asio<udp::endpoint>(target.endpoint);
  if (auto failure = prepare(socket, peer.protocol(), target)) co_return failure;
  boost::system::error_code ec;
  socket.connect(peer, ec);  // no handshake: it only sets the peer, at once
  if (ec) co_return failure(udp_failure("connect", ec));
  auto [send_ec, n] = co_await socket.async_send(datagram, asio::as_tuple(asio::use_awaitable));
  if (send_ec) co_return failure(udp_failure("send", send_ec));
  co_return std::nullopt;
}

std::string udp_failure(const char* what, const boost::system::error_code& ec) {
  namespace error = asio::error;
  if (ec == error::connection_refused) return "port unreachable";
  if (ec == error::host_unreachable) return "host unreachable";
  if (ec == error::network_unreachable) return "network unreachable";
  return std::string(what) + " failed: " + ec.message();
}

}  // namespace lvsd::check
