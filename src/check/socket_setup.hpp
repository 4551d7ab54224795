// What every socket-based prober does before it talks: open, bind to the check's source
// address and interface; and the words for a failed connect.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>
#include <sys/socket.h>

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

// Opens `socket` for `protocol` and binds it as the target asks; a failure is the result.
template <class Socket, class Protocol>
std::optional<Result> prepare(Socket& socket, const Protocol& protocol, const Target& target) {
  boost::system::error_code ec;
  socket.open(protocol, ec);
  if (ec) return failure("cannot open a socket: " + ec.message());
  if (!target.bind_interface.empty() &&
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, target.bind_interface.c_str(),
                   static_cast<socklen_t>(target.bind_interface.size())) != 0)
    return failure("cannot bind to interface " + target.bind_interface + ": " +
                   boost::system::error_code(errno, boost::system::system_category()).message());
  if (target.bind_address) {
    socket.bind(typename Protocol::endpoint(to_asio(*target.bind_address), 0), ec);
    if (ec) return failure("cannot bind to " + target.bind_address->to_string() + ": " + ec.message());
  }
  return std::nullopt;
}

}  // namespace lvsd::check
