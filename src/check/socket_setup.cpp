// Address conversion and connect-failure words for the socket-based probers.
#include "socket_setup.hpp"

#include <boost/asio/error.hpp>

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

}  // namespace lvsd::check
