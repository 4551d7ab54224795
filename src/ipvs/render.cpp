// ipvsadm-compatible text of the kernel table, byte for byte what Debian 12's ipvsadm 1.31
// prints for `ipvsadm -L -n [options]` and `ipvsadm -S -n`.
//
// Every fact here comes from ipvsadm 1.31's source (ipvsadm.c and libipvs/libipvs.c); each
// comment names the function it comes from. None of its code is copied.
//
// The order of the lines:
// - ipvsadm sorts by default. list_all() sorts the services with ipvs_sort_services() and
//   print_service_entry() sorts each service's destinations with ipvs_sort_dests(), unless
//   --nosort was given; --sort is accepted and does nothing ("Sort is the default").
//   `ipvsadm -S` rejects --nosort (commands_v_options), so a save is always sorted.
// - Services (libipvs ipvs_cmp_services): by fwmark (so every address service, mark 0, comes
//   before every fwmark service), then address family (AF_INET 2 before AF_INET6 10), then
//   protocol number (TCP 6, UDP 17, SCTP 132), then address, then port. Destinations
//   (ipvs_cmp_dests): by address, then port.
// - The address comparisons are `int r = ntohl(a) - ntohl(b)` on 32-bit unsigned words (for
//   IPv6, word by word): the difference wraps, so addresses 2^31 or more apart compare the
//   wrong way round (192.0.2.10 sorts before 10.0.0.1, and fd00:: before 2001:db8::). The
//   fwmark comparison wraps the same way. That is no total order, so the result depends on
//   the sort: glibc 2.36's qsort (Debian 12), a top-down merge sort, reproduced below.
// - With --nosort the lines come in the kernel's dump order, which is the order of the Table:
//   the kernel walks its service hash table (address services) and then its fwmark hash
//   table, bucket by bucket, and each service's destination list. The VM comparison must
//   confirm that the netlink backend keeps that order.
#include "lvsd/ipvs/render.hpp"

#include <algorithm>
#include <iterator>
#include <span>
#include <vector>

#include <fmt/format.h>

namespace lvsd::ipvs {
namespace {

using model::Family;
using model::IpAddress;
using model::Protocol;

// ---- order -------------------------------------------------------------------------------

// The numbers ipvs_cmp_services compares: AF_INET/AF_INET6 and IPPROTO_*.
int af_number(Family family) { return family == Family::V4 ? 2 : 10; }

int protocol_number(Protocol protocol) {
  switch (protocol) {
    case Protocol::Tcp: return 6;
    case Protocol::Udp: return 17;
    case Protocol::Sctp: return 132;
  }
  return 0;
}

// ipvsadm's `int r = a - b` on two 32-bit unsigned values.
int wrapped_difference(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}

// Word i (0..3) of the address as libipvs holds it (union nf_inet_addr, zero past an IPv4
// address), in host order.
std::uint32_t address_word(const IpAddress& address, int i) {
  const auto& b = address.bytes();
  const auto at = static_cast<std::size_t>(4 * i);
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
         std::uint32_t{b[at + 2]} << 8 | std::uint32_t{b[at + 3]};
}

// Compares the whole address when `wide` (the left-hand entry is IPv6), else its first word.
int compare_addresses(const IpAddress& a, const IpAddress& b, bool wide) {
  int r = 0;
  for (int i = 0; r == 0 && i < (wide ? 4 : 1); ++i)
    r = wrapped_difference(address_word(a, i), address_word(b, i));
  return r;
}

// libipvs ipvs_cmp_services. For a fwmark service the kernel sends no protocol, address or
// port (ip_vs_genl_fill_service), so libipvs leaves them zero.
int compare_services(const ServiceEntry& left, const ServiceEntry& right) {
  const ServiceKey& a = left.service.key;
  const ServiceKey& b = right.service.key;
  if (int r = wrapped_difference(a.fwmark, b.fwmark)) return r;
  if (int r = af_number(a.family) - af_number(b.family)) return r;
  const auto protocol = [](const ServiceKey& k) { return k.is_fwmark() ? 0 : protocol_number(k.protocol); };
  if (int r = protocol(a) - protocol(b)) return r;
  const IpAddress zero;
  const auto address = [&](const ServiceKey& k) -> const IpAddress& {
    return k.is_fwmark() ? zero : k.endpoint.address;
  };
  if (int r = compare_addresses(address(a), address(b), a.family == Family::V6)) return r;
  const auto port = [](const ServiceKey& k) { return k.is_fwmark() ? 0 : int{k.endpoint.port}; };
  return port(a) - port(b);
}

// libipvs ipvs_cmp_dests: the left-hand destination's family decides how much address to
// compare (a tunnel destination may have the other family).
int compare_destinations(const Destination& a, const Destination& b) {
  if (int r = compare_addresses(a.endpoint.address, b.endpoint.address, a.endpoint.address.is_v6()))
    return r;
  return int{a.endpoint.port} - int{b.endpoint.port};
}

// glibc 2.36's qsort (stdlib/msort.c): sort the first n/2 and the other n - n/2, then merge,
// taking the left element while compare(left, right) <= 0.
template <class T, class Compare>
void merge_sort(std::span<const T*> items, std::span<const T*> scratch, Compare compare) {
  const std::size_t n = items.size();
  if (n <= 1) return;
  const std::size_t n1 = n / 2;
  merge_sort(items.first(n1), scratch, compare);
  merge_sort(items.subspan(n1), scratch, compare);
  std::size_t i = 0, j = n1, k = 0;
  while (i < n1 && j < n) scratch[k++] = compare(*items[i], *items[j]) <= 0 ? items[i++] : items[j++];
  while (i < n1) scratch[k++] = items[i++];
  // What is left of the right half is already in place.
  std::copy_n(scratch.begin(), k, items.begin());
}

template <class T, class Compare>
std::vector<const T*> in_order(const std::vector<T>& items, bool nosort, Compare compare) {
  std::vector<const T*> order;
  order.reserve(items.size());
  for (const T& item : items) order.push_back(&item);
  if (!nosort) {
    std::vector<const T*> scratch(items.size());
    merge_sort(std::span<const T*>(order), std::span<const T*>(scratch), compare);
  }
  return order;
}

// ---- counters ----------------------------------------------------------------------------

// libipvs ipvs_dests_parse_cb hands a destination's IPVS_DEST_ATTR_STATS64 to
// ipvs_parse_stats, the 32-bit parser, which reads every counter but the two byte counts
// with nla_get_u32: from a 64-bit attribute on a little-endian machine, the low 32 bits.
// (Services go through ipvs_parse_stats64 and keep all 64 bits.)
Stats as_ipvsadm_reads_destination(const Stats& s) {
  const auto low = [](std::uint64_t v) { return v & 0xffffffffu; };
  return Stats{.conns = low(s.conns), .inpkts = low(s.inpkts), .outpkts = low(s.outpkts),
               .inbytes = s.inbytes, .outbytes = s.outbytes, .cps = low(s.cps),
               .inpps = low(s.inpps), .outpps = low(s.outpps), .inbps = low(s.inbps),
               .outbps = low(s.outbps)};
}

using Out = std::back_insert_iterator<std::string>;

// ipvsadm print_largenum: nine columns. Scaled, a number below 10^8 prints in full, then it
// is divided down to K (10^3), M (10^6), G (10^9) or T (10^12) while below 10^9, 10^11, 10^14
// and beyond: at most 8 digits and the letter. --exact prints it in full and widens the
// column past 8 digits, always keeping one leading space.
void put_largenum(Out out, std::uint64_t v, bool exact) {
  if (exact) {
    fmt::format_to(out, " {:>8}", v);
  } else if (v < 100'000'000ULL) {
    fmt::format_to(out, "{:>9}", v);
  } else if (v < 1'000'000'000ULL) {
    fmt::format_to(out, "{:>8}K", v / 1'000ULL);
  } else if (v < 100'000'000'000ULL) {
    fmt::format_to(out, "{:>8}M", v / 1'000'000ULL);
  } else if (v < 100'000'000'000'000ULL) {
    fmt::format_to(out, "{:>8}G", v / 1'000'000'000ULL);
  } else {
    fmt::format_to(out, "{:>8}T", v / 1'000'000'000'000ULL);
  }
}

// ---- names -------------------------------------------------------------------------------

// ipvsadm protocol_name and option_from_protocol.
std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::Tcp: return "TCP";
    case Protocol::Udp: return "UDP";
    case Protocol::Sctp: return "SCTP";
  }
  return "?";
}

std::string_view protocol_option(Protocol protocol) {
  switch (protocol) {
    case Protocol::Tcp: return "-t";
    case Protocol::Udp: return "-u";
    case Protocol::Sctp: return "--sctp-service";
  }
  return "--xxx-service";
}

// ipvsadm prints a fwmark, a weight and the table size with %d.
std::int32_t as_int(std::uint32_t v) { return static_cast<std::int32_t>(v); }

// print_service_entry's service name in a listing: "TCP  192.0.2.10:80" ("%-4s %s", cut to
// 33 characters unless IPv6), "FWM  7" or "FWM  7 IPv6" (two spaces).
std::string listing_name(const ServiceKey& key) {
  if (key.is_fwmark())
    return fmt::format("FWM  {}{}", as_int(key.fwmark), key.family == Family::V6 ? " IPv6" : "");
  std::string name = fmt::format("{:<4} {}", protocol_name(key.protocol), key.endpoint.to_string());
  if (key.family != Family::V6 && name.size() > 33) name.resize(33);
  return name;
}

// print_service_entry's service name in a save: "-t 192.0.2.10:80", "-f 7", "-f 7 -6".
std::string rule_name(const ServiceKey& key) {
  if (key.is_fwmark()) return fmt::format("-f {}{}", as_int(key.fwmark), key.family == Family::V6 ? " -6" : "");
  return fmt::format("{} {}", protocol_option(key.protocol), key.endpoint.to_string());
}

// A destination in a listing: "%-28s" of its address, cut to 28 characters unless IPv6.
std::string listing_destination(const Destination& d) {
  std::string name = d.endpoint.to_string();
  if (!d.endpoint.address.is_v6() && name.size() > 28) name.resize(28);
  return name;
}

// ipvsadm fwd_name and fwd_switch. No name for Bypass: printf prints glibc's "(null)".
std::string_view forward_name(Forward forward) {
  switch (forward) {
    case Forward::Masq: return "Masq";
    case Forward::Local: return "Local";
    case Forward::Tunnel: return "Tunnel";
    case Forward::Route: return "Route";
    case Forward::Bypass: break;
  }
  return "(null)";
}

std::string_view forward_switch(Forward forward) {
  switch (forward) {
    case Forward::Masq: return "-m";
    case Forward::Tunnel: return "-i";
    case Forward::Local:  // ipvsadm saves a local destination as -g: the kernel makes it local
    case Forward::Route: return "-g";
    case Forward::Bypass: break;
  }
  return "(null)";
}

// ipvsadm's tunnames, tunflags (listing) and tun_flags_opts (save), indexed by the kernel's
// tunnel type and IP_VS_TUNNEL_ENCAP_FLAG_* value.
std::string_view tunnel_type_name(model::TunnelType type) {
  switch (type) {
    case model::TunnelType::Ipip: return "ipip";
    case model::TunnelType::Gue: return "gue";
    case model::TunnelType::Gre: return "gre";
  }
  return "?";
}

std::string_view tunnel_checksum_flag(model::TunnelChecksum checksum) {
  switch (checksum) {
    case model::TunnelChecksum::NoCsum: return "-c";
    case model::TunnelChecksum::Csum: return "+c";
    case model::TunnelChecksum::RemCsum: return "r+c";
  }
  return "?";
}

std::string_view tunnel_checksum_option(model::TunnelChecksum checksum) {
  switch (checksum) {
    case model::TunnelChecksum::NoCsum: return "--tun-nocsum";
    case model::TunnelChecksum::Csum: return "--tun-csum";
    case model::TunnelChecksum::RemCsum: return "--tun-remcsum";
  }
  return "?";
}

// ipvsadm fwd_tun_info: "ipip", "gue:PORT:FLAG", "gre:FLAG"; "n/a" (NA) for a destination
// that is no tunnel.
std::string tunnel_info(const Destination& d) {
  if (d.forward != Forward::Tunnel) return "n/a";
  switch (d.tunnel_type) {
    case model::TunnelType::Ipip: return "ipip";
    case model::TunnelType::Gue:
      return fmt::format("gue:{}:{}", d.tunnel_port, tunnel_checksum_flag(d.tunnel_checksum));
    case model::TunnelType::Gre: return fmt::format("gre:{}", tunnel_checksum_flag(d.tunnel_checksum));
  }
  return "n/a";
}

// ipvsadm print_sched_flags: the names depend on the scheduler. sh and mh name only their
// two flags, so sh with flag-3 alone prints nothing (and the listing shows "()").
std::string scheduler_flags(const Service& s) {
  std::vector<std::string_view> names;
  if (s.scheduler == "sh" || s.scheduler == "mh") {
    const bool sh = s.scheduler == "sh";
    if (s.flags & kFlagSched1) names.push_back(sh ? "sh-fallback" : "mh-fallback");
    if (s.flags & kFlagSched2) names.push_back(sh ? "sh-port" : "mh-port");
  } else {
    if (s.flags & kFlagSched1) names.push_back("flag-1");
    if (s.flags & kFlagSched2) names.push_back("flag-2");
    if (s.flags & kFlagSched3) names.push_back("flag-3");
  }
  return fmt::format("{}", fmt::join(names, ","));
}

constexpr std::uint32_t kSchedFlags = kFlagSched1 | kFlagSched2 | kFlagSched3;

// The persistence granularity as ipvsadm shows it, or "" for a single client (/32, /128):
// IPv4 as a dotted mask (inet_ntoa of the kernel's netmask), IPv6 as the prefix length.
std::string netmask_text(const Service& s) {
  if (s.key.family == Family::V6) return s.prefix_length == 128 ? "" : fmt::format("{}", s.prefix_length);
  if (s.prefix_length >= 32) return "";
  const std::uint32_t mask = s.prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - s.prefix_length);
  return fmt::format("{}.{}.{}.{}", mask >> 24, (mask >> 16) & 0xff, (mask >> 8) & 0xff, mask & 0xff);
}

// ---- listing -----------------------------------------------------------------------------

// ipvsadm print_title. The column titles are padded with %-10s and the like, so most of
// these lines end in a space.
void put_title(Out out, ListView view) {
  constexpr std::string_view kDestTitle = "  -> RemoteAddress:Port\n";
  switch (view) {
    case ListView::Stats:
      fmt::format_to(out, "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{}", "Prot LocalAddress:Port", "Conns",
                     "InPkts", "OutPkts", "InBytes", "OutBytes", kDestTitle);
      break;
    case ListView::Rate:
      fmt::format_to(out, "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{}", "Prot LocalAddress:Port", "CPS",
                     "InPPS", "OutPPS", "InBPS", "OutBPS", kDestTitle);
      break;
    case ListView::Thresholds:
      fmt::format_to(out, "{:<33} {:<10} {:<10} {:<10} {:<10}\n{}", "Prot LocalAddress:Port",
                     "Uthreshold", "Lthreshold", "ActiveConn", "InActConn", kDestTitle);
      break;
    case ListView::PersistentConn:
      fmt::format_to(out, "{:<33} {:<9} {:<11} {:<10} {:<10}\n{}", "Prot LocalAddress:Port", "Weight",
                     "PersistConn", "ActiveConn", "InActConn", kDestTitle);
      break;
    case ListView::TunnelInfo:
      fmt::format_to(out,
                     "Prot LocalAddress:Port Scheduler Flags\n"
                     "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n");
      break;
    case ListView::Plain:
      fmt::format_to(out,
                     "Prot LocalAddress:Port Scheduler Flags\n"
                     "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
      break;
  }
}

// print_service_entry's service line outside the counter views: name, scheduler, "(flags)",
// then "persistent T", "mask M" and "pe NAME" (all three only for a persistent service), then
// "ops".
void put_service_line(Out out, const Service& s) {
  fmt::format_to(out, "{} {}", listing_name(s.key), s.scheduler);
  if (s.flags & kSchedFlags) fmt::format_to(out, " ({})", scheduler_flags(s));
  if (s.flags & kFlagPersistent) {
    fmt::format_to(out, " persistent {}", s.timeout);
    if (auto mask = netmask_text(s); !mask.empty()) fmt::format_to(out, " mask {}", mask);
    if (!s.pe_name.empty()) fmt::format_to(out, " pe {}", s.pe_name);
  }
  if (s.flags & kFlagOnePacket) fmt::format_to(out, " ops");
  fmt::format_to(out, "\n");
}

void put_five(Out out, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d,
              std::uint64_t e, bool exact) {
  for (std::uint64_t v : {a, b, c, d, e}) put_largenum(out, v, exact);
}

void put_entry(Out out, const ServiceEntry& entry, const ListOptions& options) {
  const Service& s = entry.service;
  const bool exact = options.exact;
  switch (options.view) {
    case ListView::Stats:
      fmt::format_to(out, "{:<33}", listing_name(s.key));
      put_five(out, s.stats.conns, s.stats.inpkts, s.stats.outpkts, s.stats.inbytes, s.stats.outbytes, exact);
      fmt::format_to(out, "\n");
      break;
    case ListView::Rate:
      fmt::format_to(out, "{:<33}", listing_name(s.key));
      put_five(out, s.stats.cps, s.stats.inpps, s.stats.outpps, s.stats.inbps, s.stats.outbps, exact);
      fmt::format_to(out, "\n");
      break;
    default: put_service_line(out, s); break;
  }

  for (const Destination* d : in_order(entry.destinations, options.nosort, compare_destinations)) {
    const std::string name = listing_destination(*d);
    const Stats st = as_ipvsadm_reads_destination(d->stats);
    const auto weight = as_int(d->weight);  // ipvsadm holds the weight in an int, prints it with %d
    switch (options.view) {
      case ListView::Stats:
        fmt::format_to(out, "  -> {:<28}", name);
        put_five(out, st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes, exact);
        fmt::format_to(out, "\n");
        break;
      case ListView::Rate:
        // The packet and connection rates are never scaled: "%8llu" after a space.
        fmt::format_to(out, "  -> {:<28} {:>8} {:>8} {:>8}", name, st.cps, st.inpps, st.outpps);
        put_largenum(out, st.inbps, exact);
        put_largenum(out, st.outbps, exact);
        fmt::format_to(out, "\n");
        break;
      case ListView::Thresholds:
        fmt::format_to(out, "  -> {:<28} {:<10} {:<10} {:<10} {:<10}\n", name, d->upper_threshold,
                       d->lower_threshold, d->active_conns, d->inactive_conns);
        break;
      case ListView::PersistentConn:
        // "%-9u": here the int weight prints as unsigned.
        fmt::format_to(out, "  -> {:<28} {:<9} {:<11} {:<10} {:<10}\n", name, d->weight, d->persistent_conns,
                       d->active_conns, d->inactive_conns);
        break;
      case ListView::TunnelInfo:
        fmt::format_to(out, "  -> {:<28} {:<7} {:<13} {:<6} {:<10} {:<10}\n", name, forward_name(d->forward),
                       tunnel_info(*d), weight, d->active_conns, d->inactive_conns);
        break;
      case ListView::Plain:
        fmt::format_to(out, "  -> {:<28} {:<7} {:<6} {:<10} {:<10}\n", name, forward_name(d->forward), weight,
                       d->active_conns, d->inactive_conns);
        break;
    }
  }
}

// The kernel's lookup for IPVS_CMD_GET_SERVICE: a fwmark service by family and mark
// (__ip_vs_svc_fwm_find), any other by family, protocol, address and port.
bool names_service(const ServiceKey& wanted, const ServiceKey& key) {
  if (wanted.is_fwmark()) return key.is_fwmark() && key.fwmark == wanted.fwmark && key.family == wanted.family;
  return !key.is_fwmark() && key.family == wanted.family && key.protocol == wanted.protocol &&
         key.endpoint == wanted.endpoint;
}

// ---- save --------------------------------------------------------------------------------

// print_service_entry's -A line: -s, then -p and -M only for a persistent service, --pe
// whenever an engine is set, -o, -b.
void put_add_service(Out out, const Service& s) {
  fmt::format_to(out, "-A {} -s {}", rule_name(s.key), s.scheduler);
  if (s.flags & kFlagPersistent) {
    fmt::format_to(out, " -p {}", s.timeout);
    if (auto mask = netmask_text(s); !mask.empty()) fmt::format_to(out, " -M {}", mask);
  }
  if (!s.pe_name.empty()) fmt::format_to(out, " --pe {}", s.pe_name);
  if (s.flags & kFlagOnePacket) fmt::format_to(out, " -o");
  if (s.flags & kSchedFlags) fmt::format_to(out, " -b {}", scheduler_flags(s));
  fmt::format_to(out, "\n");
}

// print_service_entry's -a line, and print_tunnel_rule's for a tunnel. ipvsadm 1.31 saves
// neither -x nor -y: thresholds are lost in a save.
void put_add_destination(Out out, const std::string& service, const Destination& d) {
  fmt::format_to(out, "-a {} -r {} {} -w {}", service, d.endpoint.to_string(), forward_switch(d.forward),
                 as_int(d.weight));
  if (d.forward == Forward::Tunnel) {
    fmt::format_to(out, " --tun-type {}", tunnel_type_name(d.tunnel_type));
    if (d.tunnel_type == model::TunnelType::Gue) fmt::format_to(out, " --tun-port {}", d.tunnel_port);
    if (d.tunnel_type != model::TunnelType::Ipip)
      fmt::format_to(out, " {}", tunnel_checksum_option(d.tunnel_checksum));
  }
  fmt::format_to(out, "\n");
}

}  // namespace

std::optional<std::string> render_list(const Info& info, const Table& table, const ListOptions& options) {
  std::string text;
  Out out(text);
  if (options.service) {
    // list_service: only the title and the one service, no version line.
    const auto it = std::find_if(table.begin(), table.end(), [&](const ServiceEntry& e) {
      return names_service(*options.service, e.service.key);
    });
    if (it == table.end()) return std::nullopt;
    put_title(out, options.view);
    put_entry(out, *it, options);
    return text;
  }
  // list_all: NVERSION splits the version code into three bytes; both numbers print with %d.
  fmt::format_to(out, "IP Virtual Server version {}.{}.{} (size={})\n", (info.version >> 16) & 0xff,
                 (info.version >> 8) & 0xff, info.version & 0xff, as_int(info.connection_table_size));
  put_title(out, options.view);
  for (const ServiceEntry* e : in_order(table, options.nosort, compare_services)) put_entry(out, *e, options);
  return text;
}

std::string render_save(const Table& table) {
  std::string text;
  Out out(text);
  for (const ServiceEntry* e : in_order(table, false, compare_services)) {
    put_add_service(out, e->service);
    const std::string service = rule_name(e->service.key);
    for (const Destination* d : in_order(e->destinations, false, compare_destinations))
      put_add_destination(out, service, *d);
  }
  return text;
}

std::string render_timeouts(const Timeouts& t) {
  return fmt::format("Timeout (tcp tcpfin udp): {} {} {}\n", t.tcp, t.tcp_fin, t.udp);
}

std::string render_daemons(const std::vector<SyncDaemon>& daemons) {
  std::string text;
  for (const auto state : {SyncState::Master, SyncState::Backup})
    for (const auto& d : daemons)
      if (d.state == state) {
        // ipvsadm 1.31 adds each multicast setting the kernel reports (6.1 reports them all).
        text += fmt::format("{} sync daemon (mcast={}, syncid={}", state == SyncState::Master ? "master" : "backup",
                            d.interface, d.sync_id);
        if (d.max_len) text += fmt::format(", maxlen={}", d.max_len);
        if (d.group) text += fmt::format(", group={}", d.group->to_string());
        if (d.port) text += fmt::format(", port={}", d.port);
        if (d.ttl) text += fmt::format(", ttl={}", d.ttl);
        text += ")\n";
      }
  return text;
}

}  // namespace lvsd::ipvs
