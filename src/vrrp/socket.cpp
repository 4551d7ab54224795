// The raw VRRP socket of one instance: options, sending, and reading IP headers and cmsgs.
#include "lvsd/vrrp/socket.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/generic/raw_protocol.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace lvsd::vrrp {
namespace asio = boost::asio;
using model::Family;
using model::IpAddress;

namespace {

constexpr int kTtl = 255;  // RFC 3768 7.1 / RFC 5798 7.1: receivers drop anything else
// The largest valid advert is 8 + 255 * 16 bytes (v3, IPv6) plus an IPv4 header with
// options; anything bigger is truncated (MSG_TRUNC) and skipped.
constexpr std::size_t kBufferSize = 8192;

std::string system_words(int error) { return std::error_code(error, std::system_category()).message(); }

IpAddress v4_at(std::span<const std::uint8_t> p) {
  return IpAddress::v4(static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
                       static_cast<std::uint32_t>(p[2]) << 8 | p[3]);
}

IpAddress v6_of(const in6_addr& a) {
  std::array<std::uint8_t, 16> b;
  std::memcpy(b.data(), &a, 16);
  return IpAddress::v6(b);
}

template <class T>
int set(int fd, int level, int name, const T& value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

}  // namespace

IpAddress group(Family family) {
  if (family == Family::V4) return IpAddress::v4(0xE0000012);
  return IpAddress::v6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12});
}

std::optional<IpAddress> interface_address(std::string_view interface, Family family) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<IpAddress> found;
  for (const ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || interface != a->ifa_name) continue;
    if (family == Family::V4 && a->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      found = IpAddress::v4(ntohl(in->sin_addr.s_addr));
    } else if (family == Family::V6 && a->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) found = v6_of(in6->sin6_addr);
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::optional<Ipv4Packet> parse_ipv4(std::span<const std::uint8_t> packet) {
  if (packet.size() < 20 || packet[0] >> 4 != 4) return std::nullopt;
  const std::size_t header = (packet[0] & 0x0Fu) * 4u;
  // Linux hands raw sockets the total length in network order (BSDs do not).
  const std::size_t total = static_cast<std::size_t>(packet[2] << 8 | packet[3]);
  if (header < 20 || total < header || total > packet.size() || packet[9] != kProtocol) return std::nullopt;
  Ipv4Packet p;
  p.envelope.ttl = packet[8];
  p.envelope.source = v4_at(packet.subspan(12, 4));
  p.envelope.destination = v4_at(packet.subspan(16, 4));
  p.payload = packet.subspan(header, total - header);
  return p;
}

std::optional<Drop> screen_source(const IpAddress& source, std::span<const IpAddress> peers) {
  if (peers.empty() || std::find(peers.begin(), peers.end(), source) != peers.end()) return std::nullopt;
  return Drop::NotAPeer;
}

struct AdvertSocket::State {
  explicit State(asio::any_io_executor executor) : socket(std::move(executor)) {}

  asio::generic::raw_protocol::socket socket;
  Family family = Family::V4;
  unsigned ifindex = 0;
  IpAddress source;
  std::vector<IpAddress> peers;
  std::vector<IpAddress> destinations;
  SocketCounters counters;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(kBufferSize);

  // 0 or errno. The source and interface go with each packet (see the class comment).
  int send(std::span<const std::uint8_t> payload, const IpAddress& to) {
    sockaddr_storage address{};
    socklen_t address_size;
    alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
    msghdr msg{};
    msg.msg_control = control.data();
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control.data());
    if (family == Family::V4) {
      auto& in = reinterpret_cast<sockaddr_in&>(address);
      in.sin_family = AF_INET;
      std::memcpy(&in.sin_addr, to.bytes().data(), 4);
      address_size = sizeof in;
      in_pktinfo info{};
      info.ipi_ifindex = static_cast<int>(ifindex);
      std::memcpy(&info.ipi_spec_dst, source.bytes().data(), 4);
      c->cmsg_len = CMSG_LEN(sizeof info);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    } else {
      auto& in6 = reinterpret_cast<sockaddr_in6&>(address);
      in6.sin6_family = AF_INET6;
      std::memcpy(&in6.sin6_addr, to.bytes().data(), 16);
      in6.sin6_scope_id = ifindex;  // ff02::12 and link-local peers are scoped to the link
      address_size = sizeof in6;
      in6_pktinfo info{};
      info.ipi6_ifindex = ifindex;
      std::memcpy(&info.ipi6_addr, source.bytes().data(), 16);
      c->cmsg_len = CMSG_LEN(sizeof info);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    }
    iovec iov{const_cast<std::uint8_t*>(payload.data()), payload.size()};
    msg.msg_name = &address;
    msg.msg_namelen = address_size;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
      if (::sendmsg(socket.native_handle(), &msg, MSG_DONTWAIT) >= 0) {
        ++counters.sent;
        return 0;
      }
      if (errno != EINTR) break;
    }
    ++counters.send_errors;
    return errno;
  }

  // One packet read without waiting: a Received, or nullopt with `error` set to 0 (skipped
  // a malformed one), EAGAIN (nothing queued) or the failure.
  std::optional<Received> read(int& error) {
    sockaddr_in6 from{};
    alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int))> control{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const auto n = ::recvmsg(socket.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      error = errno == EINTR ? 0 : errno;
      if (error != 0 && error != EAGAIN && error != EWOULDBLOCK) ++counters.receive_errors;
      return std::nullopt;
    }
    error = 0;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
      ++counters.malformed;
      return std::nullopt;
    }
    const std::span<const std::uint8_t> packet(buffer.data(), static_cast<std::size_t>(n));
    Received r;
    if (family == Family::V4) {
      const auto p = parse_ipv4(packet);
      if (!p) {
        ++counters.malformed;
        return std::nullopt;
      }
      r.envelope = p->envelope;
      r.payload.assign(p->payload.begin(), p->payload.end());
    } else {
      // IPv6 raw sockets read no header: the hop limit and destination come as cmsgs.
      bool have_hops = false, have_destination = false;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int hops;
          std::memcpy(&hops, CMSG_DATA(c), sizeof hops);
          r.envelope.ttl = static_cast<std::uint8_t>(hops);
          have_hops = true;
        } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
          in6_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          r.envelope.destination = v6_of(info.ipi6_addr);
          have_destination = true;
        }
      }
      if (!have_hops || !have_destination || from.sin6_family != AF_INET6) {
        ++counters.malformed;
        return std::nullopt;
      }
      r.envelope.source = v6_of(from.sin6_addr);
      r.payload.assign(packet.begin(), packet.end());
    }
    r.drop = screen_source(r.envelope.source, peers);
    ++counters.received;
    return r;
  }

  static asio::awaitable<boost::system::result<Received>> receive(std::shared_ptr<State> self) {
    for (;;) {
      int error = 0;
      while (self->socket.is_open()) {
        if (auto r = self->read(error)) co_return std::move(*r);
        if (error != 0) break;
      }
      if (!self->socket.is_open()) co_return boost::system::error_code(asio::error::operation_aborted);
      if (error != EAGAIN && error != EWOULDBLOCK)
        co_return boost::system::error_code(error, boost::system::system_category());
      auto [ec] = co_await self->socket.async_wait(asio::socket_base::wait_read, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return ec;
    }
  }
};

boost::system::result<AdvertSocket, std::string> AdvertSocket::open(asio::any_io_executor executor,
                                                                     SocketOptions options) {
  using Result = boost::system::result<AdvertSocket, std::string>;
  auto fail = [](std::string why) { return Result(boost::system::in_place_error, std::move(why)); };
  const bool v4 = options.family == Family::V4;
  const std::string_view family_name = model::to_string(options.family);
  const IpAddress multicast = group(options.family);

  auto state = std::make_shared<State>(std::move(executor));
  State& s = *state;
  s.family = options.family;
  s.ifindex = ::if_nametoindex(options.interface.c_str());
  if (s.ifindex == 0) return fail(fmt::format("no interface {}", options.interface));
  for (const auto& peer : options.unicast_peers)
    if (peer.family() != options.family)
      return fail(fmt::format("unicast peer {} is not {}", peer.to_string(), family_name));
  if (options.source) {
    if (options.source->family() != options.family)
      return fail(fmt::format("source {} is not {}", options.source->to_string(), family_name));
    s.source = *options.source;
  } else if (auto found = interface_address(options.interface, options.family)) {
    s.source = *found;
  } else {
    return fail(fmt::format("no {} address on {}", v4 ? "IPv4" : "IPv6 link-local", options.interface));
  }
  s.peers = std::move(options.unicast_peers);
  s.destinations = s.peers.empty() ? std::vector<IpAddress>{multicast} : s.peers;

  boost::system::error_code ec;
  s.socket.open(asio::generic::raw_protocol(v4 ? AF_INET : AF_INET6, kProtocol), ec);
  if (!ec) s.socket.non_blocking(true, ec);
  if (ec) return fail(fmt::format("cannot open a raw {} VRRP socket: {}", family_name, ec.message()));
  const int fd = s.socket.native_handle();
  auto option = [&](int level, int name, const auto& value, std::string_view what) -> std::optional<std::string> {
    if (const int error = set(fd, level, name, value))
      return fmt::format("cannot set {} on the VRRP socket of {}: {}", what, options.interface, system_words(error));
    return std::nullopt;
  };
  std::optional<std::string> error;
  const int yes = 1, loop = options.multicast_loop ? 1 : 0;
  ifreq device{};
  std::strncpy(device.ifr_name, options.interface.c_str(), IFNAMSIZ - 1);
  // Bound to the device: sends leave by it, and only its packets are read.
  if (!error && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &device, sizeof device) != 0)
    error = fmt::format("cannot bind the VRRP socket to {}: {}", options.interface, system_words(errno));
  if (v4) {
    ip_mreqn request{};
    request.imr_ifindex = static_cast<int>(s.ifindex);
    if (!error) error = option(IPPROTO_IP, IP_TTL, kTtl, "IP_TTL");
    if (!error) error = option(IPPROTO_IP, IP_MULTICAST_TTL, kTtl, "IP_MULTICAST_TTL");
    if (!error) error = option(IPPROTO_IP, IP_MULTICAST_LOOP, loop, "IP_MULTICAST_LOOP");
    if (!error) error = option(IPPROTO_IP, IP_MULTICAST_IF, request, "IP_MULTICAST_IF");
    if (!error && s.peers.empty()) {
      std::memcpy(&request.imr_multiaddr, multicast.bytes().data(), 4);
      if (const int e = set(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, request))
        error = fmt::format("cannot join {} on {}: {}", multicast.to_string(), options.interface, system_words(e));
    }
  } else {
    const int ifindex = static_cast<int>(s.ifindex);
    if (!error) error = option(IPPROTO_IPV6, IPV6_UNICAST_HOPS, kTtl, "IPV6_UNICAST_HOPS");
    if (!error) error = option(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, kTtl, "IPV6_MULTICAST_HOPS");
    if (!error) error = option(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop, "IPV6_MULTICAST_LOOP");
    if (!error) error = option(IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF");
    if (!error) error = option(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, yes, "IPV6_RECVHOPLIMIT");
    if (!error) error = option(IPPROTO_IPV6, IPV6_RECVPKTINFO, yes, "IPV6_RECVPKTINFO");
    if (!error && s.peers.empty()) {
      ipv6_mreq request{};
      std::memcpy(&request.ipv6mr_multiaddr, multicast.bytes().data(), 16);
      request.ipv6mr_interface = s.ifindex;
      if (const int e = set(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, request))
        error = fmt::format("cannot join {} on {}: {}", multicast.to_string(), options.interface, system_words(e));
    }
  }
  if (error) return fail(std::move(*error));
  return AdvertSocket(std::move(state));
}

AdvertSocket::AdvertSocket(std::shared_ptr<State> state) : state_(std::move(state)) {}
AdvertSocket::~AdvertSocket() { close(); }
AdvertSocket::AdvertSocket(AdvertSocket&&) noexcept = default;
AdvertSocket& AdvertSocket::operator=(AdvertSocket&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

void AdvertSocket::close() {
  if (!state_) return;
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

boost::system::error_code AdvertSocket::send(const Advert& advert) {
  boost::system::error_code first;
  for (const auto& to : state_->destinations) {
    const auto ec = send_to(encode(advert, state_->source, to), to);
    if (ec && !first) first = ec;
  }
  return first;
}

boost::system::error_code AdvertSocket::send_to(std::span<const std::uint8_t> payload, const IpAddress& destination) {
  if (!state_->socket.is_open()) return asio::error::bad_descriptor;
  if (destination.family() != state_->family) return asio::error::address_family_not_supported;
  if (const int error = state_->send(payload, destination))
    return boost::system::error_code(error, boost::system::system_category());
  return {};
}

asio::awaitable<boost::system::result<Received>> AdvertSocket::receive() { return State::receive(state_); }

const IpAddress& AdvertSocket::source() const { return state_->source; }
const std::vector<IpAddress>& AdvertSocket::destinations() const { return state_->destinations; }
unsigned AdvertSocket::interface_index() const { return state_->ifindex; }
const SocketCounters& AdvertSocket::counters() const { return state_->counters; }

}  // namespace lvsd::vrrp
