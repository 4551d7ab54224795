// ICMP echo over two shared raw sockets: requests out, replies and errors matched back.
#include "lvsd/check/icmp_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <linux/icmp.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

namespace lvsd::check {
namespace asio = boost::asio;

namespace {

constexpr std::uint8_t kEchoRequest4 = 8, kEchoReply4 = 0, kUnreachable4 = 3;
constexpr std::uint8_t kEchoRequest6 = 128, kEchoReply6 = 129, kUnreachable6 = 1;
constexpr std::size_t kEchoHeader = 8;  // type, code, checksum, identifier, sequence
constexpr std::size_t kIpv6Header = 40;
constexpr int kPacketsPerWake = 64;  // then let the other work of the loop run

std::uint16_t get16(std::span<const std::uint8_t> p, std::size_t at) {
  return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]);
}

std::uint8_t pattern(std::size_t i) { return static_cast<std::uint8_t>(i); }

std::string system_words(int error) { return std::error_code(error, std::system_category()).message(); }

// ICMP's words for a destination unreachable, by code (RFC 792, RFC 4443).
std::string unreachable(bool v6, std::uint8_t code) {
  if (!v6) {
    switch (code) {
      case 0:
      case 6:
      case 11:
        return "network unreachable";
      case 1:
      case 7:
      case 12:
        return "host unreachable";
      case 2:
        return "protocol unreachable";
      case 3:
        return "port unreachable";
      case 9:
      case 10:
      case 13:
        return "administratively prohibited";
    }
  } else {
    switch (code) {
      case 0:
        return "network unreachable";  // no route
      case 1:
      case 5:
      case 6:
        return "administratively prohibited";
      case 3:
        return "host unreachable";  // address unreachable
      case 4:
        return "port unreachable";
    }
  }
  return fmt::format("destination unreachable (code {})", code);
}

// A request waiting in its probe's frame for the receive loop to answer it.
struct Waiter {
  model::IpAddress to;
  std::uint16_t payload_size;
  asio::steady_timer wake;  // cancelled when `answer` is in
  std::optional<Result> answer;
};

model::IpAddress address_of(const sockaddr_storage& from) {
  if (from.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(from);
    return model::IpAddress::v4(ntohl(in.sin_addr.s_addr));
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(from);
  std::array<std::uint8_t, 16> b;
  std::memcpy(b.data(), &in6.sin6_addr, 16);
  return model::IpAddress::v6(b);
}

model::IpAddress address_at(std::span<const std::uint8_t> p, std::size_t at, bool v6) {
  std::array<std::uint8_t, 16> b{};
  if (!v6)
    return model::IpAddress::v4(static_cast<std::uint32_t>(p[at] << 24 | p[at + 1] << 16 | p[at + 2] << 8 | p[at + 3]));
  std::copy_n(p.begin() + static_cast<std::ptrdiff_t>(at), 16, b.begin());
  return model::IpAddress::v6(b);
}

}  // namespace

struct IcmpSockets::Family {
  Family(asio::any_io_executor executor, bool is_v6, std::uint16_t id)
      : socket(std::move(executor)), v6(is_v6), identifier(id) {}

  asio::ip::icmp::socket socket;
  const bool v6;
  const std::uint16_t identifier;
  std::uint16_t next_sequence = 0;
  std::unordered_map<std::uint16_t, Waiter*> waiting;  // by sequence number
  bool receiving = false;
  std::uint64_t ignored = 0;
  std::vector<std::uint8_t> buffer;

  // Opens the socket on first use; the error in words otherwise.
  std::optional<std::string> open() {
    if (socket.is_open()) return std::nullopt;
    boost::system::error_code ec;
    socket.open(v6 ? asio::ip::icmp::v6() : asio::ip::icmp::v4(), ec);
    if (ec) return fmt::format("cannot open an {} socket: {}", v6 ? "ICMPv6" : "ICMP", ec.message());
    // Only echo replies and destination unreachables reach us: not the echo requests that
    // loopback probes deliver to every raw socket, nor neighbour discovery.
    int rc;
    if (v6) {
      icmp6_filter filter;
      ICMP6_FILTER_SETBLOCKALL(&filter);
      ICMP6_FILTER_SETPASS(kEchoReply6, &filter);
      ICMP6_FILTER_SETPASS(kUnreachable6, &filter);
      rc = ::setsockopt(socket.native_handle(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
    } else {
      icmp_filter filter{~(1u << kEchoReply4 | 1u << kUnreachable4)};  // a set bit blocks
      rc = ::setsockopt(socket.native_handle(), SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
    }
    if (rc != 0) {
      const int error = errno;
      socket.close(ec);
      return fmt::format("cannot filter the {} socket: {}", v6 ? "ICMPv6" : "ICMP", system_words(error));
    }
    socket.non_blocking(true, ec);
    buffer.resize(65536);
    return std::nullopt;
  }

  std::optional<std::uint16_t> new_sequence() {
    if (waiting.size() > 0xFFFF) return std::nullopt;
    for (;;)
      if (const std::uint16_t s = next_sequence++; !waiting.contains(s)) return s;
  }

  // Removes the request if it still waits; the last one leaving stops the receive loop.
  void forget(std::uint16_t sequence, const Waiter* w) {
    if (auto it = waiting.find(sequence); it != waiting.end() && it->second == w) waiting.erase(it);
    if (waiting.empty() && socket.is_open()) {
      boost::system::error_code ec;
      socket.cancel(ec);
    }
  }

  void start_receiving(const std::shared_ptr<Family>& self) {
    if (receiving) return;
    receiving = true;
    asio::co_spawn(socket.get_executor(), receive(self), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);  // a bug: out of io_context::run(), loudly
    });
  }

  // Runs while requests wait; each wake reads what is queued.
  static asio::awaitable<void> receive(std::shared_ptr<Family> self) {
    Family& f = *self;
    while (!f.waiting.empty() && f.socket.is_open()) {
      auto [ec] = co_await f.socket.async_wait(asio::socket_base::wait_read, asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) continue;  // the last request left, or closed
      if (ec) break;  // the waiting requests time out; the next one starts a new loop
      f.drain();
    }
    f.receiving = false;
  }

  void drain() {
    for (int i = 0; i < kPacketsPerWake && !waiting.empty(); ++i) {
      sockaddr_storage from{};
      socklen_t from_size = sizeof from;
      const auto n = ::recvfrom(socket.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                reinterpret_cast<sockaddr*>(&from), &from_size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // EAGAIN: all read
      }
      if (!handle(std::span(buffer.data(), static_cast<std::size_t>(n)), address_of(from))) ++ignored;
    }
  }

  // Whether the packet answered a waiting request.
  bool handle(std::span<const std::uint8_t> packet, const model::IpAddress& from) {
    std::span<const std::uint8_t> icmp = packet;
    if (!v6) {  // a raw IPv4 socket reads the IP header too
      if (packet.size() < 20 || packet[0] >> 4 != 4) return false;
      const std::size_t header = (packet[0] & 0x0F) * 4u;
      if (header < 20 || packet.size() < header) return false;
      icmp = packet.subspan(header);
    }
    if (icmp.size() < kEchoHeader) return false;
    if (!v6 && internet_checksum(icmp) != 0) return false;  // the kernel checked ICMPv6's
    const std::uint8_t type = icmp[0];
    if (type == (v6 ? kEchoReply6 : kEchoReply4)) {
      if (get16(icmp, 4) != identifier) return false;
      const auto it = waiting.find(get16(icmp, 6));
      if (it == waiting.end() || it->second->to != from) return false;
      const auto payload = icmp.subspan(kEchoHeader);
      if (payload.size() != it->second->payload_size) return false;
      for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i] != pattern(i)) return false;
      answer(it, success("echo reply"));
      return true;
    }
    if (type == (v6 ? kUnreachable6 : kUnreachable4)) {
      // The error quotes our request's IP header and at least its first 8 bytes.
      const auto quoted = icmp.subspan(kEchoHeader);
      std::size_t header = kIpv6Header;
      if (v6) {
        if (quoted.size() < kIpv6Header + kEchoHeader || quoted[0] >> 4 != 6 || quoted[6] != IPPROTO_ICMPV6)
          return false;
      } else {
        if (quoted.size() < 20 || quoted[0] >> 4 != 4 || quoted[9] != IPPROTO_ICMP) return false;
        header = (quoted[0] & 0x0F) * 4u;
        if (header < 20 || quoted.size() < header + kEchoHeader) return false;
      }
      const auto request = quoted.subspan(header);
      if (request[0] != (v6 ? kEchoRequest6 : kEchoRequest4) || get16(request, 4) != identifier) return false;
      const auto it = waiting.find(get16(request, 6));
      if (it == waiting.end() || it->second->to != address_at(quoted, v6 ? 24 : 16, v6)) return false;
      answer(it, failure(unreachable(v6, icmp[1])));
      return true;
    }
    return false;
  }

  void answer(std::unordered_map<std::uint16_t, Waiter*>::iterator it, Result r) {
    Waiter& w = *it->second;
    waiting.erase(it);
    w.answer = std::move(r);
    w.wake.cancel();
  }

  std::vector<std::uint8_t> request(std::uint16_t sequence, std::uint16_t payload_size) const {
    std::vector<std::uint8_t> p(kEchoHeader + payload_size);
    p[0] = v6 ? kEchoRequest6 : kEchoRequest4;
    p[4] = static_cast<std::uint8_t>(identifier >> 8);
    p[5] = static_cast<std::uint8_t>(identifier);
    p[6] = static_cast<std::uint8_t>(sequence >> 8);
    p[7] = static_cast<std::uint8_t>(sequence);
    for (std::size_t i = 0; i < payload_size; ++i) p[kEchoHeader + i] = pattern(i);
    if (!v6) {
      const std::uint16_t sum = internet_checksum(p);
      p[2] = static_cast<std::uint8_t>(sum >> 8);
      p[3] = static_cast<std::uint8_t>(sum);
    }
    return p;
  }

  // sendmsg: the source address and interface go with the packet (IP_PKTINFO,
  // IPV6_PKTINFO), since the socket is shared and cannot be bound. 0 or errno.
  int send(std::span<const std::uint8_t> packet, const Target& target, unsigned interface) {
    sockaddr_storage to{};
    socklen_t to_size;
    const auto& bytes = target.endpoint.address.bytes();
    if (v6) {
      auto& in6 = reinterpret_cast<sockaddr_in6&>(to);
      in6.sin6_family = AF_INET6;
      std::memcpy(&in6.sin6_addr, bytes.data(), 16);
      to_size = sizeof in6;
    } else {
      auto& in = reinterpret_cast<sockaddr_in&>(to);
      in.sin_family = AF_INET;
      std::memcpy(&in.sin_addr, bytes.data(), 4);
      to_size = sizeof in;
    }
    iovec iov{const_cast<std::uint8_t*>(packet.data()), packet.size()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = to_size;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<std::uint8_t, CMSG_SPACE(sizeof(in6_pktinfo))> control{};
    if (target.bind_address || interface != 0) {
      msg.msg_control = control.data();
      cmsghdr* c = reinterpret_cast<cmsghdr*>(control.data());
      if (v6) {
        in6_pktinfo info{};
        if (target.bind_address) std::memcpy(&info.ipi6_addr, target.bind_address->bytes().data(), 16);
        info.ipi6_ifindex = interface;
        c->cmsg_len = CMSG_LEN(sizeof info);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        msg.msg_controllen = CMSG_SPACE(sizeof info);
      } else {
        in_pktinfo info{};
        if (target.bind_address) std::memcpy(&info.ipi_spec_dst, target.bind_address->bytes().data(), 4);
        info.ipi_ifindex = static_cast<int>(interface);
        c->cmsg_len = CMSG_LEN(sizeof info);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
        msg.msg_controllen = CMSG_SPACE(sizeof info);
      }
    }
    for (;;) {
      if (::sendmsg(socket.native_handle(), &msg, 0) >= 0) return 0;
      if (errno != EINTR) return errno;
    }
  }
};

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (data.size() % 2) sum += static_cast<std::uint32_t>(data.back() << 8);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::uint16_t process_identifier() { return static_cast<std::uint16_t>(::getpid()); }

IcmpSockets::IcmpSockets(asio::any_io_executor executor, std::uint16_t identifier)
    : identifier_(identifier),
      v4_(std::make_shared<Family>(executor, false, identifier)),
      v6_(std::make_shared<Family>(executor, true, identifier)) {}

IcmpSockets::~IcmpSockets() {
  // A receive loop still suspended holds its Family; closed, it ends when it next runs.
  boost::system::error_code ec;
  v4_->socket.close(ec);
  v6_->socket.close(ec);
}

std::size_t IcmpSockets::pending() const { return v4_->waiting.size() + v6_->waiting.size(); }

std::uint64_t IcmpSockets::ignored() const { return v4_->ignored + v6_->ignored; }

asio::awaitable<Result> IcmpSockets::echo(const Target& target, std::uint16_t payload_size) {
  const auto& to = target.endpoint.address;
  const std::shared_ptr<Family> family = to.is_v4() ? v4_ : v6_;
  Family& f = *family;
  if (target.bind_address && target.bind_address->family() != to.family())
    co_return failure(fmt::format("cannot send from {} to an {} address", target.bind_address->to_string(),
                                  model::to_string(to.family())));
  unsigned interface = 0;
  if (!target.bind_interface.empty()) {
    interface = ::if_nametoindex(target.bind_interface.c_str());
    if (interface == 0)
      co_return failure("cannot bind to interface " + target.bind_interface + ": " + system_words(errno));
  }
  if (auto error = f.open()) co_return failure(*error);
  const auto sequence = f.new_sequence();
  if (!sequence) co_return failure("65536 echo requests already wait");

  Waiter w{.to = to,
           .payload_size = payload_size,
           .wake = asio::steady_timer(f.socket.get_executor(), Clock::time_point::max()),
           .answer = std::nullopt};
  f.waiting.emplace(*sequence, &w);
  // However this frame ends (answered, failed, cancelled by the attempt's timeout or
  // destroyed), the entry goes with it: a late reply then finds nothing.
  struct Forget {
    Family& f;
    std::uint16_t sequence;
    const Waiter* w;
    ~Forget() { f.forget(sequence, w); }
  } forget{f, *sequence, &w};
  f.start_receiving(family);

  const auto packet = f.request(*sequence, payload_size);
  for (;;) {
    const int error = f.send(packet, target, interface);
    if (error == 0) break;
    if (error == EAGAIN || error == EWOULDBLOCK) {  // the send buffer is full: wait for room
      auto [ec] = co_await f.socket.async_wait(asio::socket_base::wait_write, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return failure("cannot send: " + ec.message());
      continue;
    }
    // With a source address the kernel says ENETUNREACH (IPv4) or EINVAL (IPv6) when the
    // address is not one of ours: the address is the likelier cause, so it is named.
    if (target.bind_address)
      co_return failure("cannot send from " + target.bind_address->to_string() + ": " + system_words(error));
    if (error == ENETUNREACH) co_return failure("network unreachable");
    if (error == EHOSTUNREACH) co_return failure("host unreachable");
    co_return failure("cannot send: " + system_words(error));
  }
  co_await w.wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (w.answer) co_return *w.answer;
  co_return failure("echo request cancelled");  // attempt() reports its own timeout
}

IcmpProber::IcmpProber(IcmpSockets& sockets, model::IcmpCheck check) : sockets_(sockets), check_(check) {}

asio::awaitable<Result> IcmpProber::probe(const Target& target) {
  co_return co_await sockets_.echo(target, check_.payload_size);
}

}  // namespace lvsd::check
