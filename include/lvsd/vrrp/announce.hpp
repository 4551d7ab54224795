// Gratuitous ARP and unsolicited neighbour advertisements for a new master's VIPs, and the
// ARP / neighbour discovery frames the split-brain detector sends and reads.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lvsd/model/address.hpp"

namespace lvsd::vrrp {

using Mac = std::array<std::uint8_t, 6>;
std::string to_string(const Mac& mac);  // "02:00:5e:00:01:33"

// The virtual router MAC (RFC 3768 7.3, RFC 5798 7.3): 00:00:5e:00:01:VRID for IPv4,
// 00:00:5e:00:02:VRID for IPv6.
Mac virtual_mac(std::uint8_t vrid, model::Family family);

// The frames are whole Ethernet frames without FCS, not padded to 60 bytes (the driver pads
// runts, as for the kernel's own ARP).

// A gratuitous ARP *request* (RFC 5227 3's "ARP Announcement"): broadcast, sender MAC `mac`,
// sender IP = target IP = `vip`, target MAC zero. A request rather than a reply because it is
// what keepalived and the kernel (arp_notify) send, and the one every host and switch reads:
// some old stacks update their caches only from requests. 42 bytes.
std::vector<std::uint8_t> gratuitous_arp(const Mac& mac, const model::IpAddress& vip);

// An RFC 5227 2.1.1 ARP probe for `vip`: sender IP 0.0.0.0, target IP `vip`, target MAC zero,
// broadcast. A host holding `vip` answers it (Linux does), and, unlike a request sent from
// the VIP itself, it changes no one's cache: while two masters hold the VIP, probing does not
// fight over it. 42 bytes.
std::vector<std::uint8_t> arp_probe(const Mac& mac, const model::IpAddress& vip);

// An unsolicited neighbour advertisement (RFC 4861 7.2.6): from `source` (an address of the
// interface: we use its link-local one, as keepalived does) to ff02::1 (33:33:00:00:00:01),
// hop limit 255, Override set, Router and Solicited clear, target `vip`, a target link-layer
// address option with `mac`, the ICMPv6 checksum computed with the pseudo-header. 86 bytes.
std::vector<std::uint8_t> unsolicited_na(const Mac& mac, const model::IpAddress& source, const model::IpAddress& vip);

// The IPv6 counterpart of arp_probe(): a duplicate-address-detection neighbour solicitation
// (RFC 4862 5.4.2) for `vip`: source ::, to its solicited-node group, hop limit 255, no
// source link-layer option (RFC 4861 7.2.2 forbids it with source ::). A host holding `vip`
// answers with a neighbour advertisement to ff02::1 (RFC 4861 7.2.4), which every listener
// on the link reads with parse_na(). 78 bytes.
std::vector<std::uint8_t> neighbour_probe(const Mac& mac, const model::IpAddress& vip);

// The ICMPv6 checksum of `message` (its checksum field zero) between the two addresses.
std::uint16_t icmpv6_checksum(const model::IpAddress& source, const model::IpAddress& destination,
                              std::span<const std::uint8_t> message);

struct ArpMessage {
  std::uint16_t op = 0;  // 1 request, 2 reply
  Mac sender_mac{};
  model::IpAddress sender_ip;  // 0.0.0.0 in a probe
  Mac target_mac{};
  model::IpAddress target_ip;
  bool operator==(const ArpMessage&) const = default;
};

// An Ethernet frame (as an AF_PACKET SOCK_RAW socket reads it) holding an Ethernet/IPv4 ARP
// message; nullopt for anything else or too short.
std::optional<ArpMessage> parse_arp(std::span<const std::uint8_t> frame);

struct NeighbourAdvert {
  Mac ethernet_source{};
  model::IpAddress source;
  model::IpAddress destination;
  model::IpAddress target;
  bool router = false;
  bool solicited = false;
  bool override_flag = false;
  std::optional<Mac> target_mac;  // the target link-layer address option, when present
  bool operator==(const NeighbourAdvert&) const = default;
};

// An Ethernet frame holding an IPv6 neighbour advertisement that passes RFC 4861 7.1.2's
// checks: no extension headers, hop limit 255, ICMPv6 code 0, at least 24 bytes, a valid
// checksum, a target that is not multicast, no option of length 0. nullopt otherwise.
std::optional<NeighbourAdvert> parse_na(std::span<const std::uint8_t> frame);

// Sends frames on one interface through an AF_PACKET socket, so the Ethernet source can be
// the VMAC and the IPv6 header ours (hop limit 255, the link-local source): the NA checksum is
// then ours too, and tested against golden bytes. Opened with protocol 0, it reads nothing.
class Announcer {
 public:
  // `mac`: the Ethernet and link-layer source; unset: the interface's own (which is the VMAC
  // when the interface is the instance's macvlan). Errors in words.
  static boost::system::result<Announcer, std::string> open(const std::string& interface,
                                                            std::optional<Mac> mac = std::nullopt);
  ~Announcer();
  Announcer(Announcer&& other) noexcept;
  Announcer& operator=(Announcer&& other) noexcept;

  // gratuitous_arp() for an IPv4 VIP; unsolicited_na() from the interface's link-local
  // address for an IPv6 one (address_not_available when it has none).
  boost::system::error_code announce(const model::IpAddress& vip);
  // arp_probe() or neighbour_probe().
  boost::system::error_code probe(const model::IpAddress& vip);
  // Any Ethernet frame; its EtherType (bytes 12-13) is the protocol it is sent as.
  boost::system::error_code send(std::span<const std::uint8_t> frame);

  const Mac& mac() const { return mac_; }
  unsigned interface_index() const { return ifindex_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t send_errors() const { return send_errors_; }

 private:
  Announcer(int fd, std::string interface, unsigned ifindex, const Mac& mac);
  int fd_ = -1;
  std::string interface_;
  unsigned ifindex_ = 0;
  Mac mac_{};
  std::uint64_t sent_ = 0;
  std::uint64_t send_errors_ = 0;
};

}  // namespace lvsd::vrrp
