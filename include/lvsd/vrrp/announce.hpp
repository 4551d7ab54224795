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
#include <utility>
#include <vector>

#include "lvsd/model/address.hpp"

namespace lvsd::vrrp {

using Mac = std::array<std::uint8_t, 6>;
std::string to_string(const Mac& mac);  // "02:00:5e:00:01:33"

// The virtual router MAC (RFC 3768 7.3, RFC 5798 7.3): 00:00:5e:00:01:VRID for IPv4,
// 00:00:5e:00:02:VRID for IPv6.
Mac virtual_mac(std::uint8_t vrid, model::Family family);

// What lvsd says of itself in every ARP and neighbour discovery frame it sends for a VIP, so
// that a master which finds another holder of its VIP (conflict.hpp) can tell which of the
// two the VRRP election would keep, while no advert gets through. Both sides put the same
// facts in and evaluate the same rule on them.
// - ARP: the Ethernet padding, bytes 42-52 of the 60 the frame is padded to anyway:
//   "LVSD", version 1, VRID, priority, the IPv4 primary address; then zeros to 60 bytes.
//   Receivers read the ARP message's 28 bytes and nothing after them.
// - Neighbour discovery: an option of the experimental type 253 (RFC 4727), 32 bytes:
//   type, length 4, "LVSD", version 1, VRID, priority, 7 zero bytes, the IPv6 primary
//   address. Receivers skip options they do not know (RFC 4861 7.1); the checksum covers it.
// A frame padded by someone else (a switch, a driver) holds zeros or junk there, not the
// magic: it parses with no signature, as does a frame of a later version.
struct Signature {
  std::uint8_t vrid = 0;
  std::uint8_t priority = 0;  // the effective one: what the instance's adverts would say
  model::IpAddress primary;   // the source of its adverts; IPv4 in ARP, IPv6 in neighbour discovery
  bool operator==(const Signature&) const = default;
};
std::string to_string(const Signature& signature);  // "VRID 51, priority 200, primary 10.0.0.1"

// The frames are whole Ethernet frames without FCS. Unsigned ARP frames are not padded to 60
// bytes (the driver pads runts, as for the kernel's own ARP); signed ones are, since the
// signature is the padding. A signature whose primary address is not of the frame's family
// (IPv4 for ARP, IPv6 for neighbour discovery) is a programmer error: std::invalid_argument.

// A gratuitous ARP *request* (RFC 5227 3's "ARP Announcement"): broadcast, sender MAC `mac`,
// sender IP = target IP = `vip`, target MAC zero. A request rather than a reply because it is
// what keepalived and the kernel (arp_notify) send, and the one every host and switch reads:
// some old stacks update their caches only from requests. 42 bytes; 60 signed.
std::vector<std::uint8_t> gratuitous_arp(const Mac& mac, const model::IpAddress& vip,
                                         const std::optional<Signature>& signature = std::nullopt);

// An RFC 5227 2.1.1 ARP probe for `vip`: sender IP 0.0.0.0, target IP `vip`, target MAC zero,
// broadcast. A host holding `vip` answers it (Linux does), and, unlike a request sent from
// the VIP itself, it changes no one's cache: while two masters hold the VIP, probing does not
// fight over it. 42 bytes; 60 signed.
std::vector<std::uint8_t> arp_probe(const Mac& mac, const model::IpAddress& vip,
                                    const std::optional<Signature>& signature = std::nullopt);

// An unsolicited neighbour advertisement (RFC 4861 7.2.6): from `source` (an address of the
// interface: we use its link-local one, as keepalived does) to ff02::1 (33:33:00:00:00:01),
// hop limit 255, Override set, Router and Solicited clear, target `vip`, a target link-layer
// address option with `mac` (then the signature option), the ICMPv6 checksum computed with
// the pseudo-header. 86 bytes; 118 signed.
std::vector<std::uint8_t> unsolicited_na(const Mac& mac, const model::IpAddress& source, const model::IpAddress& vip,
                                         const std::optional<Signature>& signature = std::nullopt);

// The IPv6 counterpart of arp_probe(): a duplicate-address-detection neighbour solicitation
// (RFC 4862 5.4.2) for `vip`: source ::, to its solicited-node group, hop limit 255, no
// source link-layer option (RFC 4861 7.2.2 forbids it with source ::). A host holding `vip`
// answers with a neighbour advertisement to ff02::1 (RFC 4861 7.2.4), which every listener
// on the link reads with parse_na(). 78 bytes; 110 signed.
std::vector<std::uint8_t> neighbour_probe(const Mac& mac, const model::IpAddress& vip,
                                          const std::optional<Signature>& signature = std::nullopt);

// ff02::1:ffXX:XXXX, the group a neighbour solicitation for `address` goes to (RFC 4291 2.7.1).
model::IpAddress solicited_node_group(const model::IpAddress& address);
// 33:33 and the last four bytes of an IPv6 group (RFC 2464 7).
Mac multicast_mac(const model::IpAddress& group);

// The ICMPv6 checksum of `message` (its checksum field zero) between the two addresses.
std::uint16_t icmpv6_checksum(const model::IpAddress& source, const model::IpAddress& destination,
                              std::span<const std::uint8_t> message);

struct ArpMessage {
  std::uint16_t op = 0;  // 1 request, 2 reply
  Mac sender_mac{};
  model::IpAddress sender_ip;  // 0.0.0.0 in a probe
  Mac target_mac{};
  model::IpAddress target_ip;
  std::optional<Signature> signature;  // from the padding, when lvsd sent it
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
  std::optional<Signature> signature;
  bool operator==(const NeighbourAdvert&) const = default;
};

// An Ethernet frame holding an IPv6 neighbour advertisement that passes RFC 4861 7.1.2's
// checks: no extension headers, hop limit 255, ICMPv6 code 0, at least 24 bytes, a valid
// checksum, a target that is not multicast, no option of length 0. nullopt otherwise.
std::optional<NeighbourAdvert> parse_na(std::span<const std::uint8_t> frame);

struct NeighbourSolicitation {
  Mac ethernet_source{};
  model::IpAddress source;  // :: in a duplicate-address-detection probe
  model::IpAddress destination;
  model::IpAddress target;
  std::optional<Mac> source_mac;  // the source link-layer address option, when present
  std::optional<Signature> signature;
  bool operator==(const NeighbourSolicitation&) const = default;
};

// An Ethernet frame holding an IPv6 neighbour solicitation that passes RFC 4861 7.1.1's
// checks: those of parse_na(), and, from ::, a solicited-node destination and no source
// link-layer option. nullopt otherwise.
std::optional<NeighbourSolicitation> parse_ns(std::span<const std::uint8_t> frame);

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

  // Signs every announce() and probe() from now on; nullopt (the default): unsigned frames.
  // Its primary address must be of the VIPs' family (see the frame builders).
  void set_signature(std::optional<Signature> signature) { signature_ = std::move(signature); }
  const std::optional<Signature>& signature() const { return signature_; }

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
  std::optional<Signature> signature_;
  std::uint64_t sent_ = 0;
  std::uint64_t send_errors_ = 0;
};

}  // namespace lvsd::vrrp
