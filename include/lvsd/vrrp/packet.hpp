// VRRP advertisements on the wire: VRRPv2 (RFC 3768, IPv4) and VRRPv3 (RFC 5798, IPv4 and
// IPv6): encoding, decoding and every check a received advert must pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::vrrp {

inline constexpr std::uint8_t kProtocol = 112;  // IP protocol number of VRRP

// v2 authentication (RFC 3768 5.3.6); v3 has none.
enum class AuthType : std::uint8_t { None = 0, SimplePassword = 1, Ah = 2 };

// One advertisement, as sent or as received (the VRRP part of the IP packet).
struct Advert {
  std::uint8_t version = 3;  // 2 or 3
  std::uint8_t vrid = 0;     // 1-255
  std::uint8_t priority = 100;  // 0: the master stops; 255: the address owner
  // v2: whole seconds (1-255); v3: centiseconds (1-4095). Stored as milliseconds.
  model::Millis interval{1000};
  AuthType auth = AuthType::None;  // v2 only
  // v2 simple password: at most 8 bytes, sent zero-padded; a decoded one ends at its first
  // zero byte. Empty unless auth is SimplePassword.
  std::string password;
  model::Family family = model::Family::V4;
  std::vector<model::IpAddress> addresses;  // the virtual addresses, all of `family`
  bool operator==(const Advert&) const = default;
};

// The IP header fields a check needs, from the received packet (IP_RECVTTL / IPV6_HOPLIMIT
// and the source and destination addresses).
struct Envelope {
  model::IpAddress source;
  model::IpAddress destination;
  std::uint8_t ttl = 255;  // IPv4 TTL or IPv6 hop limit
};

// The VRRP part of an advert, its checksum computed (v3: with the pseudo-header of `source`
// and `destination`, IPv4 too, as RFC 5798 5.2.8 says and keepalived does by default, though
// RFC 9568 5.2.8 has since left it out for IPv4; v2: over the VRRP part alone). The interval
// is rounded to the nearest unit of the version (v2 seconds, v3 centiseconds). An advert the
// config would have refused (version not 2 or 3, VRID 0, v2 over IPv6, no addresses or more
// than 255, an address, source or destination of another family, a rounded interval out of
// range, v2 AH, a password over 8 bytes or without SimplePassword, authentication in v3) is a
// programmer error: std::invalid_argument.
std::vector<std::uint8_t> encode(const Advert& advert, const model::IpAddress& source,
                                 const model::IpAddress& destination);

// Why a received advert is dropped (RFC 3768 7.1, RFC 5798 7.1), one counter each.
// New reasons go at the end so the values of the others stay the same.
enum class Drop : std::uint8_t {
  TooShort,          // shorter than its header, or than its address count (and v2 auth) says
  BadVersion,        // not the version the instance speaks
  BadType,           // type is not 1 (advertisement)
  BadTtl,            // TTL / hop limit not 255 (unicast too)
  BadChecksum,
  BadVrid,           // not the instance's VRID: another virtual router's (logged once per sender)
  BadInterval,       // v2: differs from the instance's advert interval; v3 (which learns it): 0
  BadAuth,           // v2: authentication type or password not the instance's; AH always
  BadAddressCount,   // no addresses
  AddressMismatch,   // the address list differs from the instance's (counted, not fatal in v3)
  NotAPeer,          // unicast: the source is not in unicast_peers
  OwnAdvert,         // our own advert looped back
  BadFamily,         // the IP packet is not of the instance's family (or v2 over IPv6)
};
inline constexpr std::size_t kDropReasons = 13;
std::string_view to_string(Drop drop);

// What a received advert is judged against.
struct Expect {
  std::uint8_t version = 3;
  std::uint8_t vrid = 0;
  model::Family family = model::Family::V4;
  model::Millis interval{1000};  // v2: must match
  AuthType auth = AuthType::None;  // v2 only; Ah refuses every advert
  std::string password;            // v2 SimplePassword, compared zero-padded to 8 bytes
};

// A decoded advert, or why not. The checks that need only the bytes and the envelope:
// length, version, type, TTL, checksum, VRID, address count, v2 interval and authentication.
// AddressMismatch, NotAPeer and OwnAdvert need the instance: its caller judges those.
struct Decoded {
  bool ok = false;
  Drop drop = Drop::TooShort;  // when !ok
  Advert advert;               // when ok
};

// `vrrp` is the whole IP payload (what follows the IPv4 header, or the IPv6 raw socket's
// data). The checks run in this order and the first that fails is the reason: header length,
// version, type, TTL, family (the envelope's addresses against expect.family; they decide the
// address size and the pseudo-header), full length, checksum, VRID, address count, interval,
// authentication. Bytes after the last address (v3) or the authentication data (v2) are
// allowed (RFC 5798 7.1 asks only that the packet hold the whole advert), covered by the
// checksum and otherwise ignored. The v3 checksum must include the pseudo-header built from
// the envelope: v3 IPv4 adverts summed without it (RFC 9568, keepalived's v3_checksum_as_v2)
// or with the multicast group in place of the unicast destination (old keepalived, its
// old_unicast_checksum) are BadChecksum.
Decoded decode(std::span<const std::uint8_t> vrrp, const Envelope& envelope, const Expect& expect);

}  // namespace lvsd::vrrp
