// VRRP advert codec: the v2 and v3 wire formats, their checksums and the receive checks.
#include "lvsd/vrrp/packet.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace lvsd::vrrp {
namespace {

using model::Family;
using model::IpAddress;

constexpr std::size_t kHeaderSize = 8;
constexpr std::size_t kAuthDataSize = 8;  // v2 only: the password, zero-padded, or zeros
constexpr std::uint8_t kTypeAdvertisement = 1;
constexpr std::uint8_t kTtl = 255;
constexpr long kMaxSeconds = 255;    // v2: one byte
constexpr long kMaxCentis = 0x0fff;  // v3: 12 bits after 4 reserved ones

std::size_t address_size(Family family) { return family == Family::V4 ? 4 : 16; }

// The message's length when it carries `count` addresses: what the packet must at least hold.
std::size_t message_size(std::uint8_t version, Family family, std::size_t count) {
  return kHeaderSize + count * address_size(family) + (version == 2 ? kAuthDataSize : 0);
}

// RFC 1071 one's complement sum, fed in pieces. A piece of odd length leaves its last byte as
// the high half of a word the next piece completes, so the pieces sum as if contiguous.
class Checksum {
 public:
  void add(std::span<const std::uint8_t> bytes) {
    for (const std::uint8_t b : bytes) {
      sum_ += high_ ? std::uint64_t{b} << 8 : std::uint64_t{b};
      high_ = !high_;
    }
  }
  void add_u16(std::uint16_t v) { add(std::array{hi(v), lo(v)}); }
  void add_u32(std::uint32_t v) {
    add_u16(static_cast<std::uint16_t>(v >> 16));
    add_u16(static_cast<std::uint16_t>(v & 0xffff));
  }
  void add_address(const IpAddress& a) {
    add(std::span(a.bytes()).first(address_size(a.family())));
  }
  // The checksum to send; over a message that already holds a right one, 0.
  std::uint16_t value() const {
    std::uint64_t s = sum_;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xffff);
  }

  static std::uint8_t hi(std::uint16_t v) { return static_cast<std::uint8_t>(v >> 8); }
  static std::uint8_t lo(std::uint16_t v) { return static_cast<std::uint8_t>(v & 0xff); }

 private:
  std::uint64_t sum_ = 0;  // 64 bits: no carry is lost before value() folds them
  bool high_ = true;
};

// v2 sums the message alone; v3 prepends the pseudo-header of its IP version (RFC 768 for
// IPv4, RFC 8200 8.1 for IPv6), whose length is that of the whole IP payload.
std::uint16_t checksum(std::span<const std::uint8_t> message, std::uint8_t version,
                       const IpAddress& source, const IpAddress& destination) {
  Checksum sum;
  if (version == 3) {
    sum.add_address(source);
    sum.add_address(destination);
    if (source.is_v4()) {
      sum.add_u16(kProtocol);  // a zero byte, then the protocol
      sum.add_u16(static_cast<std::uint16_t>(message.size()));
    } else {
      sum.add_u32(static_cast<std::uint32_t>(message.size()));
      sum.add_u32(kProtocol);  // three zero bytes, then the next header
    }
  }
  sum.add(message);
  return sum.value();
}

[[noreturn]] void refuse(const Advert& advert, std::string_view why) {
  throw std::invalid_argument(
      fmt::format("cannot encode VRRPv{} advert for VRID {}: {}", advert.version, advert.vrid, why));
}

// Milliseconds to the nearest whole `unit`, refused outside [1, max]: the config allows only
// exact values in range, so anything else is a caller's bug rather than something to clamp.
std::uint16_t to_units(const Advert& advert, long unit, long max) {
  const auto ms = advert.interval.count();
  const auto units = ms < 0 ? 0 : (ms + unit / 2) / unit;
  if (units < 1 || units > max)
    refuse(advert, fmt::format("interval {}ms is not 1-{} units of {}ms", ms, max, unit));
  return static_cast<std::uint16_t>(units);
}

void validate(const Advert& advert, const IpAddress& source, const IpAddress& destination) {
  if (advert.version != 2 && advert.version != 3) refuse(advert, "version is not 2 or 3");
  if (advert.vrid == 0) refuse(advert, "VRID 0");
  if (advert.version == 2 && advert.family == Family::V6) refuse(advert, "VRRPv2 is IPv4 only");
  if (advert.addresses.empty() || advert.addresses.size() > 255)
    refuse(advert, fmt::format("{} addresses (1-255)", advert.addresses.size()));
  const auto family = advert.family;
  const auto other_family = [family](const IpAddress& a) { return a.family() != family; };
  if (std::ranges::any_of(advert.addresses, other_family))
    refuse(advert, fmt::format("an address is not {}", model::to_string(family)));
  if (other_family(source) || other_family(destination))
    refuse(advert, fmt::format("source or destination is not {}", model::to_string(family)));
  if (advert.version == 3 && (advert.auth != AuthType::None || !advert.password.empty()))
    refuse(advert, "VRRPv3 has no authentication");
  if (advert.auth == AuthType::Ah) refuse(advert, "AH authentication is not supported");
  if (advert.auth != AuthType::SimplePassword && !advert.password.empty())
    refuse(advert, "a password without simple password authentication");
  if (advert.password.size() > kAuthDataSize) refuse(advert, "password longer than 8 bytes");
}

std::uint32_t read_u32(std::span<const std::uint8_t> b) {
  return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
}

IpAddress read_address(std::span<const std::uint8_t> b, Family family) {
  if (family == Family::V4) return IpAddress::v4(read_u32(b));
  std::array<std::uint8_t, 16> bytes{};
  std::ranges::copy(b.first(bytes.size()), bytes.begin());
  return IpAddress::v6(bytes);
}

// The password as it goes on the wire: 8 bytes, zero-padded. A longer one (which the config
// refuses) is cut, so it can never equal what a peer sends in full.
std::array<std::uint8_t, kAuthDataSize> auth_data(std::string_view password) {
  std::array<std::uint8_t, kAuthDataSize> data{};
  std::ranges::transform(password.substr(0, kAuthDataSize), data.begin(),
                         [](char c) { return static_cast<std::uint8_t>(c); });
  return data;
}

// RFC 3768 5.3.6 / 7.1: the type must be ours; a simple password must match all 8 bytes. AH
// (type 2, deprecated by RFC 3768) is never accepted: we cannot check it.
bool auth_ok(std::uint8_t type, std::span<const std::uint8_t> data, const Expect& expect) {
  if (type == static_cast<std::uint8_t>(AuthType::Ah)) return false;
  if (type != static_cast<std::uint8_t>(expect.auth)) return false;
  if (expect.auth != AuthType::SimplePassword) return true;  // None: the data is ignored
  if (expect.password.size() > kAuthDataSize) return false;
  return std::ranges::equal(data, auth_data(expect.password));
}

}  // namespace

std::vector<std::uint8_t> encode(const Advert& advert, const IpAddress& source,
                                 const IpAddress& destination) {
  validate(advert, source, destination);
  const bool v2 = advert.version == 2;
  std::vector<std::uint8_t> out;
  out.reserve(message_size(advert.version, advert.family, advert.addresses.size()));
  out.push_back(static_cast<std::uint8_t>(advert.version << 4 | kTypeAdvertisement));
  out.push_back(advert.vrid);
  out.push_back(advert.priority);
  out.push_back(static_cast<std::uint8_t>(advert.addresses.size()));
  if (v2) {
    out.push_back(static_cast<std::uint8_t>(advert.auth));
    out.push_back(static_cast<std::uint8_t>(to_units(advert, 1000, kMaxSeconds)));
  } else {
    const auto centis = to_units(advert, 10, kMaxCentis);  // the reserved bits stay zero
    out.push_back(Checksum::hi(centis));
    out.push_back(Checksum::lo(centis));
  }
  out.push_back(0);  // the checksum, summed as zero
  out.push_back(0);
  for (const auto& address : advert.addresses) {
    const auto bytes = std::span(address.bytes()).first(address_size(advert.family));
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  if (v2) {
    const auto data = auth_data(advert.auth == AuthType::SimplePassword ? advert.password : "");
    out.insert(out.end(), data.begin(), data.end());
  }
  const auto sum = checksum(out, advert.version, source, destination);
  out[6] = Checksum::hi(sum);
  out[7] = Checksum::lo(sum);
  return out;
}

Decoded decode(std::span<const std::uint8_t> vrrp, const Envelope& envelope, const Expect& expect) {
  const auto drop = [](Drop why) {
    Decoded d;
    d.drop = why;
    return d;
  };
  if (vrrp.size() < kHeaderSize) return drop(Drop::TooShort);
  const auto version = static_cast<std::uint8_t>(vrrp[0] >> 4);
  if (version != expect.version) return drop(Drop::BadVersion);
  if ((vrrp[0] & 0x0f) != kTypeAdvertisement) return drop(Drop::BadType);
  // RFC 3768 7.1 / RFC 5798 7.1: 255 proves the sender is on the link, unicast or not.
  if (envelope.ttl != kTtl) return drop(Drop::BadTtl);
  const auto family = expect.family;
  if (envelope.source.family() != family || envelope.destination.family() != family ||
      (version == 2 && family == Family::V6))
    return drop(Drop::BadFamily);
  const std::uint8_t count = vrrp[3];
  if (vrrp.size() < message_size(version, family, count)) return drop(Drop::TooShort);
  if (checksum(vrrp, version, envelope.source, envelope.destination) != 0)
    return drop(Drop::BadChecksum);
  if (vrrp[1] != expect.vrid) return drop(Drop::BadVrid);
  if (count == 0) return drop(Drop::BadAddressCount);

  Decoded decoded;
  auto& advert = decoded.advert;
  advert.version = version;
  advert.vrid = vrrp[1];
  advert.priority = vrrp[2];
  advert.family = family;
  const auto addresses = vrrp.subspan(kHeaderSize, count * address_size(family));
  if (version == 2) {
    advert.interval = model::Millis{vrrp[5] * 1000};
    if (advert.interval != expect.interval) return drop(Drop::BadInterval);
    const auto data = vrrp.subspan(kHeaderSize + addresses.size(), kAuthDataSize);
    if (!auth_ok(vrrp[4], data, expect)) return drop(Drop::BadAuth);
    advert.auth = expect.auth;
    if (advert.auth == AuthType::SimplePassword) {
      const auto end = std::ranges::find(data, std::uint8_t{0});
      advert.password.assign(data.begin(), end);
    }
  } else {
    // v3 learns the master's interval (RFC 5798 6.4.2); from 0 a backup would take over at once.
    const int centis = (vrrp[4] & 0x0f) << 8 | vrrp[5];
    if (centis == 0) return drop(Drop::BadInterval);
    advert.interval = model::Millis{centis * 10};
  }
  advert.addresses.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    advert.addresses.push_back(read_address(addresses.subspan(i * address_size(family)), family));
  decoded.ok = true;
  return decoded;
}

std::string_view to_string(Drop drop) {
  switch (drop) {
    case Drop::TooShort: return "too short";
    case Drop::BadVersion: return "wrong version";
    case Drop::BadType: return "not an advertisement";
    case Drop::BadTtl: return "TTL not 255";
    case Drop::BadChecksum: return "bad checksum";
    case Drop::BadVrid: return "wrong VRID";
    case Drop::BadInterval: return "wrong advert interval";
    case Drop::BadAuth: return "authentication failed";
    case Drop::BadAddressCount: return "no addresses";
    case Drop::AddressMismatch: return "addresses differ";
    case Drop::NotAPeer: return "not a unicast peer";
    case Drop::OwnAdvert: return "own advert";
    case Drop::BadFamily: return "wrong address family";
  }
  std::abort();  // every reason is above: a new one must be added there
}

}  // namespace lvsd::vrrp
