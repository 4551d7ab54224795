// Address conversion, binding as a check asks, and connect-failure words for the socket-based
// probers.
#include "socket_setup.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/udp.hpp>
#include <sys/socket.h>

#include <cerrno>

namespace lvsd::check {

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

}  // namespace lvsd::check
