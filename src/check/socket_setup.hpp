// What every socket-based prober does before it talks: open, bind to the check's source
// address and interface; and the words for a failed connect.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>

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

}  // namespace lvsd::check
