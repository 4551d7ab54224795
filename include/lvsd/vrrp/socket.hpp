// VRRP adverts on the wire for one instance: a raw IP protocol 112 socket on its interface.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/vrrp/packet.hpp"

namespace lvsd::vrrp {

// 224.0.0.18 (RFC 3768 5.2.2) or ff02::12 (RFC 5798 5.1.2.2).
model::IpAddress group(model::Family family);

// V4: the interface's first IPv4 address (its primary, as the kernel lists them); V6: its
// link-local address. nullopt when it has none or does not exist.
std::optional<model::IpAddress> interface_address(std::string_view interface, model::Family family);

struct SocketOptions {
  std::string interface;
  model::Family family = model::Family::V4;
  // The source of our adverts: the instance's primary address or its unicast_source. Unset:
  // interface_address() — for IPv6 the link-local address, which VRRPv3 over IPv6 must use
  // (RFC 5798 5.1.2.1). It must be an address of this host: IPv6 refuses a tentative one
  // (still in duplicate address detection), and open() fails until it is not.
  std::optional<model::IpAddress> source;
  std::vector<model::IpAddress> unicast_peers;  // empty: multicast to group(family)
  bool multicast_loop = false;                  // tests: see our own multicast adverts
};

// What one received packet says.
struct Received {
  std::vector<std::uint8_t> payload;  // the VRRP part, for decode()
  Envelope envelope;
  // Unicast: Drop::NotAPeer when the source is not one of unicast_peers (screen_source()).
  // The socket judges, since it holds the peers; the caller counts it with
  // Instance::note_drop() like every decode() failure, so one place counts every drop.
  std::optional<Drop> drop;
};

// An IPv4 packet as a raw socket reads it: header then payload.
struct Ipv4Packet {
  Envelope envelope;
  std::span<const std::uint8_t> payload;  // within the packet given to parse_ipv4()
};

// The envelope and VRRP payload of an IPv4 packet; nullopt unless it is IPv4, of protocol
// 112, with a header length of at least 20 bytes and a total length within `packet` (bytes
// after the total length are not payload).
std::optional<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> packet);

// Unicast mode (peers not empty): NotAPeer unless `source` is one of `peers`.
std::optional<Drop> screen_source(const model::IpAddress& source,
                                  std::span<const model::IpAddress> peers);

struct SocketCounters {
  std::uint64_t sent = 0;            // packets sent: one per destination
  std::uint64_t send_errors = 0;     // packets the kernel refused
  std::uint64_t received = 0;        // packets handed to the caller, NotAPeer too
  std::uint64_t malformed = 0;       // skipped: no IPv4 header to read, truncated, no cmsgs
  std::uint64_t receive_errors = 0;  // recvmsg failures other than "nothing to read"
  bool operator==(const SocketCounters&) const = default;
};

// One instance's raw VRRP socket: bound to its interface (SO_BINDTODEVICE), sending with
// TTL / hop limit 255 to the group (joined on the interface) or to every unicast peer, from
// SocketOptions::source (per packet, IP_PKTINFO / IPV6_PKTINFO: a raw socket bound to an
// address would hear only packets to that address, not the group's). The kernel never
// touches the VRRP checksum (no IPV6_CHECKSUM): encode() computes it with the pseudo-header.
// Multicast loop is off, so our own adverts do not come back. Non-blocking, one thread.
class AdvertSocket {
 public:
  // Errors in words: "no interface eth9", "cannot join 224.0.0.18 on eth0: ...".
  static boost::system::result<AdvertSocket, std::string> open(boost::asio::any_io_executor executor,
                                                               SocketOptions options);
  // Closes the socket: a receive() waiting returns operation_aborted.
  ~AdvertSocket();
  AdvertSocket(AdvertSocket&&) noexcept;
  AdvertSocket& operator=(AdvertSocket&&) noexcept;

  // The advert to every destination, each encoded with its own pseudo-header (a v3 checksum
  // differs per destination). Every destination is tried; the first error is returned.
  // encode()'s std::invalid_argument passes through (a programmer error).
  boost::system::error_code send(const Advert& advert);
  // Bytes as they are, to one destination: for a payload encoded by the caller, and tests.
  boost::system::error_code send_to(std::span<const std::uint8_t> payload,
                                    const model::IpAddress& destination);
  // The next packet, skipping (and counting) malformed ones. An error only when the socket
  // fails or is closed. One receive at a time.
  boost::asio::awaitable<boost::system::result<Received>> receive();
  void close();

  const model::IpAddress& source() const;
  // The group, or the unicast peers.
  const std::vector<model::IpAddress>& destinations() const;
  unsigned interface_index() const;
  const SocketCounters& counters() const;

 private:
  struct State;
  explicit AdvertSocket(std::shared_ptr<State> state);
  // Shared with a receive() in flight, so moving or destroying the socket while it waits
  // leaves the coroutine a live state to return its error from.
  std::shared_ptr<State> state_;
};

}  // namespace lvsd::vrrp
