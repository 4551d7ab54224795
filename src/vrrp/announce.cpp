// ARP and neighbour discovery frames: built, parsed, and sent through an AF_PACKET socket.
#include "lvsd/vrrp/announce.hpp"

#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "lvsd/vrrp/socket.hpp"

namespace lvsd::vrrp {
using model::Family;
using model::IpAddress;

namespace {

constexpr std::uint16_t kEtherArp = 0x0806, kEtherIpv6 = 0x86DD;
constexpr std::uint8_t kIcmpv6 = 58, kNeighbourSolicitation = 135, kNeighbourAdvert = 136;
constexpr std::uint8_t kSourceLinkLayer = 1, kTargetLinkLayer = 2;  // RFC 4861 4.6.1 option types
constexpr std::size_t kEthernet = 14, kIpv6Header = 40, kArp = 28, kNdMessage = 24;
constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// The signature (announce.hpp): the magic and layout version, then VRID and priority.
constexpr std::array<std::uint8_t, 4> kMagic = {'L', 'V', 'S', 'D'};
constexpr std::uint8_t kSignatureVersion = 1;
constexpr std::size_t kEthernetMinimum = 60;                // without FCS
constexpr std::size_t kArpSignature = 4 + 1 + 1 + 1 + 4;    // after the ARP message
constexpr std::uint8_t kSignatureOption = 253;              // RFC 4727: experimental
constexpr std::size_t kSignatureOptionSize = 32;            // 4 units of 8 bytes
constexpr std::size_t kSignatureOptionAddress = 16;         // where the address starts in it

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
template <class Bytes>
void put(std::vector<std::uint8_t>& out, const Bytes& bytes, std::size_t n) {
  out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
}
std::uint16_t get16(std::span<const std::uint8_t> p, std::size_t at) {
  return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]);
}
Mac mac_at(std::span<const std::uint8_t> p, std::size_t at) {
  Mac m;
  std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(at), 6, m.begin());
  return m;
}
IpAddress v4_at(std::span<const std::uint8_t> p, std::size_t at) {
  return IpAddress::v4(static_cast<std::uint32_t>(p[at]) << 24 | static_cast<std::uint32_t>(p[at + 1]) << 16 |
                       static_cast<std::uint32_t>(p[at + 2]) << 8 | p[at + 3]);
}
IpAddress v6_at(std::span<const std::uint8_t> p, std::size_t at) {
  std::array<std::uint8_t, 16> b;
  std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(at), 16, b.begin());
  return IpAddress::v6(b);
}

void require(const IpAddress& address, Family family, const char* what) {
  if (address.family() != family)
    throw std::invalid_argument(fmt::format("{} {} is not {}", what, address.to_string(), model::to_string(family)));
}

void put_signature_head(std::vector<std::uint8_t>& out, const Signature& s) {
  put(out, kMagic, kMagic.size());
  out.push_back(kSignatureVersion);
  out.push_back(s.vrid);
  out.push_back(s.priority);
}

// The magic, a version we know, then VRID and priority; `at` is where the magic starts.
std::optional<Signature> signature_head(std::span<const std::uint8_t> p, std::size_t at) {
  if (!std::equal(kMagic.begin(), kMagic.end(), p.begin() + static_cast<std::ptrdiff_t>(at)) ||
      p[at + 4] != kSignatureVersion)
    return std::nullopt;
  return Signature{.vrid = p[at + 5], .priority = p[at + 6], .primary = {}};
}

std::vector<std::uint8_t> arp(const Mac& mac, const IpAddress& sender, const IpAddress& vip,
                              const std::optional<Signature>& signature) {
  require(vip, Family::V4, "ARP target");
  if (signature) require(signature->primary, Family::V4, "signature primary");
  std::vector<std::uint8_t> f;
  f.reserve(kEthernetMinimum);
  put(f, kBroadcast, 6);
  put(f, mac, 6);
  put16(f, kEtherArp);
  put16(f, ARPHRD_ETHER);
  put16(f, ETHERTYPE_IP);
  f.push_back(6);  // hardware address length
  f.push_back(4);  // protocol address length
  put16(f, ARPOP_REQUEST);
  put(f, mac, 6);
  put(f, sender.bytes(), 4);
  put(f, Mac{}, 6);
  put(f, vip.bytes(), 4);
  if (signature) {
    put_signature_head(f, *signature);
    put(f, signature->primary.bytes(), 4);
    f.resize(kEthernetMinimum);
  }
  return f;
}

void put_signature_option(std::vector<std::uint8_t>& icmp, const std::optional<Signature>& signature) {
  if (!signature) return;
  require(signature->primary, Family::V6, "signature primary");
  const std::size_t at = icmp.size();
  icmp.push_back(kSignatureOption);
  icmp.push_back(kSignatureOptionSize / 8);
  put_signature_head(icmp, *signature);
  icmp.resize(at + kSignatureOptionAddress);
  put(icmp, signature->primary.bytes(), 16);
}

// Ethernet and IPv6 headers, then `icmp` with its checksum filled in.
std::vector<std::uint8_t> icmpv6_frame(const Mac& destination_mac, const Mac& mac, const IpAddress& source,
                                       const IpAddress& destination, std::vector<std::uint8_t> icmp) {
  const std::uint16_t sum = icmpv6_checksum(source, destination, icmp);
  icmp[2] = static_cast<std::uint8_t>(sum >> 8);
  icmp[3] = static_cast<std::uint8_t>(sum);
  std::vector<std::uint8_t> f;
  f.reserve(kEthernet + kIpv6Header + icmp.size());
  put(f, destination_mac, 6);
  put(f, mac, 6);
  put16(f, kEtherIpv6);
  const std::array<std::uint8_t, 4> version = {0x60, 0, 0, 0};  // traffic class and flow 0
  put(f, version, 4);
  put16(f, static_cast<std::uint16_t>(icmp.size()));
  f.push_back(kIcmpv6);
  f.push_back(255);  // hop limit: RFC 4861 receivers drop anything else
  put(f, source.bytes(), 16);
  put(f, destination.bytes(), 16);
  f.insert(f.end(), icmp.begin(), icmp.end());
  return f;
}

boost::system::error_code system_error(int error) { return {error, boost::system::system_category()}; }

}  // namespace

std::string to_string(const Signature& s) {
  return fmt::format("VRID {}, priority {}, primary {}", s.vrid, s.priority, s.primary.to_string());
}

Mac multicast_mac(const IpAddress& group) {
  const auto& b = group.bytes();
  return {0x33, 0x33, b[12], b[13], b[14], b[15]};
}

IpAddress solicited_node_group(const IpAddress& address) {
  std::array<std::uint8_t, 16> g = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  std::copy_n(address.bytes().begin() + 13, 3, g.begin() + 13);
  return IpAddress::v6(g);
}

std::string to_string(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

Mac virtual_mac(std::uint8_t vrid, Family family) {
  return {0x00, 0x00, 0x5e, 0x00, static_cast<std::uint8_t>(family == Family::V4 ? 0x01 : 0x02), vrid};
}

std::vector<std::uint8_t> gratuitous_arp(const Mac& mac, const IpAddress& vip,
                                         const std::optional<Signature>& signature) {
  return arp(mac, vip, vip, signature);
}

std::vector<std::uint8_t> arp_probe(const Mac& mac, const IpAddress& vip, const std::optional<Signature>& signature) {
  return arp(mac, IpAddress(), vip, signature);
}

std::vector<std::uint8_t> unsolicited_na(const Mac& mac, const IpAddress& source, const IpAddress& vip,
                                         const std::optional<Signature>& signature) {
  require(vip, Family::V6, "NA target");
  require(source, Family::V6, "NA source");
  std::vector<std::uint8_t> icmp = {kNeighbourAdvert, 0, 0, 0, 0x20, 0, 0, 0};  // Override only
  put(icmp, vip.bytes(), 16);
  icmp.push_back(kTargetLinkLayer);
  icmp.push_back(1);  // in units of 8 bytes
  put(icmp, mac, 6);
  put_signature_option(icmp, signature);
  const IpAddress all_nodes = *IpAddress::parse("ff02::1");
  return icmpv6_frame(multicast_mac(all_nodes), mac, source, all_nodes, std::move(icmp));
}

std::vector<std::uint8_t> neighbour_probe(const Mac& mac, const IpAddress& vip,
                                          const std::optional<Signature>& signature) {
  require(vip, Family::V6, "NS target");
  std::vector<std::uint8_t> icmp = {kNeighbourSolicitation, 0, 0, 0, 0, 0, 0, 0};
  put(icmp, vip.bytes(), 16);
  put_signature_option(icmp, signature);
  const IpAddress group_address = solicited_node_group(vip);
  return icmpv6_frame(multicast_mac(group_address), mac, IpAddress::v6({}), group_address, std::move(icmp));
}

std::uint16_t icmpv6_checksum(const IpAddress& source, const IpAddress& destination,
                              std::span<const std::uint8_t> message) {
  std::uint32_t sum = 0;
  auto add = [&](std::span<const std::uint8_t> data) {
    for (std::size_t i = 0; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
    if (data.size() % 2) sum += static_cast<std::uint32_t>(data.back() << 8);
  };
  add(source.bytes());
  add(destination.bytes());
  sum += static_cast<std::uint32_t>(message.size() >> 16) + static_cast<std::uint32_t>(message.size() & 0xFFFF);
  sum += kIcmpv6;
  add(message);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::optional<ArpMessage> parse_arp(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernet + kArp || get16(frame, 12) != kEtherArp) return std::nullopt;
  const auto a = frame.subspan(kEthernet);
  if (get16(a, 0) != ARPHRD_ETHER || get16(a, 2) != ETHERTYPE_IP || a[4] != 6 || a[5] != 4) return std::nullopt;
  ArpMessage m{.op = get16(a, 6), .sender_mac = mac_at(a, 8), .sender_ip = v4_at(a, 14),
               .target_mac = mac_at(a, 18), .target_ip = v4_at(a, 24), .signature = std::nullopt};
  if (a.size() >= kArp + kArpSignature) {
    m.signature = signature_head(a, kArp);
    if (m.signature) m.signature->primary = v4_at(a, kArp + 7);
  }
  return m;
}

namespace {

// An ND message's addresses and its ICMPv6 part, once RFC 4861 7.1's checks common to
// solicitations and advertisements pass: no extension header, hop limit 255, code 0, at
// least 24 bytes, a valid checksum, a target that is not multicast.
struct NdMessage {
  IpAddress source;
  IpAddress destination;
  std::span<const std::uint8_t> icmp;
  IpAddress target;
};

std::optional<NdMessage> nd_message(std::span<const std::uint8_t> frame, std::uint8_t type) {
  if (frame.size() < kEthernet + kIpv6Header + kNdMessage || get16(frame, 12) != kEtherIpv6) return std::nullopt;
  const auto ip = frame.subspan(kEthernet);
  const std::size_t length = get16(ip, 4);
  if (ip[0] >> 4 != 6 || ip[6] != kIcmpv6 || ip[7] != 255 || length < kNdMessage || kIpv6Header + length > ip.size())
    return std::nullopt;
  NdMessage m{.source = v6_at(ip, 8), .destination = v6_at(ip, 24), .icmp = ip.subspan(kIpv6Header, length), .target = {}};
  if (m.icmp[0] != type || m.icmp[1] != 0 || icmpv6_checksum(m.source, m.destination, m.icmp) != 0) return std::nullopt;
  m.target = v6_at(m.icmp, 8);
  if (m.target.is_multicast()) return std::nullopt;
  return m;
}

// ff02::1:ff00:0/104.
bool is_solicited_node_group(const IpAddress& address) {
  const std::array<std::uint8_t, 13> prefix = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  return address.is_v6() && std::equal(prefix.begin(), prefix.end(), address.bytes().begin());
}

struct NdOptions {
  std::optional<Mac> source_mac;
  std::optional<Mac> target_mac;
  std::optional<Signature> signature;
};

// The options after the 24-byte message; nullopt when one has length 0 or runs past the end.
std::optional<NdOptions> nd_options(std::span<const std::uint8_t> icmp) {
  NdOptions o;
  for (std::size_t at = kNdMessage; at < icmp.size();) {
    if (icmp.size() - at < 2 || icmp[at + 1] == 0) return std::nullopt;
    const std::size_t size = icmp[at + 1] * 8u;
    if (icmp.size() - at < size) return std::nullopt;
    if (icmp[at] == kSourceLinkLayer && size >= 8) o.source_mac = mac_at(icmp, at + 2);
    if (icmp[at] == kTargetLinkLayer && size >= 8) o.target_mac = mac_at(icmp, at + 2);
    if (icmp[at] == kSignatureOption && size == kSignatureOptionSize) {
      o.signature = signature_head(icmp, at + 2);
      if (o.signature) o.signature->primary = v6_at(icmp, at + kSignatureOptionAddress);
    }
    at += size;
  }
  return o;
}

}  // namespace

std::optional<NeighbourAdvert> parse_na(std::span<const std::uint8_t> frame) {
  const auto m = nd_message(frame, kNeighbourAdvert);
  if (!m) return std::nullopt;
  const auto options = nd_options(m->icmp);
  if (!options) return std::nullopt;
  return NeighbourAdvert{.ethernet_source = mac_at(frame, 6),
                         .source = m->source,
                         .destination = m->destination,
                         .target = m->target,
                         .router = (m->icmp[4] & 0x80) != 0,
                         .solicited = (m->icmp[4] & 0x40) != 0,
                         .override_flag = (m->icmp[4] & 0x20) != 0,
                         .target_mac = options->target_mac,
                         .signature = options->signature};
}

std::optional<NeighbourSolicitation> parse_ns(std::span<const std::uint8_t> frame) {
  const auto m = nd_message(frame, kNeighbourSolicitation);
  if (!m) return std::nullopt;
  const auto options = nd_options(m->icmp);
  if (!options) return std::nullopt;
  if (m->source.is_unspecified() && (!is_solicited_node_group(m->destination) || options->source_mac))
    return std::nullopt;
  return NeighbourSolicitation{.ethernet_source = mac_at(frame, 6),
                               .source = m->source,
                               .destination = m->destination,
                               .target = m->target,
                               .source_mac = options->source_mac,
                               .signature = options->signature};
}

boost::system::result<Announcer, std::string> Announcer::open(const std::string& interface, std::optional<Mac> mac) {
  using Result = boost::system::result<Announcer, std::string>;
  auto fail = [](std::string why) { return Result(boost::system::in_place_error, std::move(why)); };
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0) return fail(fmt::format("no interface {}", interface));
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(fmt::format("cannot open a packet socket: {}", std::strerror(errno)));
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFHWADDR, &request) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(fmt::format("cannot read the MAC address of {}: {}", interface, std::strerror(error)));
  }
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    ::close(fd);
    return fail(fmt::format("{} is not an Ethernet interface", interface));
  }
  Mac own;
  std::memcpy(own.data(), request.ifr_hwaddr.sa_data, 6);
  return Announcer(fd, interface, ifindex, mac.value_or(own));
}

Announcer::Announcer(int fd, std::string interface, unsigned ifindex, const Mac& mac)
    : fd_(fd), interface_(std::move(interface)), ifindex_(ifindex), mac_(mac) {}

Announcer::~Announcer() {
  if (fd_ >= 0) ::close(fd_);
}

Announcer::Announcer(Announcer&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      interface_(std::move(other.interface_)),
      ifindex_(other.ifindex_),
      mac_(other.mac_),
      signature_(std::move(other.signature_)),
      sent_(other.sent_),
      send_errors_(other.send_errors_) {}

Announcer& Announcer::operator=(Announcer&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    interface_ = std::move(other.interface_);
    ifindex_ = other.ifindex_;
    mac_ = other.mac_;
    signature_ = std::move(other.signature_);
    sent_ = other.sent_;
    send_errors_ = other.send_errors_;
  }
  return *this;
}

boost::system::error_code Announcer::announce(const IpAddress& vip) {
  if (vip.is_v4()) return send(gratuitous_arp(mac_, vip, signature_));
  // Looked up each time: the link-local address can come and go with the link.
  const auto source = interface_address(interface_, Family::V6);
  if (!source) return make_error_code(boost::system::errc::address_not_available);
  return send(unsolicited_na(mac_, *source, vip, signature_));
}

boost::system::error_code Announcer::probe(const IpAddress& vip) {
  return send(vip.is_v4() ? arp_probe(mac_, vip, signature_) : neighbour_probe(mac_, vip, signature_));
}

boost::system::error_code Announcer::send(std::span<const std::uint8_t> frame) {
  if (fd_ < 0) return make_error_code(boost::system::errc::bad_file_descriptor);
  if (frame.size() < kEthernet) return make_error_code(boost::system::errc::invalid_argument);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(ifindex_);
  std::memcpy(&to.sll_protocol, frame.data() + 12, 2);  // already in network order
  for (;;) {
    if (::sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) {
      ++sent_;
      return {};
    }
    if (errno != EINTR) break;
  }
  ++send_errors_;
  return system_error(errno);
}

}  // namespace lvsd::vrrp
