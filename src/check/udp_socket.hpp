// What the UDP-based probers share: a connected socket with the first datagram sent, and
// the words for what ICMP answers instead of the server.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <string>

#include "lvsd/check/prober.hpp"

namespace lvsd::check {

// Opens `socket`, binds it as the target asks, connects it to the target (so the kernel
// hands it only the target's datagrams, and ICMP errors as ECONNREFUSED) and sends
// `datagram`. A failure is the result.
boost::asio::awaitable<std::optional<Result>> send_connected(boost::asio::ip::udp::socket& socket, const Target& target,
                                                             boost::asio::const_buffer datagram);

// "port unreachable" (ECONNREFUSED: ICMP port unreachable on a connected socket), "host
// unreachable", "network unreachable", otherwise "<what> failed: <the system's words>".
std::string udp_failure(const char* what, const boost::system::error_code& ec);

}  // namespace lvsd::check
