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
constexpr std::uint8_t kTargetLinkLayer = 2;  // RFC 4861 4.6.1 option type
constexpr std::size_t kEthernet = 14, kIpv6Header = 40, kArp = 28, kNdMessage = 24;
constexpr Mac kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

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

std::vector<std::uint8_t> arp(const Mac& mac, const IpAddress& sender, const IpAddress& vip) {
  require(vip, Family::V4, "ARP target");
  std::vector<std::uint8_t> f;
  f.reserve(kEthernet + kArp);
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
  return f;
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

// RFC 2464 7: 33:33 and the last four bytes of the group.
Mac multicast_mac(const IpAddress& group) {
  const auto& b = group.bytes();
  return {0x33, 0x33, b[12], b[13], b[14], b[15]};
}

boost::system::error_code system_error(int error) { return {error, boost::system::system_category()}; }

}  // namespace

std::string to_string(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

Mac virtual_mac(std::uint8_t vrid, Family family) {
  return {0x00, 0x00, 0x5e, 0x00, static_cast<std::uint8_t>(family == Family::V4 ? 0x01 : 0x02), vrid};
}

std::vector<std::uint8_t> gratuitous_arp(const Mac& mac, const IpAddress& vip) { return arp(mac, vip, vip); }

std::vector<std::uint8_t> arp_probe(const Mac& mac, const IpAddress& vip) { return arp(mac, IpAddress(), vip); }

std::vector<std::uint8_t> unsolicited_na(const Mac& mac, const IpAddress& source, const IpAddress& vip) {
  require(vip, Family::V6, "NA target");
  require(source, Family::V6, "NA source");
  std::vector<std::uint8_t> icmp = {kNeighbourAdvert, 0, 0, 0, 0x20, 0, 0, 0};  // Override only
  put(icmp, vip.bytes(), 16);
  icmp.push_back(kTargetLinkLayer);
  icmp.push_back(1);  // in units of 8 bytes
  put(icmp, mac, 6);
  const IpAddress all_nodes = *IpAddress::parse("ff02::1");
  return icmpv6_frame(multicast_mac(all_nodes), mac, source, all_nodes, std::move(icmp));
}

std::vector<std::uint8_t> neighbour_probe(const Mac& mac, const IpAddress& vip) {
  require(vip, Family::V6, "NS target");
  std::vector<std::uint8_t> icmp = {kNeighbourSolicitation, 0, 0, 0, 0, 0, 0, 0};
  put(icmp, vip.bytes(), 16);
  // The solicited-node group: ff02::1:ff and the last three bytes of the address.
  std::array<std::uint8_t, 16> g = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  std::copy_n(vip.bytes().begin() + 13, 3, g.begin() + 13);
  const IpAddress group_address = IpAddress::v6(g);
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
  return ArpMessage{.op = get16(a, 6), .sender_mac = mac_at(a, 8), .sender_ip = v4_at(a, 14),
                    .target_mac = mac_at(a, 18), .target_ip = v4_at(a, 24)};
}

std::optional<NeighbourAdvert> parse_na(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernet + kIpv6Header + kNdMessage || get16(frame, 12) != kEtherIpv6) return std::nullopt;
  const auto ip = frame.subspan(kEthernet);
  const std::size_t length = get16(ip, 4);
  if (ip[0] >> 4 != 6 || ip[6] != kIcmpv6 || ip[7] != 255 || length < kNdMessage || kIpv6Header + length > ip.size())
    return std::nullopt;
  const auto icmp = ip.subspan(kIpv6Header, length);
  NeighbourAdvert na;
  na.source = v6_at(ip, 8);
  na.destination = v6_at(ip, 24);
  if (icmp[0] != kNeighbourAdvert || icmp[1] != 0 || icmpv6_checksum(na.source, na.destination, icmp) != 0)
    return std::nullopt;
  na.ethernet_source = mac_at(frame, 6);
  na.router = (icmp[4] & 0x80) != 0;
  na.solicited = (icmp[4] & 0x40) != 0;
  na.override_flag = (icmp[4] & 0x20) != 0;
  na.target = v6_at(icmp, 8);
  if (na.target.is_multicast()) return std::nullopt;
  for (std::size_t at = kNdMessage; at < icmp.size();) {
    if (icmp.size() - at < 2 || icmp[at + 1] == 0) return std::nullopt;
    const std::size_t size = icmp[at + 1] * 8u;
    if (icmp.size() - at < size) return std::nullopt;
    if (icmp[at] == kTargetLinkLayer && size >= 8) na.target_mac = mac_at(icmp, at + 2);
    at += size;
  }
  return na;
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
      sent_(other.sent_),
      send_errors_(other.send_errors_) {}

Announcer& Announcer::operator=(Announcer&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    interface_ = std::move(other.interface_);
    ifindex_ = other.ifindex_;
    mac_ = other.mac_;
    sent_ = other.sent_;
    send_errors_ = other.send_errors_;
  }
  return *this;
}

boost::system::error_code Announcer::announce(const IpAddress& vip) {
  if (vip.is_v4()) return send(gratuitous_arp(mac_, vip));
  // Looked up each time: the link-local address can come and go with the link.
  const auto source = interface_address(interface_, Family::V6);
  if (!source) return make_error_code(boost::system::errc::address_not_available);
  return send(unsolicited_na(mac_, *source, vip));
}

boost::system::error_code Announcer::probe(const IpAddress& vip) {
  return send(vip.is_v4() ? arp_probe(mac_, vip) : neighbour_probe(mac_, vip));
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
