// rtnetlink for VRRP: VIPs and virtual routes by request (AddressManager), link state by
// event (LinkMonitor); the only code in lvsd that links libnl-route-3.
#include "lvsd/vrrp/addresses.hpp"

#include <net/if.h>  // before libnl's <linux/if.h>: glibc then leaves out what the kernel's defines

#include <fmt/format.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/throw_exception.hpp>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <new>
#include <set>
#include <stdexcept>
#include <vector>

#include "lvsd/vrrp/announce.hpp"

namespace lvsd::vrrp {
namespace {

using boost::system::error_code;

constexpr std::uint32_t kIpv6DefaultMetric = 1024;  // the kernel's IP6_RT_PRIO_USER, for metric 0
constexpr int kEventSocketBuffer = 1024 * 1024;      // room for a burst of link events
constexpr std::size_t kEventDatagram = 64 * 1024;   // grows if the kernel sends more at once

// The one place libnl objects are owned: each with its own free function.
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using SockPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using CbPtr = std::unique_ptr<nl_cb, Deleter<nl_cb_put>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nlmsg_free>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr_put>>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr_put>>;
using RtnlLinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route_put>>;
using NexthopPtr = std::unique_ptr<rtnl_nexthop, Deleter<rtnl_route_nh_free>>;

// libnl allocations fail only when memory is gone, like operator new.
template <class T>
T* checked(T* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

[[noreturn]] void die(const char* what) {
  // The parent restarts the VRRP process, which starts from a fresh dump.
  std::fprintf(stderr, "lvsd vrrp: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// libnl's codes for failures of the socket itself (the kernel's answers keep their errno:
// exchange() reads it from the error message). The one conversion from NLE_* to errno.
int errno_from_nle(int nle) {
  switch (nle < 0 ? -nle : nle) {
    case NLE_INTR: return EINTR;
    case NLE_BAD_SOCK: return EBADF;
    case NLE_AGAIN: return EAGAIN;
    case NLE_NOMEM: return ENOMEM;
    case NLE_EXIST: return EEXIST;
    case NLE_INVAL: return EINVAL;
    case NLE_RANGE: return ERANGE;
    case NLE_MSGSIZE: return EMSGSIZE;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_MSG_OVERFLOW: return ENOBUFS;
    case NLE_MSG_TRUNC: return EMSGSIZE;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_BUSY: return EBUSY;
    case NLE_PROTO_MISMATCH: return EPROTONOSUPPORT;
    case NLE_NOACCESS: return EACCES;
    case NLE_PERM: return EPERM;
    case NLE_NODEV: return ENODEV;
    case NLE_DUMP_INTR: return EINTR;
    default: return EIO;
  }
}

// "<what>: <strerror>" and, when the errno alone would mislead, " (<why>)".
NetlinkError failure(int err, const std::string& what, std::string_view why = {}) {
  const error_code code(err, boost::system::generic_category());
  if (why.empty()) return {code, fmt::format("{}: {}", what, code.message())};
  return {code, fmt::format("{}: {} ({})", what, code.message(), why)};
}

int family_of(const model::IpAddress& a) { return a.is_v4() ? AF_INET : AF_INET6; }
std::size_t size_of(const model::IpAddress& a) { return a.is_v4() ? 4 : 16; }

NlAddrPtr to_nl(const model::IpAddress& a, std::uint8_t prefix_length) {
  NlAddrPtr out(checked(nl_addr_build(family_of(a), a.bytes().data(), size_of(a))));
  nl_addr_set_prefixlen(out.get(), prefix_length);
  return out;
}

// Whether a libnl address is `a` (its bytes; a missing or empty one is all zeros, as the
// destination of a default route).
bool same_address(nl_addr* nl, const model::IpAddress& a) {
  if (nl == nullptr) return a.is_unspecified();
  if (nl_addr_get_family(nl) != family_of(a)) return false;
  std::array<std::uint8_t, 16> bytes{};
  if (const auto len = std::min<std::size_t>(nl_addr_get_len(nl), bytes.size()); len > 0)
    std::memcpy(bytes.data(), nl_addr_get_binary_addr(nl), len);
  return std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size_of(a)), a.bytes().begin());
}

int scope_of(model::AddressScope scope) {
  switch (scope) {
    case model::AddressScope::Global: return RT_SCOPE_UNIVERSE;
    case model::AddressScope::Site: return RT_SCOPE_SITE;
    case model::AddressScope::Link: return RT_SCOPE_LINK;
    case model::AddressScope::Host: return RT_SCOPE_HOST;
  }
  std::abort();  // every enumerator is handled above
}

std::uint32_t table_of(const model::VirtualRoute& r) { return r.table == 0 ? RT_TABLE_MAIN : r.table; }

// The metric the kernel stores: IPv6 turns 0 into its default.
std::uint32_t stored_metric(const model::VirtualRoute& r) {
  return r.metric == 0 && r.destination.address.is_v6() ? kIpv6DefaultMetric : r.metric;
}

const std::string& device_of(const std::string& device, const std::string& default_device) {
  return device.empty() ? default_device : device;
}

// As `ip route` prints it: "198.51.100.0/24 via 192.0.2.1 dev d0 table 100 metric 5".
std::string describe(const model::VirtualRoute& r, const std::string& device) {
  std::string out = r.destination.to_string();
  if (r.via) out += " via " + r.via->to_string();
  out += " dev " + device;
  if (r.table != 0) out += fmt::format(" table {}", r.table);
  if (r.metric != 0) out += fmt::format(" metric {}", r.metric);
  return out;
}

MsgPtr dump_request(int type, const void* header, std::size_t size) {
  MsgPtr msg(checked(nlmsg_alloc_simple(type, NLM_F_DUMP)));
  if (nlmsg_append(msg.get(), const_cast<void*>(header), size, NLMSG_ALIGNTO) < 0) throw std::bad_alloc();
  return msg;
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const NetlinkError& error) { return out << error.text; }

void throw_exception_from_error(const NetlinkError& error, const boost::source_location& location) {
  boost::throw_exception(std::runtime_error(error.text), location);
}

std::ostream& operator<<(std::ostream& out, const LinkEvent& event) {
  return out << event.name << (event.present ? (event.up ? " up" : " down") : " gone");
}

// ---------------------------------------------------------------------------------------
// AddressManager

struct AddressManager::Impl {
  SockPtr sock;
  CbPtr cb;
  // The request in flight (one at a time; the callbacks below see it through `this`).
  std::uint32_t seq = 0;
  bool done = false;
  int error = 0;
  const std::function<void(nl_msg*)>* each = nullptr;

  // A late answer to an earlier request (one whose reading stopped early) is not ours.
  static int seq_check(nl_msg* msg, void* arg) {
    return nlmsg_hdr(msg)->nlmsg_seq == static_cast<Impl*>(arg)->seq ? NL_OK : NL_SKIP;
  }
  static int valid(nl_msg* msg, void* arg) {
    const auto* self = static_cast<Impl*>(arg);
    if (self->each != nullptr) (*self->each)(msg);
    return NL_OK;
  }
  static int finished(nl_msg*, void* arg) {
    static_cast<Impl*>(arg)->done = true;
    return NL_STOP;
  }
  // The kernel's errno as it sent it: libnl's own conversion would fold ENODEV, ENOENT and
  // ESRCH into one "object not found".
  static int refused(sockaddr_nl*, nlmsgerr* e, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->error = -e->error;
    self->done = true;
    return NL_STOP;
  }

  // Sends the request and reads its answers up to the acknowledgement, the end of the dump or
  // the error; `on_reply` sees every answer that carries data. Returns the errno, 0 for done.
  int exchange(nl_msg* msg, const std::function<void(nl_msg*)>* on_reply = nullptr) {
    const int sent = nl_send_auto(sock.get(), msg);
    if (sent < 0) return errno_from_nle(sent);
    seq = nlmsg_hdr(msg)->nlmsg_seq;
    done = false;
    error = 0;
    each = on_reply;
    int result = 0;
    // One nl_recvmsgs() reads one datagram unless it is part of a dump: a GET's answer and
    // its acknowledgement come in two.
    while (!done) {
      const int r = nl_recvmsgs(sock.get(), cb.get());
      if (r == -NLE_DUMP_INTR && done) {
        result = EINTR;  // the table changed during the dump: the caller dumps again
        break;
      }
      if (r < 0 && !done) {
        result = errno_from_nle(r);
        break;
      }
    }
    each = nullptr;
    return result != 0 ? result : error;
  }

  // A request built by one of libnl's rtnl_*_build_*_request functions. Returns the errno.
  template <class Object>
  int request(int (*build)(Object*, int, nl_msg**), Object* object, int flags) {
    nl_msg* raw = nullptr;
    if (const int e = build(object, flags, &raw); e < 0) return errno_from_nle(e);
    const MsgPtr msg(raw);
    return exchange(msg.get());
  }

  // A dump, read again while the kernel says it changed underneath.
  int dump(nl_msg* msg, const std::function<void(nl_msg*)>& on_reply, const std::function<void()>& restart) {
    for (int attempt = 0;; ++attempt) {
      const int err = exchange(msg, &on_reply);
      if (err != EINTR || attempt == 3) return err;
      restart();
      nlmsg_hdr(msg)->nlmsg_seq = 0;  // nl_send_auto gives it a fresh one
    }
  }

  // The interface's index, or -errno (ENODEV: no such interface).
  int ifindex(const std::string& name) {
    nl_msg* raw = nullptr;
    if (const int e = rtnl_link_build_get_request(0, name.c_str(), &raw); e < 0) return -errno_from_nle(e);
    const MsgPtr msg(raw);
    int index = 0;
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      nlmsghdr* h = nlmsg_hdr(reply);
      if (h->nlmsg_type == RTM_NEWLINK && nlmsg_datalen(h) >= static_cast<int>(sizeof(ifinfomsg)))
        index = static_cast<const ifinfomsg*>(nlmsg_data(h))->ifi_index;
    };
    const int err = exchange(msg.get(), &on_reply);
    if (err != 0) return -err;
    return index > 0 ? index : -ENODEV;
  }

  // Whether interface `index` has the address with this prefix length; -errno on failure.
  int holds(const model::VirtualIp& vip, int index) {
    ifaddrmsg header{};
    header.ifa_family = static_cast<std::uint8_t>(family_of(vip.prefix.address));
    header.ifa_index = static_cast<std::uint32_t>(index);  // the kernel filters on it (strict checking)
    const MsgPtr msg = dump_request(RTM_GETADDR, &header, sizeof header);
    struct Match {
      const model::VirtualIp* vip;
      int index;
      bool found;
    } match{&vip, index, false};
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      nl_msg_parse(
          reply,
          [](nl_object* object, void* arg) {
            auto* m = static_cast<Match*>(arg);
            // nl_msg_parse makes an rtnl_addr of an address message (an nl_object underneath).
            auto* a = reinterpret_cast<rtnl_addr*>(object);
            if (rtnl_addr_get_ifindex(a) != m->index) return;
            if (rtnl_addr_get_prefixlen(a) != m->vip->prefix.length) return;
            if (!same_address(rtnl_addr_get_local(a), m->vip->prefix.address)) return;
            m->found = true;
          },
          &match);
    };
    const int err = dump(msg.get(), on_reply, [&] { match.found = false; });
    if (err != 0) return -err;
    return match.found ? 1 : 0;
  }

  // Whether that exact route is in the kernel; -errno on failure.
  int holds(const model::VirtualRoute& route, int index) {
    rtmsg header{};
    header.rtm_family = static_cast<std::uint8_t>(family_of(route.destination.address));
    const MsgPtr msg = dump_request(RTM_GETROUTE, &header, sizeof header);
    // The kernel filters a dump on RTA_TABLE and RTA_OIF (strict checking): not the whole
    // routing table of a router with full tables.
    if (nla_put_u32(msg.get(), RTA_TABLE, table_of(route)) < 0 ||
        nla_put_u32(msg.get(), RTA_OIF, static_cast<std::uint32_t>(index)) < 0)
      throw std::bad_alloc();
    struct Match {
      const model::VirtualRoute* route;
      int index;
      bool found;
    } match{&route, index, false};
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      nl_msg_parse(
          reply,
          [](nl_object* object, void* arg) {
            auto* m = static_cast<Match*>(arg);
            auto* r = reinterpret_cast<rtnl_route*>(object);
            const auto& want = *m->route;
            if (rtnl_route_get_type(r) != RTN_UNICAST || rtnl_route_get_table(r) != table_of(want) ||
                rtnl_route_get_priority(r) != stored_metric(want))
              return;
            nl_addr* dst = rtnl_route_get_dst(r);
            if (dst == nullptr || nl_addr_get_prefixlen(dst) != want.destination.length ||
                !same_address(dst, want.destination.address))
              return;
            if (rtnl_route_get_nnexthops(r) != 1) return;
            rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
            if (rtnl_route_nh_get_ifindex(nh) != m->index) return;
            nl_addr* gateway = rtnl_route_nh_get_gateway(nh);
            if (want.via ? gateway == nullptr || !same_address(gateway, *want.via) : gateway != nullptr) return;
            m->found = true;
          },
          &match);
    };
    const int err = dump(msg.get(), on_reply, [&] { match.found = false; });
    if (err != 0) return -err;
    return match.found ? 1 : 0;
  }

  // The interface named `name` (with index 0) or with that index, parsed by libnl (a
  // macvlan's mode included). Returns the errno: ENODEV when there is none.
  int link(const std::string& name, int index, RtnlLinkPtr& out) {
    out.reset();
    nl_msg* raw = nullptr;
    if (const int e = rtnl_link_build_get_request(index, index == 0 ? name.c_str() : nullptr, &raw); e < 0)
      return errno_from_nle(e);
    const MsgPtr msg(raw);
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      nl_msg_parse(reply, &keep_link, &out);
    };
    const int err = exchange(msg.get(), &on_reply);
    if (err != 0) return err;
    return out ? 0 : ENODEV;
  }

  // Every interface. Returns the errno.
  int links(std::vector<RtnlLinkPtr>& out) {
    ifinfomsg header{};
    header.ifi_family = AF_UNSPEC;
    const MsgPtr msg = dump_request(RTM_GETLINK, &header, sizeof header);
    std::vector<RtnlLinkPtr> found;
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      RtnlLinkPtr one;
      nl_msg_parse(reply, &keep_link, &one);
      if (one) found.push_back(std::move(one));
    };
    const int err = dump(msg.get(), on_reply, [&] { found.clear(); });
    if (err == 0) out = std::move(found);
    return err;
  }

  // The addresses of one family on interface `index`. Returns the errno.
  int addresses(int family, int index, std::vector<RtnlAddrPtr>& out) {
    ifaddrmsg header{};
    header.ifa_family = static_cast<std::uint8_t>(family);
    header.ifa_index = static_cast<std::uint32_t>(index);
    const MsgPtr msg = dump_request(RTM_GETADDR, &header, sizeof header);
    std::vector<RtnlAddrPtr> found;
    const std::function<void(nl_msg*)> on_reply = [&](nl_msg* reply) {
      nl_msg_parse(
          reply,
          [](nl_object* object, void* arg) {
            auto* a = reinterpret_cast<rtnl_addr*>(object);
            nl_object_get(object);  // the vector's reference
            static_cast<std::vector<RtnlAddrPtr>*>(arg)->emplace_back(a);
          },
          &found);
    };
    const int err = dump(msg.get(), on_reply, [&] { found.clear(); });
    if (err != 0) return err;
    // Without strict checking (before Linux 4.20) the dump has every interface's.
    std::erase_if(found, [&](const RtnlAddrPtr& a) { return rtnl_addr_get_ifindex(a.get()) != index; });
    out = std::move(found);
    return 0;
  }

  static void keep_link(nl_object* object, void* arg) {
    nl_object_get(object);  // the pointer's reference; nl_msg_parse drops its own
    static_cast<RtnlLinkPtr*>(arg)->reset(reinterpret_cast<rtnl_link*>(object));
  }

  // What ensure_vmac() changed outside the vmacs, for remove_vmac() to put back; -1: it left
  // that value as it was.
  struct ArpOriginal {
    int arp_ignore = -1;
    int arp_filter = -1;
  };
  std::map<std::string, ArpOriginal> arp_originals;  // by the parent's name
  struct RpFilterOriginal {
    int all = 0;
    int default_value = -1;
    std::map<std::string, int> raised;  // interfaces whose rp_filter went up to `all`
  };
  std::optional<RpFilterOriginal> rp_filter_original;
};

namespace {

RtnlAddrPtr make_address(const model::VirtualIp& vip, int index, bool for_add) {
  RtnlAddrPtr a(checked(rtnl_addr_alloc()));
  rtnl_addr_set_ifindex(a.get(), index);
  rtnl_addr_set_family(a.get(), family_of(vip.prefix.address));
  // The prefix length comes with the local address; IFA_ADDRESS is sent equal to it.
  if (const int e = rtnl_addr_set_local(a.get(), to_nl(vip.prefix.address, vip.prefix.length).get()); e < 0)
    std::abort();  // refused only when a peer address is set, and none ever is
  if (!for_add) return a;  // a delete matches on address and prefix length alone
  if (vip.prefix.address.is_v4()) {
    rtnl_addr_set_scope(a.get(), scope_of(vip.scope));
  } else {
    rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  }
  return a;
}

RoutePtr make_route(const model::VirtualRoute& r, int index, bool for_add) {
  RoutePtr route(checked(rtnl_route_alloc()));
  const auto family = static_cast<std::uint8_t>(family_of(r.destination.address));
  rtnl_route_set_family(route.get(), family);
  rtnl_route_set_dst(route.get(), to_nl(r.destination.address, r.destination.length).get());
  rtnl_route_set_table(route.get(), table_of(r));
  rtnl_route_set_priority(route.get(), r.metric);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  // libnl's default protocol is "static"; a delete with none removes the route whoever put
  // it there (a hand-made copy of ours included).
  rtnl_route_set_protocol(route.get(), for_add ? RTPROT_STATIC : RTPROT_UNSPEC);
  rtnl_route_set_scope(route.get(), r.via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  NexthopPtr nh(checked(rtnl_route_nh_alloc()));
  rtnl_route_nh_set_ifindex(nh.get(), index);
  if (r.via) rtnl_route_nh_set_gateway(nh.get(), to_nl(*r.via, r.via->is_v4() ? 32 : 128).get());
  rtnl_route_add_nexthop(route.get(), nh.release());  // the route owns it now
  return route;
}

}  // namespace

AddressManager::AddressManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AddressManager::AddressManager(AddressManager&&) noexcept = default;
AddressManager& AddressManager::operator=(AddressManager&&) noexcept = default;
AddressManager::~AddressManager() = default;

NetlinkResult<AddressManager> AddressManager::open() {
  auto impl = std::make_unique<Impl>();
  impl->sock.reset(checked(nl_socket_alloc()));
  impl->cb.reset(checked(nl_cb_alloc(NL_CB_DEFAULT)));
  if (const int e = nl_connect(impl->sock.get(), NETLINK_ROUTE); e < 0)
    return failure(errno_from_nle(e), "cannot open an rtnetlink socket");
  // Lets the kernel filter dumps by interface and table (ignored before Linux 4.20: the
  // matching below filters anyway).
  const int one = 1;
  ::setsockopt(nl_socket_get_fd(impl->sock.get()), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  Impl* self = impl.get();
  nl_cb_set(impl->cb.get(), NL_CB_SEQ_CHECK, NL_CB_CUSTOM, &Impl::seq_check, self);
  nl_cb_set(impl->cb.get(), NL_CB_VALID, NL_CB_CUSTOM, &Impl::valid, self);
  nl_cb_set(impl->cb.get(), NL_CB_ACK, NL_CB_CUSTOM, &Impl::finished, self);
  nl_cb_set(impl->cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, &Impl::finished, self);
  nl_cb_err(impl->cb.get(), NL_CB_CUSTOM, &Impl::refused, self);
  return AddressManager(std::move(impl));
}

namespace {

// After an add: EEXIST is success when what is there is exactly what we asked for;
// otherwise `clash` says what is in the way.
template <class Wanted>
NetlinkResult<void> settle_add(AddressManager::Impl& impl, int err, const Wanted& wanted, int index,
                               const std::string& what, std::string_view clash) {
  if (err == EEXIST) {
    const int held = impl.holds(wanted, index);
    if (held < 0) return failure(-held, what);
    if (held == 1) return {};
    return failure(EEXIST, what, clash);
  }
  if (err != 0) return failure(err, what);
  return {};
}

}  // namespace

NetlinkResult<void> AddressManager::add(const model::VirtualIp& vip, const std::string& default_device) {
  const std::string& device = device_of(vip.device, default_device);
  const auto what = fmt::format("cannot add {} on {}", vip.prefix.to_string(), device);
  const int index = impl_->ifindex(device);
  if (index < 0) return failure(-index, what);
  const auto address = make_address(vip, index, true);
  if (vip.prefix.address.is_v4() && !vip.label.empty()) {
    if (const int e = rtnl_addr_set_label(address.get(), vip.label.c_str()); e < 0)
      return failure(errno_from_nle(e), fmt::format("{} (label {})", what, vip.label));
  }
  const int err = impl_->request(&rtnl_addr_build_add_request, address.get(), NLM_F_EXCL);
  // The kernel keys IPv6 addresses on the address alone: EEXIST for one with another length.
  return settle_add(*impl_, err, vip, index, what, "it is there with another prefix length");
}

NetlinkResult<void> AddressManager::remove(const model::VirtualIp& vip, const std::string& default_device) {
  const std::string& device = device_of(vip.device, default_device);
  const int index = impl_->ifindex(device);
  if (index == -ENODEV) return {};  // no interface, so no address on it
  int err = -index;
  if (index > 0) err = impl_->request(&rtnl_addr_build_delete_request, make_address(vip, index, false).get(), 0);
  // EADDRNOTAVAIL: not there (with this prefix length); ENODEV: the interface went since the
  // lookup.
  if (err == 0 || err == EADDRNOTAVAIL || err == ENODEV) return {};
  return failure(err, fmt::format("cannot remove {} from {}", vip.prefix.to_string(), device));
}

NetlinkResult<bool> AddressManager::has(const model::VirtualIp& vip, const std::string& default_device) {
  const std::string& device = device_of(vip.device, default_device);
  const int index = impl_->ifindex(device);
  if (index == -ENODEV) return false;
  const int held = index < 0 ? index : impl_->holds(vip, index);
  if (held < 0) return failure(-held, fmt::format("cannot read the addresses of {}", device));
  return held == 1;
}

NetlinkResult<void> AddressManager::add_route(const model::VirtualRoute& route, const std::string& default_device) {
  const std::string& device = device_of(route.device, default_device);
  const auto what = "cannot add route " + describe(route, device);
  const int index = impl_->ifindex(device);
  if (index < 0) return failure(-index, what);
  // EXCL: without it an IPv6 route to the same destination and metric through another
  // gateway would join ours as a multipath sibling instead of being refused.
  const int err = impl_->request(&rtnl_route_build_add_request, make_route(route, index, true).get(), NLM_F_EXCL);
  return settle_add(*impl_, err, route, index, what, "another route has that destination and metric");
}

NetlinkResult<void> AddressManager::remove_route(const model::VirtualRoute& route, const std::string& default_device) {
  const std::string& device = device_of(route.device, default_device);
  const int index = impl_->ifindex(device);
  if (index == -ENODEV) return {};  // its routes went with the interface
  int err = -index;
  if (index > 0) err = impl_->request(&rtnl_route_build_del_request, make_route(route, index, false).get(), 0);
  // ESRCH: no such route (or no such table); ENODEV: the interface went since the lookup.
  if (err == 0 || err == ESRCH || err == ENODEV) return {};
  return failure(err, "cannot remove route " + describe(route, device));
}

NetlinkResult<bool> AddressManager::has_route(const model::VirtualRoute& route, const std::string& default_device) {
  const std::string& device = device_of(route.device, default_device);
  const int index = impl_->ifindex(device);
  if (index == -ENODEV) return false;
  const int held = index < 0 ? index : impl_->holds(route, index);
  if (held < 0) return failure(-held, fmt::format("cannot read the routes of {}", device));
  return held == 1;
}

// ---------------------------------------------------------------------------------------
// VMAC interfaces

namespace {

constexpr std::uint8_t kLinkLocalPrefix = 64;

bool is_link_local(const model::IpAddress& a) {
  return a.is_v6() && a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}

bool is_macvlan(rtnl_link* link) {
  const char* kind = rtnl_link_get_type(link);
  return kind != nullptr && std::strcmp(kind, "macvlan") == 0 && rtnl_link_is_macvlan(link);
}

// Whether the link's lower interface (IFLA_LINK) is in another network namespace, where its
// index means nothing here.
bool lower_elsewhere(const rtnl_link* link) {
  std::int32_t netnsid = 0;
  return rtnl_link_get_link_netnsid(link, &netnsid) == 0;
}

std::optional<Mac> mac_of(rtnl_link* link) {
  nl_addr* a = rtnl_link_get_addr(link);
  Mac mac{};
  if (a == nullptr || nl_addr_get_len(a) != mac.size()) return std::nullopt;
  std::memcpy(mac.data(), nl_addr_get_binary_addr(a), mac.size());
  return mac;
}

// The MAC of an IPv4 instance's vmac, whatever its VRID: the vmacs that need the parent's ARP
// settings.
bool is_ipv4_vmac(rtnl_link* link) {
  const auto mac = mac_of(link);
  return is_macvlan(link) && mac && std::equal(mac->begin(), mac->begin() + 5, virtual_mac(0, model::Family::V4).begin());
}

// fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 appendix A).
model::IpAddress eui64_link_local(const Mac& mac) {
  return model::IpAddress::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(mac[0] ^ 0x02), mac[1], mac[2],
                               0xff, 0xfe, mac[3], mac[4], mac[5]});
}

model::IpAddress from_nl(nl_addr* a) {
  std::array<std::uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), nl_addr_get_binary_addr(a), std::min<std::size_t>(nl_addr_get_len(a), bytes.size()));
  return model::IpAddress::v6(bytes);
}

// /proc/sys/net/<ipv4|ipv6>/conf/<interface>/<key>: the calling thread's network namespace's.
std::string conf_path(std::string_view ip, std::string_view interface, std::string_view key) {
  return fmt::format("/proc/sys/net/{}/conf/{}/{}", ip, interface, key);
}

// The number a sysctl file holds, or -errno.
int read_sysctl(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  std::array<char, 32> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size() - 1);
  const int err = errno;
  ::close(fd);
  if (n < 0) return -err;
  char* end = nullptr;
  const long value = std::strtol(buf.data(), &end, 10);
  if (end == buf.data() || value < 0 || value > INT_MAX) return -EINVAL;
  return static_cast<int>(value);
}

NetlinkResult<void> write_sysctl(const std::string& path, int value) {
  const std::string text = std::to_string(value);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) err = errno;
    ::close(fd);
  }
  if (err != 0) return failure(err, fmt::format("cannot write {} to {}", value, path));
  return {};
}

// Sets `key` of `interface` to `value`; when it held something else and `original` is still
// -1, that value goes there.
NetlinkResult<void> raise_sysctl(std::string_view interface, std::string_view key, int value, int& original) {
  const std::string path = conf_path("ipv4", interface, key);
  const int now = read_sysctl(path);
  if (now < 0) return failure(-now, "cannot read " + path);
  if (now == value) return {};
  if (original < 0) original = now;
  return write_sysctl(path, value);
}

// Puts back what raise_sysctl() changed, where it still holds what was set.
void restore_sysctl(std::string_view interface, std::string_view key, int set, int original) {
  const std::string path = conf_path("ipv4", interface, key);
  if (original >= 0 && read_sysctl(path) == set) (void)write_sysctl(path, original);
}

// The kernel filters by the larger of conf/all/rp_filter and the interface's: for the vmac's 0
// to count, all's must be 0. Before that, default and every interface with a lower value get
// all's, so that none of them, nor one made later, filters differently. As keepalived.
NetlinkResult<void> clear_all_rp_filter(std::optional<AddressManager::Impl::RpFilterOriginal>& record) {
  const std::string all = conf_path("ipv4", "all", "rp_filter");
  const int value = read_sysctl(all);
  if (value < 0) return failure(-value, "cannot read " + all);
  if (value == 0) return {};
  if (!record) record.emplace();
  record->all = value;
  // Default first: an interface made while we go through the others gets the value too.
  if (auto done = raise_sysctl("default", "rp_filter", value, record->default_value); !done) return done;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/sys/net/ipv4/conf", ec)) {
    const std::string interface = entry.path().filename().string();
    if (interface == "all" || interface == "default") continue;
    const std::string path = conf_path("ipv4", interface, "rp_filter");
    const int own = read_sysctl(path);
    if (own < 0 || own >= value) continue;  // gone meanwhile, or filtering as it did already
    if (auto done = write_sysctl(path, value); !done) return done;
    record->raised.emplace(interface, own);
  }
  if (ec) return failure(ec.value(), "cannot list /proc/sys/net/ipv4/conf");
  return write_sysctl(all, 0);
}

// VRRPv3 over IPv6 sends from a link-local address (RFC 5798 5.1.2.1): the vmac gets the one
// asked for, else the parent's, else the EUI-64 one of the parent's MAC (as keepalived), and
// no other.
NetlinkResult<void> give_link_local(AddressManager& self, AddressManager::Impl& impl, const Vmac& vmac,
                                    rtnl_link* parent, rtnl_link* base, int index) {
  std::optional<model::IpAddress> wanted = vmac.link_local;
  if (!wanted) {
    std::vector<RtnlAddrPtr> on_parent;
    if (const int err = impl.addresses(AF_INET6, rtnl_link_get_ifindex(parent), on_parent); err != 0)
      return failure(err, fmt::format("cannot read the addresses of {}", vmac.parent));
    for (const auto& a : on_parent) {
      if ((rtnl_addr_get_flags(a.get()) & IFA_F_DADFAILED) != 0) continue;  // another host has it
      if (const auto local = from_nl(rtnl_addr_get_local(a.get())); is_link_local(local)) {
        wanted = local;
        break;
      }
    }
  }
  if (!wanted) {
    const auto mac = mac_of(base);
    if (!mac)
      return failure(EADDRNOTAVAIL, fmt::format("cannot give {} a link-local address", vmac.name),
                     fmt::format("{} has none, nor a MAC address", vmac.parent));
    wanted = eui64_link_local(*mac);
  }
  std::vector<RtnlAddrPtr> on_vmac;
  if (const int err = impl.addresses(AF_INET6, index, on_vmac); err != 0)
    return failure(err, fmt::format("cannot read the addresses of {}", vmac.name));
  for (const auto& a : on_vmac) {
    const auto local = from_nl(rtnl_addr_get_local(a.get()));
    if (!is_link_local(local) || local == *wanted) continue;
    const auto length = static_cast<std::uint8_t>(rtnl_addr_get_prefixlen(a.get()));
    model::VirtualIp old;
    old.prefix = {local, length};
    if (auto done = self.remove(old, vmac.name); !done) return done;
  }
  model::VirtualIp ours;
  ours.prefix = {*wanted, kLinkLocalPrefix};
  return self.add(ours, vmac.name);
}

}  // namespace

Vmac vmac_of(const model::VrrpInstance& instance) {
  Vmac out;
  out.name = instance.vmac_name.empty() ? fmt::format("vrrp.{}", instance.vrid) : instance.vmac_name;
  out.parent = instance.interface;
  out.vrid = instance.vrid;
  out.family = instance.family;
  if (instance.family == model::Family::V6 && instance.unicast_source && is_link_local(*instance.unicast_source))
    out.link_local = instance.unicast_source;
  return out;
}

NetlinkResult<VmacOutcome> AddressManager::ensure_vmac(const Vmac& vmac) {
  const Mac mac = virtual_mac(vmac.vrid, vmac.family);
  const bool v4 = vmac.family == model::Family::V4;
  const auto what = fmt::format("cannot create {} on {}", vmac.name, vmac.parent);
  RtnlLinkPtr parent;
  if (const int err = impl_->link(vmac.parent, 0, parent); err != 0) return failure(err, what);
  // The kernel puts a macvlan of a macvlan on the latter's lower interface: the one the vmac
  // then names as its link, and whose ARP settings count.
  RtnlLinkPtr lower;
  rtnl_link* base = parent.get();
  if (is_macvlan(parent.get()) && !lower_elsewhere(parent.get())) {
    if (const int err = impl_->link({}, rtnl_link_get_link(parent.get()), lower); err != 0) return failure(err, what);
    base = lower.get();
  }
  const int base_index = rtnl_link_get_ifindex(base);
  const std::string base_name = rtnl_link_get_name(base);

  auto outcome = VmacOutcome::Reused;
  RtnlLinkPtr existing;
  int err = impl_->link(vmac.name, 0, existing);
  if (err == ENODEV) {
    RtnlLinkPtr wanted(checked(rtnl_link_macvlan_alloc()));
    rtnl_link_set_name(wanted.get(), vmac.name.c_str());
    rtnl_link_set_link(wanted.get(), rtnl_link_get_ifindex(parent.get()));
    const NlAddrPtr address(checked(nl_addr_build(AF_LLC, mac.data(), mac.size())));
    rtnl_link_set_addr(wanted.get(), address.get());
    rtnl_link_set_group(wanted.get(), rtnl_link_get_group(base));
    if (rtnl_link_macvlan_set_mode(wanted.get(), MACVLAN_MODE_PRIVATE) < 0) std::abort();  // it is a macvlan
    err = impl_->request(&rtnl_link_build_add_request, wanted.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err == 0) outcome = VmacOutcome::Created;
    // EEXIST: made meanwhile by someone else, and judged below like any link found there.
    if (err != 0 && err != EEXIST) return failure(err, what);
    err = impl_->link(vmac.name, 0, existing);
  }
  if (err != 0) return failure(err, what);
  const int index = rtnl_link_get_ifindex(existing.get());

  if (outcome == VmacOutcome::Reused) {
    std::string why;
    const auto has = mac_of(existing.get());
    if (!is_macvlan(existing.get())) {
      const char* kind = rtnl_link_get_type(existing.get());
      why = kind == nullptr ? "it is a physical interface" : fmt::format("it is a {}", kind);
    } else if (lower_elsewhere(existing.get())) {
      why = "it is a macvlan of an interface in another network namespace";
    } else if (const int link_index = rtnl_link_get_link(existing.get()); link_index != base_index) {
      RtnlLinkPtr other;
      why = impl_->link({}, link_index, other) == 0 ? fmt::format("it is a macvlan of {}", rtnl_link_get_name(other.get()))
                                                    : fmt::format("it is a macvlan of interface {}", link_index);
    } else if (has != mac) {
      why = has ? "its MAC is " + to_string(*has) : "it has no MAC";
    }
    if (!why.empty())
      return NetlinkError{error_code(EEXIST, boost::system::generic_category()),
                          fmt::format("{} exists and is not a macvlan of {} with {} ({})", vmac.name, vmac.parent,
                                      to_string(mac), why)};
    if (rtnl_link_macvlan_get_mode(existing.get()) != MACVLAN_MODE_PRIVATE) {
      RtnlLinkPtr change(checked(rtnl_link_macvlan_alloc()));
      rtnl_link_set_ifindex(change.get(), index);
      if (rtnl_link_macvlan_set_mode(change.get(), MACVLAN_MODE_PRIVATE) < 0) std::abort();  // it is a macvlan
      if (const int e = impl_->request(&rtnl_link_build_add_request, change.get(), 0); e != 0)
        return failure(e, fmt::format("cannot set {} to macvlan mode private", vmac.name));
    }
  }

  if (v4) {
    if (auto done = clear_all_rp_filter(impl_->rp_filter_original); !done) return done.error();
    for (const auto& [key, value] :
         {std::pair{"arp_ignore", 1}, {"accept_local", 1}, {"rp_filter", 0}, {"promote_secondaries", 1}})
      if (auto done = write_sysctl(conf_path("ipv4", vmac.name, key), value); !done) return done.error();
    auto& original = impl_->arp_originals[base_name];
    if (auto done = raise_sysctl(base_name, "arp_ignore", 1, original.arp_ignore); !done) return done.error();
    if (auto done = raise_sysctl(base_name, "arp_filter", 1, original.arp_filter); !done) return done.error();
  } else {
    if (auto done = write_sysctl(conf_path("ipv4", vmac.name, "arp_ignore"), 1); !done) return done.error();
  }

  // Before up: the kernel gives an interface its link-local address as it comes up, from the
  // generation mode it has then.
  RtnlLinkPtr change(checked(rtnl_link_alloc()));
  rtnl_link_set_ifindex(change.get(), index);
  if (rtnl_link_inet6_set_addr_gen_mode(change.get(), IN6_ADDR_GEN_MODE_NONE) < 0) throw std::bad_alloc();
  err = impl_->request(&rtnl_link_build_add_request, change.get(), 0);
  // EAFNOSUPPORT: a kernel without IPv6, which an IPv4 instance does without.
  if (err != 0 && !(v4 && err == EAFNOSUPPORT))
    return failure(err, fmt::format("cannot set addrgenmode none on {}", vmac.name));
  // An IPv4 instance's vmac takes no part in IPv6 (keepalived's choice too).
  const std::string disable_ipv6 = conf_path("ipv6", vmac.name, "disable_ipv6");
  if (auto done = write_sysctl(disable_ipv6, v4 ? 1 : 0); !done && !(v4 && done.error().code.value() == ENOENT))
    return done.error();

  change.reset(checked(rtnl_link_alloc()));
  rtnl_link_set_ifindex(change.get(), index);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (const int e = impl_->request(&rtnl_link_build_add_request, change.get(), 0); e != 0)
    return failure(e, fmt::format("cannot set {} up", vmac.name));

  if (!v4) {
    if (auto done = give_link_local(*this, *impl_, vmac, parent.get(), base, index); !done) return done.error();
  }
  return outcome;
}

NetlinkResult<void> AddressManager::remove_vmac(const std::string& name) {
  const auto what = "cannot remove " + name;
  RtnlLinkPtr existing;
  int err = impl_->link(name, 0, existing);
  if (err == ENODEV) return {};
  if (err != 0) return failure(err, what);
  if (!is_macvlan(existing.get())) {
    const char* kind = rtnl_link_get_type(existing.get());
    return NetlinkError{error_code(EPERM, boost::system::generic_category()),
                        fmt::format("will not remove {}: it is {}, not a macvlan", name,
                                    kind == nullptr ? std::string("a physical interface") : fmt::format("a {}", kind))};
  }
  const bool v4 = is_ipv4_vmac(existing.get());
  const int lower = lower_elsewhere(existing.get()) ? 0 : rtnl_link_get_link(existing.get());  // 0: none here
  nl_msg* raw = nullptr;
  if (const int e = rtnl_link_build_delete_request(existing.get(), &raw); e < 0) return failure(errno_from_nle(e), what);
  const MsgPtr msg(raw);
  err = impl_->exchange(msg.get());
  if (err != 0 && err != ENODEV) return failure(err, what);  // ENODEV: deleted meanwhile
  if (!v4) return {};

  // What ensure_vmac() changed, once no IPv4 vmac needs it. Best effort: the vmac is gone
  // either way, and a value that cannot be written back now has no better moment later.
  std::vector<RtnlLinkPtr> links;
  if (impl_->links(links) != 0) return {};
  bool any_left = false;
  bool left_on_lower = false;
  std::string lower_name;
  for (const auto& l : links) {
    if (rtnl_link_get_ifindex(l.get()) == lower) lower_name = rtnl_link_get_name(l.get());
    if (!is_ipv4_vmac(l.get())) continue;
    any_left = true;
    if (rtnl_link_get_link(l.get()) == lower) left_on_lower = true;
  }
  if (const auto it = impl_->arp_originals.find(lower_name); it != impl_->arp_originals.end() && !left_on_lower) {
    restore_sysctl(lower_name, "arp_ignore", 1, it->second.arp_ignore);
    restore_sysctl(lower_name, "arp_filter", 1, it->second.arp_filter);
    impl_->arp_originals.erase(it);
  }
  if (auto& record = impl_->rp_filter_original; record && !any_left) {
    restore_sysctl("all", "rp_filter", 0, record->all);
    restore_sysctl("default", "rp_filter", record->all, record->default_value);
    for (const auto& [interface, own] : record->raised) restore_sysctl(interface, "rp_filter", record->all, own);
    record.reset();
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// LinkMonitor

namespace {

const nla_policy* link_policy() {
  static const auto policy = [] {
    std::array<nla_policy, IFLA_MAX + 1> p{};
    p[IFLA_IFNAME].type = NLA_STRING;
    p[IFLA_IFNAME].maxlen = IFNAMSIZ;
    return p;
  }();
  return policy.data();
}

}  // namespace

struct LinkMonitor::Impl {
  Impl(const boost::asio::any_io_executor& executor, Callback callback)
      : descriptor(executor), on_change(std::move(callback)) {}
  ~Impl() { descriptor.release(); }  // the fd is the libnl socket's, closed by nl_socket_free
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  struct Link {
    std::string name;
    bool up = false;
  };

  SockPtr sock;
  boost::asio::posix::stream_descriptor descriptor;
  Callback on_change;
  std::map<int, Link> links;  // by interface index: a name can move to another index
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(kEventDatagram);
  std::uint32_t dump_seq = 0;
  bool dumping = false;
  bool dump_again = false;  // events were lost while a dump was running
  std::set<int> seen;       // indexes the running dump has listed
  bool synced = false;
  bool stopped = false;
  std::uint64_t resyncs = 0;

  int fd() const { return nl_socket_get_fd(sock.get()); }

  void report(const LinkEvent& event) {
    if (!stopped && on_change) on_change(event);
  }

  // Returns the errno (0: sent).
  int start_dump() {
    ifinfomsg header{};
    header.ifi_family = AF_UNSPEC;
    const MsgPtr msg = dump_request(RTM_GETLINK, &header, sizeof header);
    const int sent = nl_send_auto(sock.get(), msg.get());
    if (sent < 0) return errno_from_nle(sent);
    dump_seq = nlmsg_hdr(msg.get())->nlmsg_seq;
    dumping = true;
    seen.clear();
    return 0;
  }

  // The kernel dropped events: what we know may be stale, so ask for everything again.
  void resync() {
    ++resyncs;
    if (dumping) {
      dump_again = true;  // one dump at a time per socket
      return;
    }
    dump_again_now();
  }

  void dump_again_now() {
    if (const int err = start_dump(); err != 0) {
      errno = err;
      die("cannot dump the links again after losing events");
    }
  }

  void wait(const std::shared_ptr<Impl>& self) {
    descriptor.async_wait(boost::asio::posix::descriptor_base::wait_read, [self](const error_code& ec) {
      if (self->stopped || ec == boost::asio::error::operation_aborted) return;
      if (ec) {
        errno = ec.value();
        die("waiting for link events");
      }
      self->drain();
      if (!self->stopped) self->wait(self);
    });
  }

  // Everything queued on the socket, without blocking.
  void drain() {
    while (!stopped) {
      sockaddr_nl from{};
      iovec iov{buffer.data(), buffer.size()};
      msghdr header{};
      header.msg_name = &from;
      header.msg_namelen = sizeof from;
      header.msg_iov = &iov;
      header.msg_iovlen = 1;
      const ssize_t n = ::recvmsg(fd(), &header, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == ENOBUFS) {
          resync();
          continue;
        }
        die("reading link events");
      }
      if (static_cast<std::size_t>(n) > buffer.size()) {
        buffer.resize(static_cast<std::size_t>(n));  // that datagram is lost; the next fits
        resync();
        continue;
      }
      if (from.nl_pid != 0) continue;  // only the kernel speaks on this socket
      int remaining = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); nlmsg_ok(h, remaining) && !stopped;
           h = nlmsg_next(h, &remaining))
        handle(h);
    }
  }

  void handle(nlmsghdr* h) {
    switch (h->nlmsg_type) {
      case RTM_NEWLINK:
      case RTM_DELLINK:
        link_message(h);
        break;
      case NLMSG_DONE:
        if (dumping && h->nlmsg_seq == dump_seq) dump_done(true);
        break;
      case NLMSG_ERROR:
        // The dump refused: keep what we have (nothing swept) rather than spin on retries.
        if (dumping && h->nlmsg_seq == dump_seq) dump_done(false);
        break;
      default:
        break;
    }
  }

  void link_message(nlmsghdr* h) {
    if (nlmsg_datalen(h) < static_cast<int>(sizeof(ifinfomsg))) return;
    const auto* info = static_cast<const ifinfomsg*>(nlmsg_data(h));
    // AF_BRIDGE messages describe a bridge port's state, and their DELLINK a port leaving
    // its bridge: not the interface itself.
    if (info->ifi_family != AF_UNSPEC) return;
    std::array<nlattr*, IFLA_MAX + 1> attrs{};
    if (nlmsg_parse(h, sizeof(ifinfomsg), attrs.data(), IFLA_MAX, link_policy()) < 0) return;
    const int index = info->ifi_index;
    if (h->nlmsg_type == RTM_DELLINK) {
      gone(index);
      return;
    }
    if (attrs[IFLA_IFNAME] == nullptr) return;
    const std::string name = nla_get_string(attrs[IFLA_IFNAME]);
    const bool up = (info->ifi_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
    if (dumping) seen.insert(index);
    const auto it = links.find(index);
    if (it == links.end()) {
      links.emplace(index, Link{name, up});
      report({name, up, true});
      return;
    }
    if (it->second.name != name) {
      const std::string old = std::exchange(it->second.name, name);
      it->second.up = up;
      report({old, false, false});
      report({name, up, true});
      return;
    }
    if (it->second.up != up) {
      it->second.up = up;
      report({name, up, true});
    }
  }

  void gone(int index) {
    const auto it = links.find(index);
    if (it == links.end()) return;
    const std::string name = std::move(it->second.name);
    links.erase(it);
    report({name, false, false});
  }

  void dump_done(bool complete) {
    dumping = false;
    synced = true;
    if (complete) {
      // Interfaces deleted while events were being lost.
      std::vector<int> missing;
      for (const auto& [index, link] : links)
        if (!seen.contains(index)) missing.push_back(index);
      for (const int index : missing) gone(index);
    }
    if (dump_again) {
      dump_again = false;
      dump_again_now();
    }
  }
};

LinkMonitor::LinkMonitor(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

LinkMonitor::LinkMonitor(LinkMonitor&& other) noexcept = default;

LinkMonitor& LinkMonitor::operator=(LinkMonitor&& other) noexcept {
  if (this != &other) {
    LinkMonitor old(std::move(*this));  // stopped by its destructor
    impl_ = std::move(other.impl_);
  }
  return *this;
}

LinkMonitor::~LinkMonitor() {
  if (!impl_) return;
  impl_->stopped = true;
  error_code ignored;
  impl_->descriptor.cancel(ignored);  // the pending wait ends, and with it the last reference
}

NetlinkResult<LinkMonitor> LinkMonitor::open(const boost::asio::any_io_executor& executor, Callback on_change) {
  auto impl = std::make_shared<Impl>(executor, std::move(on_change));
  impl->sock.reset(checked(nl_socket_alloc()));
  nl_socket_disable_auto_ack(impl->sock.get());  // a dump needs none; events get none
  if (const int e = nl_connect(impl->sock.get(), NETLINK_ROUTE); e < 0)
    return failure(errno_from_nle(e), "cannot open an rtnetlink socket");
  // Best effort: a smaller buffer only means a resync sooner.
  nl_socket_set_buffer_size(impl->sock.get(), kEventSocketBuffer, 0);
  // Subscribe before the dump: a change between the two is then seen, not lost.
  if (const int e = nl_socket_add_membership(impl->sock.get(), RTNLGRP_LINK); e < 0)
    return failure(errno_from_nle(e), "cannot subscribe to link events");
  error_code ec;
  impl->descriptor.assign(impl->fd(), ec);
  if (ec) return failure(ec.value(), "cannot watch the rtnetlink socket");
  if (const int err = impl->start_dump(); err != 0) return failure(err, "cannot dump the links");
  impl->wait(impl);
  return LinkMonitor(std::move(impl));
}

bool LinkMonitor::synced() const { return impl_->synced; }

std::optional<bool> LinkMonitor::is_up(std::string_view name) const {
  for (const auto& [index, link] : impl_->links)
    if (link.name == name) return link.up;
  return std::nullopt;
}

std::uint64_t LinkMonitor::resyncs() const { return impl_->resyncs; }

}  // namespace lvsd::vrrp
