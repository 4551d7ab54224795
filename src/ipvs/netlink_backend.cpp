// Socket I/O for the IPVS generic-netlink family: dumps, single GETs and pipelined writes.
#include "lvsd/ipvs/netlink_backend.hpp"

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "netlink_codec.hpp"

namespace lvsd::ipvs {
namespace {

namespace errc = boost::system::errc;
using boost::system::error_code;

constexpr std::size_t kSendWindow = 256 * 1024;  // bytes of requests per sendmsg
constexpr int kSocketBuffer = 32 * 1024 * 1024;
constexpr std::size_t kRecvBuffer = 1024 * 1024;

error_code from_errno(int e) { return error_code(e, boost::system::generic_category()); }

struct SockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};

}  // namespace

struct NetlinkBackend::Impl {
  std::unique_ptr<nl_sock, SockFree> sock;
  int family = 0;
  std::uint32_t seq = 1;
  std::vector<std::uint8_t> recv_buf = std::vector<std::uint8_t>(kRecvBuffer);

  int fd() const { return nl_socket_get_fd(sock.get()); }

  error_code send_bytes(const std::uint8_t* data, std::size_t len) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
      const ssize_t n = ::sendto(fd(), data, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
      if (n >= 0) return {};
      if (errno != EINTR) return from_errno(errno);
    }
  }

  // Receives one datagram; calls `each` for every netlink message in it.
  error_code receive(const std::function<void(nlmsghdr*)>& each) {
    ssize_t n;
    do n = ::recv(fd(), recv_buf.data(), recv_buf.size(), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return from_errno(errno);
    // Every whole message in the datagram (NLMSG_OK/NLMSG_NEXT, without their mixed signs).
    const auto len = static_cast<std::size_t>(n);
    for (std::size_t off = 0; len - off >= sizeof(nlmsghdr);) {
      auto* h = reinterpret_cast<nlmsghdr*>(recv_buf.data() + off);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > len - off) break;
      each(h);
      off += NLMSG_ALIGN(h->nlmsg_len);
    }
    return {};
  }

  // Sends one request and reads its replies until DONE (dumps) or its one answer.
  error_code transact(netlink::Msg msg, bool dump, const std::function<error_code(nlmsghdr*)>& on_reply) {
    const std::uint32_t my_seq = seq++;
    nlmsg_hdr(msg.get())->nlmsg_seq = my_seq;
    const auto* h = nlmsg_hdr(msg.get());
    if (auto ec = send_bytes(reinterpret_cast<const std::uint8_t*>(h), h->nlmsg_len)) return ec;
    bool done = false;
    error_code result;
    while (!done) {
      auto ec = receive([&](nlmsghdr* r) {
        if (r->nlmsg_seq != my_seq || done) return;  // a late reply to an earlier request
        if (r->nlmsg_type == NLMSG_DONE) {
          done = true;
        } else if (r->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
          if (e->error != 0) result = from_errno(-e->error);
          done = true;
        } else {
          if (!result) result = on_reply(r);
          if (!dump) done = true;
        }
      });
      if (ec) return ec;
    }
    return result;
  }
};

std::string open_error_text(const boost::system::error_code& error) {
  if (error == errc::protocol_not_supported) return std::string(kNoIpvs);
  return "cannot open a generic netlink socket: " + error.message();
}

NetlinkBackend::NetlinkBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NetlinkBackend::~NetlinkBackend() = default;

boost::system::result<std::unique_ptr<NetlinkBackend>> NetlinkBackend::open() {
  auto impl = std::make_unique<Impl>();
  impl->sock.reset(nl_socket_alloc());
  if (!impl->sock) return errc::make_error_code(errc::not_enough_memory);
  if (genl_connect(impl->sock.get()) < 0) return from_errno(errno ? errno : EPROTONOSUPPORT);
  const int family = genl_ctrl_resolve(impl->sock.get(), "IPVS");
  if (family < 0) return errc::make_error_code(errc::protocol_not_supported);
  impl->family = family;
  const int fd = impl->fd();
  // Root may exceed the system's buffer limits: a big batch's acknowledgements must fit.
  int size = kSocketBuffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  // Acknowledgements carry the request's header only, not the whole request.
  int one = 1;
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return std::unique_ptr<NetlinkBackend>(new NetlinkBackend(std::move(impl)));
}

boost::system::result<Table> NetlinkBackend::dump() {
  Table table;
  auto ec = impl_->transact(netlink::encode_dump_services(impl_->family), true, [&](nlmsghdr* h) -> error_code {
    auto s = netlink::decode_service(h);
    if (!s) return s.error();
    table.push_back({std::move(*s), {}});
    return {};
  });
  if (ec) return ec;
  for (auto& entry : table) {
    const auto family = entry.service.key.family;
    ec = impl_->transact(netlink::encode_dump_destinations(impl_->family, entry.service.key), true,
                         [&](nlmsghdr* h) -> error_code {
                           auto d = netlink::decode_destination(h, family);
                           if (!d) return d.error();
                           entry.destinations.push_back(std::move(*d));
                           return {};
                         });
    // A service deleted between the two dumps is simply gone.
    if (ec == errc::no_such_process) continue;
    if (ec) return ec;
  }
  return table;
}

namespace {
// A GET with one reply, decoded by `decode`.
template <class T, class Decode>
boost::system::result<T> get_one(NetlinkBackend::Impl& impl, netlink::Msg request, Decode decode) {
  T value{};
  auto ec = impl.transact(std::move(request), false, [&](nlmsghdr* h) -> error_code {
    auto decoded = decode(h);
    if (!decoded) return decoded.error();
    value = *decoded;
    return {};
  });
  if (ec) return ec;
  return value;
}
}  // namespace

boost::system::result<Info> NetlinkBackend::info() {
  return get_one<Info>(*impl_, netlink::encode_get_info(impl_->family), netlink::decode_info);
}

boost::system::result<Timeouts> NetlinkBackend::timeouts() {
  return get_one<Timeouts>(*impl_, netlink::encode_get_config(impl_->family), netlink::decode_config);
}

boost::system::result<Settings> NetlinkBackend::dump_settings() {
  Settings settings;
  auto t = timeouts();
  if (!t) return t.error();
  settings.timeouts = *t;
  auto ec = impl_->transact(netlink::encode_dump_daemons(impl_->family), true, [&](nlmsghdr* h) -> error_code {
    auto d = netlink::decode_daemon(h);
    if (!d) return d.error();
    settings.daemons.push_back(std::move(*d));
    return {};
  });
  if (ec) return ec;
  return settings;
}

std::vector<Failure> NetlinkBackend::apply(std::span<const Operation> operations) {
  std::vector<Failure> failures;
  if (operations.empty()) return failures;
  // Every request is built first (sequence numbers are their batch index + a base), then sent
  // in windows of many requests per sendmsg; each window's acknowledgements are collected
  // before the next, so the receive buffer never overflows.
  const std::uint32_t base = impl_->seq;
  impl_->seq += static_cast<std::uint32_t>(operations.size());
  std::vector<std::uint8_t> window;
  window.reserve(kSendWindow + 4096);
  std::size_t next = 0;
  while (next < operations.size()) {
    window.clear();
    const std::size_t first = next;
    while (next < operations.size()) {
      auto msg = netlink::encode(operations[next], impl_->family);
      nlmsghdr* h = nlmsg_hdr(msg.get());
      h->nlmsg_seq = base + static_cast<std::uint32_t>(next);
      if (!window.empty() && window.size() + h->nlmsg_len > kSendWindow) break;
      const auto* p = reinterpret_cast<const std::uint8_t*>(h);
      window.insert(window.end(), p, p + NLMSG_ALIGN(h->nlmsg_len));
      ++next;
    }
    const std::size_t count = next - first;
    write_requests_ += count;
    ++write_sends_;
    if (auto ec = impl_->send_bytes(window.data(), window.size())) {
      for (std::size_t i = first; i < operations.size(); ++i) failures.push_back({i, ec});
      return failures;
    }
    std::size_t acked = 0;
    std::vector<bool> seen(count, false);
    while (acked < count) {
      auto ec = impl_->receive([&](nlmsghdr* r) {
        if (r->nlmsg_type != NLMSG_ERROR) return;
        const std::uint32_t s = r->nlmsg_seq - base;
        if (r->nlmsg_seq < base || s < first || s >= next || seen[s - first]) return;
        seen[s - first] = true;
        ++acked;
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
        if (e->error != 0) failures.push_back({s, from_errno(-e->error)});
      });
      if (ec) {
        // Lost acknowledgements (ENOBUFS): what they would have said is unknown.
        for (std::size_t i = 0; i < count; ++i)
          if (!seen[i]) failures.push_back({first + i, ec});
        break;
      }
    }
  }
  std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.index < b.index; });
  return failures;
}

}  // namespace lvsd::ipvs
