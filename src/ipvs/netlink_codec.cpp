// Encoding and decoding of IPVS generic-netlink messages, attribute by attribute as
// include/uapi/linux/ip_vs.h defines them and net/netfilter/ipvs/ip_vs_ctl.c reads them.
#include "netlink_codec.hpp"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace lvsd::ipvs::netlink {
namespace {

namespace errc = boost::system::errc;

std::uint16_t af_of(model::Family f) { return f == model::Family::V4 ? AF_INET : AF_INET6; }

std::uint16_t proto_of(model::Protocol p) {
  switch (p) {
    case model::Protocol::Tcp: return IPPROTO_TCP;
    case model::Protocol::Udp: return IPPROTO_UDP;
    case model::Protocol::Sctp: return IPPROTO_SCTP;
  }
  return 0;
}

// The kernel copies union nf_inet_addr (16 bytes) whatever the family; IPv4 sits in the first 4.
void put_addr(nl_msg* m, int type, const model::IpAddress& a) {
  std::uint8_t raw[16] = {};
  std::memcpy(raw, a.bytes().data(), a.is_v4() ? 4 : 16);
  nla_put(m, type, sizeof raw, raw);
}

// Ports travel in network byte order inside a u16 attribute.
void put_port(nl_msg* m, int type, std::uint16_t port) { nla_put_u16(m, type, htons(port)); }

// The largest request (a tunnel destination with its service) is under 200 bytes; libnl's
// default is a page per message, which a 100,000-request batch would spend clearing.
constexpr std::size_t kMsgSize = 512;

Msg start(int family_id, std::uint8_t cmd, int flags) {
  Msg m(nlmsg_alloc_size(kMsgSize));
  if (!m) throw std::bad_alloc();
  if (!genlmsg_put(m.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family_id, 0, flags, cmd, kGenlVersion))
    throw std::bad_alloc();
  return m;
}

// The attributes that name a service: AF, then protocol/address/port or fwmark.
void put_service_key(nl_msg* m, const ServiceKey& k) {
  nla_put_u16(m, IPVS_SVC_ATTR_AF, af_of(k.family));
  if (k.is_fwmark()) {
    nla_put_u32(m, IPVS_SVC_ATTR_FWMARK, k.fwmark);
  } else {
    nla_put_u16(m, IPVS_SVC_ATTR_PROTOCOL, proto_of(k.protocol));
    put_addr(m, IPVS_SVC_ATTR_ADDR, k.endpoint.address);
    put_port(m, IPVS_SVC_ATTR_PORT, k.endpoint.port);
  }
}

void put_service_nest(nl_msg* m, const ServiceKey& k) {
  nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
  put_service_key(m, k);
  nla_nest_end(m, nest);
}

// IPv4 netmask as the kernel keeps it (__be32); IPv6 as a prefix length.
std::uint32_t netmask_value(model::Family f, std::uint8_t prefix) {
  if (f == model::Family::V6) return prefix;
  const std::uint32_t host = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return htonl(host);
}

std::uint8_t prefix_of(model::Family f, std::uint32_t netmask) {
  if (f == model::Family::V6) return static_cast<std::uint8_t>(netmask > 128 ? 128 : netmask);
  return static_cast<std::uint8_t>(__builtin_popcount(ntohl(netmask)));
}

void put_full_service(nl_msg* m, const Service& s) {
  nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_SERVICE);
  put_service_key(m, s.key);
  nla_put_string(m, IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.c_str());
  if (!s.pe_name.empty()) nla_put_string(m, IPVS_SVC_ATTR_PE_NAME, s.pe_name.c_str());
  ip_vs_flags flags{};
  flags.flags = s.flags;
  flags.mask = ~std::uint32_t{0};  // set every flag to the given value
  nla_put(m, IPVS_SVC_ATTR_FLAGS, sizeof flags, &flags);
  nla_put_u32(m, IPVS_SVC_ATTR_TIMEOUT, s.timeout);
  nla_put_u32(m, IPVS_SVC_ATTR_NETMASK, netmask_value(s.key.family, s.prefix_length));
  nla_nest_end(m, nest);
}

void put_destination(nl_msg* m, const Destination& d, bool full) {
  nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_DEST);
  put_addr(m, IPVS_DEST_ATTR_ADDR, d.endpoint.address);
  put_port(m, IPVS_DEST_ATTR_PORT, d.endpoint.port);
  nla_put_u16(m, IPVS_DEST_ATTR_ADDR_FAMILY, af_of(d.endpoint.address.family()));
  if (full) {
    nla_put_u32(m, IPVS_DEST_ATTR_FWD_METHOD, static_cast<std::uint32_t>(d.forward));
    nla_put_u32(m, IPVS_DEST_ATTR_WEIGHT, d.weight);
    nla_put_u32(m, IPVS_DEST_ATTR_U_THRESH, d.upper_threshold);
    nla_put_u32(m, IPVS_DEST_ATTR_L_THRESH, d.lower_threshold);
    if (d.forward == Forward::Tunnel) {
      nla_put_u8(m, IPVS_DEST_ATTR_TUN_TYPE, static_cast<std::uint8_t>(d.tunnel_type));
      put_port(m, IPVS_DEST_ATTR_TUN_PORT, d.tunnel_port);
      const std::uint16_t csum = d.tunnel_checksum == model::TunnelChecksum::NoCsum ? IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM
                                 : d.tunnel_checksum == model::TunnelChecksum::Csum ? IP_VS_TUNNEL_ENCAP_FLAG_CSUM
                                                                                    : IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
      nla_put_u16(m, IPVS_DEST_ATTR_TUN_FLAGS, csum);
    }
  }
  nla_nest_end(m, nest);
}

boost::system::error_code bad_message() { return errc::make_error_code(errc::bad_message); }

std::optional<model::IpAddress> get_addr(nlattr* a, std::uint16_t af) {
  if (!a || nla_len(a) < (af == AF_INET ? 4 : 16)) return std::nullopt;
  const auto* p = static_cast<const std::uint8_t*>(nla_data(a));
  if (af == AF_INET) return model::IpAddress::v4(std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 |
                                                 std::uint32_t{p[2]} << 8 | p[3]);
  if (af != AF_INET6) return std::nullopt;
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), p, 16);
  return model::IpAddress::v6(b);
}

Stats get_stats(nlattr* stats64, nlattr* stats32) {
  Stats s;
  nlattr* a[IPVS_STATS_ATTR_PAD + 1] = {};
  nlattr* from = stats64 ? stats64 : stats32;
  if (!from || nla_parse_nested(a, IPVS_STATS_ATTR_PAD, from, nullptr) < 0) return s;
  auto get = [&](int type) -> std::uint64_t {
    if (!a[type]) return 0;
    return nla_len(a[type]) >= 8 ? nla_get_u64(a[type]) : nla_get_u32(a[type]);
  };
  s.conns = get(IPVS_STATS_ATTR_CONNS);
  s.inpkts = get(IPVS_STATS_ATTR_INPKTS);
  s.outpkts = get(IPVS_STATS_ATTR_OUTPKTS);
  s.inbytes = get(IPVS_STATS_ATTR_INBYTES);
  s.outbytes = get(IPVS_STATS_ATTR_OUTBYTES);
  s.cps = get(IPVS_STATS_ATTR_CPS);
  s.inpps = get(IPVS_STATS_ATTR_INPPS);
  s.outpps = get(IPVS_STATS_ATTR_OUTPPS);
  s.inbps = get(IPVS_STATS_ATTR_INBPS);
  s.outbps = get(IPVS_STATS_ATTR_OUTBPS);
  return s;
}

// Policies: the type and length bounds of every attribute we read, checked by libnl.
struct Policies {
  nla_policy service[IPVS_SVC_ATTR_MAX + 1] = {};
  nla_policy dest[IPVS_DEST_ATTR_MAX + 1] = {};
  nla_policy cmd[IPVS_CMD_ATTR_MAX + 1] = {};
  nla_policy info[IPVS_INFO_ATTR_MAX + 1] = {};
  nla_policy daemon[IPVS_DAEMON_ATTR_MAX + 1] = {};

  Policies() {
    service[IPVS_SVC_ATTR_AF] = {NLA_U16, 0, 0};
    service[IPVS_SVC_ATTR_PROTOCOL] = {NLA_U16, 0, 0};
    service[IPVS_SVC_ATTR_ADDR] = {NLA_UNSPEC, 4, 16};
    service[IPVS_SVC_ATTR_PORT] = {NLA_U16, 0, 0};
    service[IPVS_SVC_ATTR_FWMARK] = {NLA_U32, 0, 0};
    service[IPVS_SVC_ATTR_SCHED_NAME] = {NLA_STRING, 0, IP_VS_SCHEDNAME_MAXLEN};
    service[IPVS_SVC_ATTR_PE_NAME] = {NLA_STRING, 0, IP_VS_PENAME_MAXLEN};
    service[IPVS_SVC_ATTR_FLAGS] = {NLA_UNSPEC, sizeof(ip_vs_flags), 0};
    service[IPVS_SVC_ATTR_TIMEOUT] = {NLA_U32, 0, 0};
    service[IPVS_SVC_ATTR_NETMASK] = {NLA_U32, 0, 0};
    service[IPVS_SVC_ATTR_STATS] = {NLA_NESTED, 0, 0};
    service[IPVS_SVC_ATTR_STATS64] = {NLA_NESTED, 0, 0};
    dest[IPVS_DEST_ATTR_ADDR] = {NLA_UNSPEC, 4, 16};
    dest[IPVS_DEST_ATTR_PORT] = {NLA_U16, 0, 0};
    dest[IPVS_DEST_ATTR_FWD_METHOD] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_WEIGHT] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_U_THRESH] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_L_THRESH] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_ACTIVE_CONNS] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_INACT_CONNS] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_PERSIST_CONNS] = {NLA_U32, 0, 0};
    dest[IPVS_DEST_ATTR_STATS] = {NLA_NESTED, 0, 0};
    dest[IPVS_DEST_ATTR_STATS64] = {NLA_NESTED, 0, 0};
    dest[IPVS_DEST_ATTR_ADDR_FAMILY] = {NLA_U16, 0, 0};
    dest[IPVS_DEST_ATTR_TUN_TYPE] = {NLA_U8, 0, 0};
    dest[IPVS_DEST_ATTR_TUN_PORT] = {NLA_U16, 0, 0};
    dest[IPVS_DEST_ATTR_TUN_FLAGS] = {NLA_U16, 0, 0};
    cmd[IPVS_CMD_ATTR_SERVICE] = {NLA_NESTED, 0, 0};
    cmd[IPVS_CMD_ATTR_DEST] = {NLA_NESTED, 0, 0};
    cmd[IPVS_CMD_ATTR_DAEMON] = {NLA_NESTED, 0, 0};
    cmd[IPVS_CMD_ATTR_TIMEOUT_TCP] = {NLA_U32, 0, 0};
    cmd[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN] = {NLA_U32, 0, 0};
    cmd[IPVS_CMD_ATTR_TIMEOUT_UDP] = {NLA_U32, 0, 0};
    info[IPVS_INFO_ATTR_VERSION] = {NLA_U32, 0, 0};
    daemon[IPVS_DAEMON_ATTR_STATE] = {NLA_U32, 0, 0};
    daemon[IPVS_DAEMON_ATTR_MCAST_IFN] = {NLA_STRING, 0, IP_VS_IFNAME_MAXLEN};
    daemon[IPVS_DAEMON_ATTR_SYNC_ID] = {NLA_U32, 0, 0};
    daemon[IPVS_DAEMON_ATTR_SYNC_MAXLEN] = {NLA_U16, 0, 0};
    daemon[IPVS_DAEMON_ATTR_MCAST_GROUP] = {NLA_U32, 0, 0};
    daemon[IPVS_DAEMON_ATTR_MCAST_GROUP6] = {NLA_UNSPEC, 16, 16};
    daemon[IPVS_DAEMON_ATTR_MCAST_PORT] = {NLA_U16, 0, 0};
    daemon[IPVS_DAEMON_ATTR_MCAST_TTL] = {NLA_U8, 0, 0};
    info[IPVS_INFO_ATTR_CONN_TAB_SIZE] = {NLA_U32, 0, 0};
  }
};

// The kernel requires state, interface and sync ID; the rest only when not left to it.
// The port is a plain u16 in host order, unlike service and destination ports.
void put_daemon(nl_msg* m, const SyncDaemon& d) {
  nlattr* nest = nla_nest_start(m, IPVS_CMD_ATTR_DAEMON);
  nla_put_u32(m, IPVS_DAEMON_ATTR_STATE, static_cast<std::uint32_t>(d.state));
  nla_put_string(m, IPVS_DAEMON_ATTR_MCAST_IFN, d.interface.c_str());
  nla_put_u32(m, IPVS_DAEMON_ATTR_SYNC_ID, d.sync_id);
  if (d.max_len) nla_put_u16(m, IPVS_DAEMON_ATTR_SYNC_MAXLEN, d.max_len);
  if (d.group && d.group->is_v4()) nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP, 4, d.group->bytes().data());
  if (d.group && d.group->is_v6()) nla_put(m, IPVS_DAEMON_ATTR_MCAST_GROUP6, 16, d.group->bytes().data());
  if (d.port) nla_put_u16(m, IPVS_DAEMON_ATTR_MCAST_PORT, d.port);
  if (d.ttl) nla_put_u8(m, IPVS_DAEMON_ATTR_MCAST_TTL, d.ttl);
  nla_nest_end(m, nest);
}

Policies& policies() {
  static Policies p;
  return p;
}

std::string get_string(nlattr* a) {
  if (!a) return {};
  const char* p = static_cast<const char*>(nla_data(a));
  return std::string(p, strnlen(p, static_cast<std::size_t>(nla_len(a))));
}

}  // namespace

Msg encode(const Operation& op, int family_id) {
  return std::visit(
      [&](const auto& o) -> Msg {
        using T = std::decay_t<decltype(o)>;
        constexpr int flags = NLM_F_REQUEST | NLM_F_ACK;
        if constexpr (std::is_same_v<T, AddService> || std::is_same_v<T, EditService>) {
          Msg m = start(family_id, std::is_same_v<T, AddService> ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE, flags);
          put_full_service(m.get(), o.service);
          return m;
        } else if constexpr (std::is_same_v<T, DeleteService>) {
          Msg m = start(family_id, IPVS_CMD_DEL_SERVICE, flags);
          put_service_nest(m.get(), o.key);
          return m;
        } else if constexpr (std::is_same_v<T, SetTimeouts>) {
          // Zero leaves a timeout as it is (ip_vs_set_timeout), so all three always go.
          Msg m = start(family_id, IPVS_CMD_SET_CONFIG, flags);
          nla_put_u32(m.get(), IPVS_CMD_ATTR_TIMEOUT_TCP, o.timeouts.tcp);
          nla_put_u32(m.get(), IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, o.timeouts.tcp_fin);
          nla_put_u32(m.get(), IPVS_CMD_ATTR_TIMEOUT_UDP, o.timeouts.udp);
          return m;
        } else if constexpr (std::is_same_v<T, StartDaemon>) {
          Msg m = start(family_id, IPVS_CMD_NEW_DAEMON, flags);
          put_daemon(m.get(), o.daemon);
          return m;
        } else if constexpr (std::is_same_v<T, StopDaemon>) {
          Msg m = start(family_id, IPVS_CMD_DEL_DAEMON, flags);
          nlattr* nest = nla_nest_start(m.get(), IPVS_CMD_ATTR_DAEMON);
          nla_put_u32(m.get(), IPVS_DAEMON_ATTR_STATE, static_cast<std::uint32_t>(o.state));
          nla_nest_end(m.get(), nest);
          return m;
        } else if constexpr (std::is_same_v<T, DeleteDestination>) {
          Msg m = start(family_id, IPVS_CMD_DEL_DEST, flags);
          put_service_nest(m.get(), o.service);
          Destination d;
          d.endpoint = o.endpoint;
          put_destination(m.get(), d, false);
          return m;
        } else {
          Msg m = start(family_id, std::is_same_v<T, AddDestination> ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST, flags);
          put_service_nest(m.get(), o.service);
          put_destination(m.get(), o.destination, true);
          return m;
        }
      },
      op);
}

Msg encode_dump_services(int family_id) {
  return start(family_id, IPVS_CMD_GET_SERVICE, NLM_F_REQUEST | NLM_F_DUMP);
}

Msg encode_dump_destinations(int family_id, const ServiceKey& service) {
  Msg m = start(family_id, IPVS_CMD_GET_DEST, NLM_F_REQUEST | NLM_F_DUMP);
  put_service_nest(m.get(), service);
  return m;
}

Msg encode_dump_daemons(int family_id) {
  return start(family_id, IPVS_CMD_GET_DAEMON, NLM_F_REQUEST | NLM_F_DUMP);
}

Msg encode_get_info(int family_id) { return start(family_id, IPVS_CMD_GET_INFO, NLM_F_REQUEST); }
Msg encode_get_config(int family_id) { return start(family_id, IPVS_CMD_GET_CONFIG, NLM_F_REQUEST); }

std::vector<std::uint8_t> bytes(nl_msg* msg) {
  const nlmsghdr* h = nlmsg_hdr(msg);
  const auto* p = reinterpret_cast<const std::uint8_t*>(h);
  return {p, p + h->nlmsg_len};
}

boost::system::result<Service> decode_service(nlmsghdr* hdr) {
  nlattr* cmd[IPVS_CMD_ATTR_MAX + 1] = {};
  if (genlmsg_parse(hdr, 0, cmd, IPVS_CMD_ATTR_MAX, policies().cmd) < 0 || !cmd[IPVS_CMD_ATTR_SERVICE])
    return bad_message();
  nlattr* a[IPVS_SVC_ATTR_MAX + 1] = {};
  if (nla_parse_nested(a, IPVS_SVC_ATTR_MAX, cmd[IPVS_CMD_ATTR_SERVICE], policies().service) < 0) return bad_message();
  if (!a[IPVS_SVC_ATTR_AF] || !a[IPVS_SVC_ATTR_SCHED_NAME] || !a[IPVS_SVC_ATTR_FLAGS]) return bad_message();
  Service s;
  const std::uint16_t af = nla_get_u16(a[IPVS_SVC_ATTR_AF]);
  if (af != AF_INET && af != AF_INET6) return bad_message();
  s.key.family = af == AF_INET ? model::Family::V4 : model::Family::V6;
  if (a[IPVS_SVC_ATTR_FWMARK] && nla_get_u32(a[IPVS_SVC_ATTR_FWMARK]) != 0) {
    s.key.fwmark = nla_get_u32(a[IPVS_SVC_ATTR_FWMARK]);
  } else {
    auto addr = get_addr(a[IPVS_SVC_ATTR_ADDR], af);
    if (!addr || !a[IPVS_SVC_ATTR_PORT] || !a[IPVS_SVC_ATTR_PROTOCOL]) return bad_message();
    s.key.endpoint = {*addr, ntohs(nla_get_u16(a[IPVS_SVC_ATTR_PORT]))};
  }
  if (a[IPVS_SVC_ATTR_PROTOCOL]) {
    switch (nla_get_u16(a[IPVS_SVC_ATTR_PROTOCOL])) {
      case IPPROTO_TCP: s.key.protocol = model::Protocol::Tcp; break;
      case IPPROTO_UDP: s.key.protocol = model::Protocol::Udp; break;
      case IPPROTO_SCTP: s.key.protocol = model::Protocol::Sctp; break;
      default:
        if (!s.key.is_fwmark()) return bad_message();
    }
  }
  s.scheduler = get_string(a[IPVS_SVC_ATTR_SCHED_NAME]);
  s.pe_name = get_string(a[IPVS_SVC_ATTR_PE_NAME]);
  ip_vs_flags flags{};
  std::memcpy(&flags, nla_data(a[IPVS_SVC_ATTR_FLAGS]), sizeof flags);
  s.flags = flags.flags & kSettableFlags;
  s.timeout = a[IPVS_SVC_ATTR_TIMEOUT] ? nla_get_u32(a[IPVS_SVC_ATTR_TIMEOUT]) : 0;
  s.prefix_length = a[IPVS_SVC_ATTR_NETMASK] ? prefix_of(s.key.family, nla_get_u32(a[IPVS_SVC_ATTR_NETMASK]))
                                             : static_cast<std::uint8_t>(model::max_prefix(s.key.family));
  s.stats = get_stats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS]);
  return s;
}

boost::system::result<Destination> decode_destination(nlmsghdr* hdr, model::Family service_family) {
  nlattr* cmd[IPVS_CMD_ATTR_MAX + 1] = {};
  if (genlmsg_parse(hdr, 0, cmd, IPVS_CMD_ATTR_MAX, policies().cmd) < 0 || !cmd[IPVS_CMD_ATTR_DEST])
    return bad_message();
  nlattr* a[IPVS_DEST_ATTR_MAX + 1] = {};
  if (nla_parse_nested(a, IPVS_DEST_ATTR_MAX, cmd[IPVS_CMD_ATTR_DEST], policies().dest) < 0) return bad_message();
  const std::uint16_t af = a[IPVS_DEST_ATTR_ADDR_FAMILY] ? nla_get_u16(a[IPVS_DEST_ATTR_ADDR_FAMILY])
                                                         : af_of(service_family);
  auto addr = get_addr(a[IPVS_DEST_ATTR_ADDR], af);
  if (!addr || !a[IPVS_DEST_ATTR_PORT] || !a[IPVS_DEST_ATTR_FWD_METHOD] || !a[IPVS_DEST_ATTR_WEIGHT])
    return bad_message();
  Destination d;
  d.endpoint = {*addr, ntohs(nla_get_u16(a[IPVS_DEST_ATTR_PORT]))};
  const std::uint32_t fwd = nla_get_u32(a[IPVS_DEST_ATTR_FWD_METHOD]) & IP_VS_CONN_F_FWD_MASK;
  if (fwd > static_cast<std::uint32_t>(Forward::Bypass)) return bad_message();
  d.forward = static_cast<Forward>(fwd);
  d.weight = nla_get_u32(a[IPVS_DEST_ATTR_WEIGHT]);
  auto u32 = [&](int type) { return a[type] ? nla_get_u32(a[type]) : 0u; };
  d.upper_threshold = u32(IPVS_DEST_ATTR_U_THRESH);
  d.lower_threshold = u32(IPVS_DEST_ATTR_L_THRESH);
  d.active_conns = u32(IPVS_DEST_ATTR_ACTIVE_CONNS);
  d.inactive_conns = u32(IPVS_DEST_ATTR_INACT_CONNS);
  d.persistent_conns = u32(IPVS_DEST_ATTR_PERSIST_CONNS);
  if (d.forward == Forward::Tunnel) {
    if (a[IPVS_DEST_ATTR_TUN_TYPE]) {
      const auto t = nla_get_u8(a[IPVS_DEST_ATTR_TUN_TYPE]);
      if (t > IP_VS_CONN_F_TUNNEL_TYPE_GRE) return bad_message();
      d.tunnel_type = static_cast<model::TunnelType>(t);
    }
    if (a[IPVS_DEST_ATTR_TUN_PORT]) d.tunnel_port = ntohs(nla_get_u16(a[IPVS_DEST_ATTR_TUN_PORT]));
    if (a[IPVS_DEST_ATTR_TUN_FLAGS]) {
      const auto f = nla_get_u16(a[IPVS_DEST_ATTR_TUN_FLAGS]);
      d.tunnel_checksum = (f & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM) ? model::TunnelChecksum::RemCsum
                          : (f & IP_VS_TUNNEL_ENCAP_FLAG_CSUM)  ? model::TunnelChecksum::Csum
                                                                : model::TunnelChecksum::NoCsum;
    }
  }
  d.stats = get_stats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS]);
  return d;
}

boost::system::result<Info> decode_info(nlmsghdr* hdr) {
  nlattr* a[IPVS_INFO_ATTR_MAX + 1] = {};
  if (genlmsg_parse(hdr, 0, a, IPVS_INFO_ATTR_MAX, policies().info) < 0 || !a[IPVS_INFO_ATTR_VERSION] ||
      !a[IPVS_INFO_ATTR_CONN_TAB_SIZE])
    return bad_message();
  return Info{nla_get_u32(a[IPVS_INFO_ATTR_VERSION]), nla_get_u32(a[IPVS_INFO_ATTR_CONN_TAB_SIZE])};
}

boost::system::result<Timeouts> decode_config(nlmsghdr* hdr) {
  nlattr* a[IPVS_CMD_ATTR_MAX + 1] = {};
  if (genlmsg_parse(hdr, 0, a, IPVS_CMD_ATTR_MAX, policies().cmd) < 0) return bad_message();
  auto u32 = [&](int type) { return a[type] ? nla_get_u32(a[type]) : 0u; };
  return Timeouts{u32(IPVS_CMD_ATTR_TIMEOUT_TCP), u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN), u32(IPVS_CMD_ATTR_TIMEOUT_UDP)};
}

boost::system::result<SyncDaemon> decode_daemon(nlmsghdr* hdr) {
  nlattr* cmd[IPVS_CMD_ATTR_MAX + 1] = {};
  if (genlmsg_parse(hdr, 0, cmd, IPVS_CMD_ATTR_MAX, policies().cmd) < 0 || !cmd[IPVS_CMD_ATTR_DAEMON])
    return bad_message();
  nlattr* a[IPVS_DAEMON_ATTR_MAX + 1] = {};
  if (nla_parse_nested(a, IPVS_DAEMON_ATTR_MAX, cmd[IPVS_CMD_ATTR_DAEMON], policies().daemon) < 0)
    return bad_message();
  if (!a[IPVS_DAEMON_ATTR_STATE] || !a[IPVS_DAEMON_ATTR_MCAST_IFN] || !a[IPVS_DAEMON_ATTR_SYNC_ID])
    return bad_message();
  SyncDaemon d;
  const auto state = nla_get_u32(a[IPVS_DAEMON_ATTR_STATE]);
  if (state != IP_VS_STATE_MASTER && state != IP_VS_STATE_BACKUP) return bad_message();
  d.state = static_cast<SyncState>(state);
  d.interface = get_string(a[IPVS_DAEMON_ATTR_MCAST_IFN]);
  d.sync_id = nla_get_u32(a[IPVS_DAEMON_ATTR_SYNC_ID]);
  if (a[IPVS_DAEMON_ATTR_SYNC_MAXLEN]) d.max_len = nla_get_u16(a[IPVS_DAEMON_ATTR_SYNC_MAXLEN]);
  if (a[IPVS_DAEMON_ATTR_MCAST_GROUP]) d.group = get_addr(a[IPVS_DAEMON_ATTR_MCAST_GROUP], AF_INET);
  if (a[IPVS_DAEMON_ATTR_MCAST_GROUP6]) d.group = get_addr(a[IPVS_DAEMON_ATTR_MCAST_GROUP6], AF_INET6);
  if (a[IPVS_DAEMON_ATTR_MCAST_PORT]) d.port = nla_get_u16(a[IPVS_DAEMON_ATTR_MCAST_PORT]);
  if (a[IPVS_DAEMON_ATTR_MCAST_TTL]) d.ttl = nla_get_u8(a[IPVS_DAEMON_ATTR_MCAST_TTL]);
  return d;
}

}  // namespace lvsd::ipvs::netlink
