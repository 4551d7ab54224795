// [[vrrp_instance]] and [[vrrp_sync_group]]: addresses, timers, trackers and notify commands.
#include <map>
#include <set>
#include <tuple>

#include "sections.hpp"

namespace lvsd::config {
namespace {

using namespace std::chrono_literals;
using model::Family;

constexpr std::string_view kInstanceKeys[] = {
    "name", "interface", "vrid", "priority", "version", "advert_int", "state", "preempt",
    "preempt_delay", "auth_pass", "virtual_ipaddress", "virtual_routes", "unicast_src_ip",
    "unicast_peers", "use_vmac", "vmac_name", "garp_master_delay", "garp_master_repeat",
    "garp_master_refresh", "conflict_probe_interval", "resolve_conflict", "notify_master",
    "notify_backup", "notify_fault", "notify_stop", "notify_conflict", "notify", "track_interface",
    "track_ping", "track_tcp", "track_http", "track_file", "track_script"};
constexpr std::string_view kGroupKeys[] = {"name", "instances", "notify_master", "notify_backup",
                                           "notify_fault", "notify_stop", "notify_conflict", "notify"};
constexpr std::string_view kVipKeys[] = {"address", "device", "label", "scope"};
constexpr std::string_view kRouteKeys[] = {"to", "via", "device", "metric", "table"};
constexpr std::string_view kTrackInterfaceKeys[] = {"name", "weight"};
constexpr std::string_view kTrackPingKeys[] = {"address", "weight", "interval", "timeout", "retry",
                                               "delay_before_retry", "rise", "fall", "warmup",
                                               "payload_size"};
constexpr std::string_view kTrackTcpKeys[] = {"address", "weight", "interval", "timeout", "retry",
                                              "delay_before_retry", "rise", "fall", "warmup"};
constexpr std::string_view kTrackHttpKeys[] = {"url", "weight", "interval", "timeout", "retry",
                                               "delay_before_retry", "rise", "fall", "warmup",
                                               "status", "host", "verify"};
constexpr std::string_view kTrackFileKeys[] = {"path", "weight"};
constexpr std::string_view kTrackScriptKeys[] = {"command", "user", "weight", "interval", "timeout",
                                                 "retry", "delay_before_retry", "rise", "fall",
                                                 "warmup"};
constexpr std::int64_t kMaxTrackWeight = 253;

bool valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

class VrrpParser {
 public:
  explicit VrrpParser(Diagnostics& d) : d_(d) {}

  std::optional<model::VrrpInstance> instance(const Node& node) {
    const Table t(d_, node, kInstanceKeys);
    if (!t.value()) return std::nullopt;
    const auto before = d_.size();
    const Scope s(t);
    model::VrrpInstance vi;
    require(t, "name");
    require(t, "interface");
    require(t, "vrid");
    require(t, "virtual_ipaddress");
    read_into(s, "name", vi.name, [&](const Node& n) { return get_nonempty_string(d_, n); });
    read_into(s, "interface", vi.interface, [&](const Node& n) { return get_ifname(n); });
    read_into(s, "vrid", vi.vrid, [&](const Node& n) { return get_int(d_, n, 1, 255); });
    read_into(s, "priority", vi.priority, [&](const Node& n) { return get_int(d_, n, 1, 255); });
    read_into(s, "version", vi.version, [&](const Node& n) { return get_int(d_, n, 2, 3); });
    read_into(s, "state", vi.initial_state,
              [&](const Node& n) { return get_enum<model::VrrpState>(d_, n, "initial state"); });
    read_into(s, "preempt", vi.preempt, [&](const Node& n) { return get_bool(d_, n); });
    read_into(s, "preempt_delay", vi.preempt_delay, [&](const Node& n) { return get_duration(d_, n, 0ms, 1000s); });
    if (auto n = t.get("advert_int")) read_advert_int(*n, vi);
    if (auto n = t.get("auth_pass")) {
      if (auto pass = get_nonempty_string(d_, *n)) {
        if (vi.version != 2)
          d_.add(**n, n->path, "authentication is VRRPv2 only (RFC 5798 removed it); set version = 2");
        else if (pass->size() > 8)
          d_.add(**n, n->path, "a VRRPv2 password has at most 8 characters");
        else
          vi.auth_pass = *pass;
      }
    }
    if (auto n = t.get("virtual_ipaddress")) read_vips(*n, vi);
    if (auto n = t.get("virtual_routes")) read_routes(*n, vi);
    read_into(s, "unicast_src_ip", vi.unicast_source, [&](const Node& n) { return get_same_family(n, vi.family); });
    if (auto n = t.get("unicast_peers")) {
      if (auto items = get_array(d_, *n))
        for (const auto& item : *items)
          if (auto a = get_same_family(item, vi.family)) vi.unicast_peers.push_back(*a);
    }
    read_into(s, "use_vmac", vi.use_vmac, [&](const Node& n) { return get_bool(d_, n); });
    read_into(s, "vmac_name", vi.vmac_name, [&](const Node& n) { return get_ifname(n); });
    if (!vi.vmac_name.empty() && !vi.use_vmac)
      d_.add(**t.get("vmac_name"), t.key_path("vmac_name"), "vmac_name needs use_vmac = true");
    read_into(s, "garp_master_delay", vi.garp_master_delay, [&](const Node& n) { return get_duration(d_, n, 0ms, 3600s); });
    read_into(s, "garp_master_repeat", vi.garp_master_repeat, [&](const Node& n) { return get_int(d_, n, 1, 255); });
    read_into(s, "garp_master_refresh", vi.garp_master_refresh, [&](const Node& n) { return get_duration(d_, n, 0ms, 24h); });
    read_into(s, "conflict_probe_interval", vi.conflict_probe_interval,
              [&](const Node& n) { return get_duration(d_, n, 10ms, 3600s); });
    read_into(s, "resolve_conflict", vi.resolve_conflict, [&](const Node& n) { return get_bool(d_, n); });
    read_notify(s, vi.notify);
    read_trackers(t, vi);
    if (d_.size() != before) return std::nullopt;
    return vi;
  }

  void read_notify(const Scope& s, model::Notify& notify) {
    auto cmd = [&](const Node& n) { return get_nonempty_string(d_, n); };
    read_into(s, "notify_master", notify.master, cmd);
    read_into(s, "notify_backup", notify.backup, cmd);
    read_into(s, "notify_fault", notify.fault, cmd);
    read_into(s, "notify_stop", notify.stop, cmd);
    read_into(s, "notify_conflict", notify.conflict, cmd);
    read_into(s, "notify", notify.any, cmd);
  }

 private:
  void require(const Table& t, std::string_view key) {
    if (!t.has(key)) d_.add(*t.value(), t.path(), fmt::format("missing key \"{}\"", key));
  }

  std::optional<std::string> get_ifname(const Node& n) {
    auto name = get_nonempty_string(d_, n);
    if (name && !valid_ifname(*name)) {
      d_.add(*n, n.path, fmt::format("\"{}\" is not an interface name (at most 15 characters, no '/', ':' or spaces)", *name));
      return std::nullopt;
    }
    return name;
  }

  std::optional<model::IpAddress> get_same_family(const Node& n, Family family) {
    auto a = get_address(d_, n);
    if (a && a->family() != family) {
      d_.add(*n, n.path,
             fmt::format("{} is {} but the instance's virtual addresses are {}", a->to_string(),
                         model::to_string(a->family()), model::to_string(family)));
      return std::nullopt;
    }
    return a;
  }

  void read_advert_int(const Node& n, model::VrrpInstance& vi) {
    if (vi.version == 2) {
      auto v = get_duration(d_, n, 1s, 255s);
      if (v && v->count() % 1000 != 0)
        d_.add(*n, n.path, "VRRPv2 advertises in whole seconds; use version = 3 for sub-second adverts");
      else if (v)
        vi.advert_interval = *v;
    } else {
      auto v = get_duration(d_, n, 10ms, 40950ms);
      if (v && v->count() % 10 != 0)
        d_.add(*n, n.path, "VRRPv3 advertises in centiseconds; use a multiple of 10ms");
      else if (v)
        vi.advert_interval = *v;
    }
  }

  void read_vips(const Node& n, model::VrrpInstance& vi) {
    auto items = get_array(d_, n);
    if (!items) return;
    if (items->empty()) d_.add(*n, n.path, "expected at least one virtual address");
    std::map<model::IpAddress, const toml::value*> seen;
    bool first = true;
    for (const auto& item : *items) {
      model::VirtualIp vip;
      std::optional<Node> address = item;
      std::optional<Table> t;
      if (!item->is_string()) {
        t.emplace(d_, item, kVipKeys);
        if (!t->value()) continue;
        address = t->get("address");
        if (!address) {
          d_.add(*item, item.path, "missing key \"address\"");
          continue;
        }
        const Scope s(*t);
        read_into(s, "device", vip.device, [&](const Node& x) { return get_ifname(x); });
        read_into(s, "label", vip.label, [&](const Node& x) { return get_nonempty_string(d_, x); });
        read_into(s, "scope", vip.scope, [&](const Node& x) { return get_enum<model::AddressScope>(d_, x, "address scope"); });
      }
      auto prefix = get_prefix(d_, *address);
      if (!prefix) continue;
      vip.prefix = *prefix;
      if (first) vi.family = prefix->address.family();
      first = false;
      if (prefix->address.family() != vi.family) {
        d_.add(**address, address->path,
               fmt::format("{} is {} but the instance's first virtual address is {}; one instance "
                           "carries one family (make a second instance for the other)",
                           prefix->address.to_string(), model::to_string(prefix->address.family()),
                           model::to_string(vi.family)));
        continue;
      }
      if (vi.version == 2 && vi.family == Family::V6)
        d_.add(**address, address->path, "VRRPv2 is IPv4 only; IPv6 addresses need version = 3");
      if (!vip.label.empty() && vi.family == Family::V6)
        d_.add(**address, address->path, "address labels are IPv4 only");
      if (prefix->address.is_unspecified() || prefix->address.is_multicast())
        d_.add(**address, address->path, fmt::format("{} is not a unicast address", prefix->address.to_string()));
      const auto [it, fresh] = seen.emplace(prefix->address, address->value);
      if (!fresh)
        d_.add(**address, address->path,
               fmt::format("duplicate virtual address {}; first at {}", prefix->address.to_string(),
                           place_of(*it->second).to_string()));
      vi.virtual_ips.push_back(vip);
    }
  }

  void read_routes(const Node& n, model::VrrpInstance& vi) {
    auto items = get_array(d_, n);
    if (!items) return;
    for (const auto& item : *items) {
      const Table t(d_, item, kRouteKeys);
      if (!t.value()) continue;
      const Scope s(t);
      model::VirtualRoute r;
      if (!t.has("to")) d_.add(*item, item.path, "missing key \"to\" (destination prefix, e.g. \"198.51.100.0/24\")");
      read_into(s, "to", r.destination, [&](const Node& x) { return get_prefix(d_, x); });
      read_into(s, "via", r.via, [&](const Node& x) { return get_address(d_, x); });
      read_into(s, "device", r.device, [&](const Node& x) { return get_ifname(x); });
      read_into(s, "metric", r.metric, [&](const Node& x) { return get_int(d_, x, 0, UINT32_MAX); });
      read_into(s, "table", r.table, [&](const Node& x) { return get_int(d_, x, 0, UINT32_MAX); });
      if (r.via && r.via->family() != r.destination.address.family())
        d_.add(**t.get("via"), t.key_path("via"), "the gateway's family differs from the destination's");
      vi.virtual_routes.push_back(r);
    }
  }

  std::optional<std::int32_t> get_weight(const Scope& s) {
    std::optional<std::int32_t> w = 0;
    read_into(s, "weight", *w, [&](const Node& n) { return get_int(d_, n, -kMaxTrackWeight, kMaxTrackWeight); });
    return w;
  }

  // Each tracker list: items of one kind, read by `one` into a Tracker.
  template <class F>
  void each(const Table& t, std::string_view key, std::span<const std::string_view> keys, F&& one,
            model::VrrpInstance& vi) {
    auto list = t.get(key);
    if (!list) return;
    auto items = get_array(d_, *list);
    if (!items) return;
    for (const auto& item : *items) {
      if (key == "track_interface" && item->is_string()) {
        if (auto name = get_ifname(item)) vi.trackers.push_back({model::TrackInterface{*name}, 0});
        continue;
      }
      const Table it(d_, item, keys);
      if (!it.value()) continue;
      model::Tracker tr;
      if (auto w = get_weight(Scope(it))) tr.weight = *w;
      if (one(it, tr)) vi.trackers.push_back(std::move(tr));
    }
  }

  void read_trackers(const Table& t, model::VrrpInstance& vi) {
    each(t, "track_interface", kTrackInterfaceKeys, [&](const Table& it, model::Tracker& tr) {
      auto n = it.get("name");
      if (!n) return missing(it, "name");
      auto name = get_ifname(*n);
      if (name) tr.what = model::TrackInterface{*name};
      return name.has_value();
    }, vi);
    each(t, "track_ping", kTrackPingKeys, [&](const Table& it, model::Tracker& tr) {
      auto n = it.get("address");
      if (!n) return missing(it, "address");
      auto a = get_address(d_, *n);
      if (!a) return false;
      model::TrackProbe p{model::Endpoint{*a, 0}, {}};
      p.check.type = model::CheckType::Icmp;
      model::IcmpCheck icmp;
      read_into(Scope(it), "payload_size", icmp.payload_size, [&](const Node& x) { return get_int(d_, x, 0, 65000); });
      p.check.detail = icmp;
      probe_timing(it, p.check.timing);
      tr.what = p;
      return true;
    }, vi);
    each(t, "track_tcp", kTrackTcpKeys, [&](const Table& it, model::Tracker& tr) {
      auto n = it.get("address");
      if (!n) return missing(it, "address");
      auto text = get_string(d_, *n);
      if (!text) return false;
      auto ep = model::Endpoint::parse(*text, true);
      if (!ep || ep->port == 0) {
        d_.add(**n, n->path, fmt::format("\"{}\" is not address:port (\"127.0.0.1:80\")", *text));
        return false;
      }
      model::TrackProbe p{*ep, {}};
      p.check.type = model::CheckType::Tcp;
      probe_timing(it, p.check.timing);
      tr.what = p;
      return true;
    }, vi);
    each(t, "track_http", kTrackHttpKeys, [&](const Table& it, model::Tracker& tr) {
      auto n = it.get("url");
      if (!n) return missing(it, "url");
      auto p = http_target(it, *n);
      if (!p) return false;
      probe_timing(it, p->check.timing);
      tr.what = *p;
      return true;
    }, vi);
    each(t, "track_file", kTrackFileKeys, [&](const Table& it, model::Tracker& tr) {
      auto n = it.get("path");
      if (!n) return missing(it, "path");
      auto path = get_nonempty_string(d_, *n);
      if (path && path->front() != '/') {
        d_.add(**n, n->path, fmt::format("\"{}\" is not an absolute path; expected one starting with /", *path));
        return false;
      }
      if (path) tr.what = model::TrackFile{*path};
      return path.has_value();
    }, vi);
    each(t, "track_script", kTrackScriptKeys, [&](const Table& it, model::Tracker& tr) {
      const auto before = d_.size();
      model::TrackScript ts;
      ts.script = parse_script_command(d_, it);
      parse_timing(d_, it, ts.timing);
      tr.what = ts;
      return d_.size() == before;
    }, vi);
  }

  bool missing(const Table& it, std::string_view key) {
    d_.add(*it.value(), it.path(), fmt::format("missing key \"{}\"", key));
    return false;
  }

  void probe_timing(const Table& it, model::CheckTiming& timing) {
    // Trackers watch a director's own reachability: faster defaults than a pool's checks.
    timing.interval = 1s;
    timing.timeout = 1s;
    parse_timing(d_, it, timing);
  }

  // "http://127.0.0.1:8080/health" → target endpoint and an http(s) check of that path.
  std::optional<model::TrackProbe> http_target(const Table& it, const Node& n) {
    auto url = get_string(d_, n);
    if (!url) return std::nullopt;
    auto bad = [&] {
      d_.add(*n, n.path,
             fmt::format("\"{}\" is not an http:// or https:// URL with an IP address "
                         "(\"http://127.0.0.1/health\", \"https://[::1]:8443/\")", *url));
      return std::nullopt;
    };
    std::string_view rest = *url;
    bool https = false;
    if (rest.rfind("http://", 0) == 0) rest.remove_prefix(7);
    else if (rest.rfind("https://", 0) == 0) { rest.remove_prefix(8); https = true; }
    else return bad();
    const auto slash = rest.find('/');
    const auto authority = rest.substr(0, slash);
    const std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    auto ep = model::Endpoint::parse(authority, false);
    if (!ep || authority.empty()) return bad();
    const bool has_port = authority.find("]:") != std::string_view::npos ||
                          (authority.front() != '[' && authority.find(':') != std::string_view::npos);
    if (!has_port) ep->port = https ? 443 : 80;
    if (ep->port == 0) return bad();
    model::TrackProbe p{*ep, {}};
    p.check.type = https ? model::CheckType::Https : model::CheckType::Http;
    model::HttpCheck h;
    h.urls = {model::HttpUrl{}};
    h.urls[0].path = path;
    const Scope s(it);
    read_into(s, "host", h.host, [&](const Node& x) { return get_nonempty_string(d_, x); });
    read_into(s, "verify", h.tls.verify, [&](const Node& x) { return get_bool(d_, x); });
    if (auto st = it.get("status")) {
      if (auto code = get_int(d_, *st, 100, 599))
        h.urls[0].status = {{static_cast<std::uint16_t>(*code), static_cast<std::uint16_t>(*code)}};
    }
    p.check.detail = h;
    return p;
  }

  Diagnostics& d_;
};

}  // namespace

std::vector<model::VrrpInstance> parse_vrrp_instances(Diagnostics& d, const std::vector<Node>& nodes) {
  VrrpParser parser(d);
  std::vector<model::VrrpInstance> out;
  std::map<std::string, Place> names;
  std::map<std::tuple<std::string, int, Family>, Place> ids;
  std::map<model::IpAddress, std::string> vip_owner;  // a VIP belongs to one instance
  for (const auto& node : nodes) {
    auto vi = parser.instance(node);
    if (!vi) continue;
    const auto at = place_of(*node);
    if (auto [it, fresh] = names.emplace(vi->name, at); !fresh) {
      d.add(*node, node.path,
            fmt::format("duplicate instance name \"{}\"; first at {}", vi->name, it->second.to_string()));
      continue;
    }
    if (auto [it, fresh] = ids.emplace(std::tuple{vi->interface, int{vi->vrid}, vi->family}, at); !fresh) {
      d.add(*node, node.path,
            fmt::format("VRID {} is already used for {} on {} (at {}); two instances on one "
                        "interface need different VRIDs",
                        vi->vrid, model::to_string(vi->family), vi->interface, it->second.to_string()));
      continue;
    }
    bool clash = false;
    for (const auto& vip : vi->virtual_ips) {
      if (auto [it, fresh] = vip_owner.emplace(vip.prefix.address, vi->name); !fresh) {
        d.add(*node, node.path,
              fmt::format("virtual address {} is already held by instance \"{}\"; two instances would "
                          "fight over it", vip.prefix.address.to_string(), it->second));
        clash = true;
      }
    }
    if (!clash) out.push_back(std::move(*vi));
  }
  return out;
}

std::vector<model::SyncGroup> parse_sync_groups(Diagnostics& d, const std::vector<Node>& nodes,
                                                const std::vector<model::VrrpInstance>& instances) {
  VrrpParser parser(d);
  std::vector<model::SyncGroup> out;
  std::map<std::string, std::string> member_of;  // instance → group
  std::set<std::string> names;
  for (const auto& node : nodes) {
    const Table t(d, node, kGroupKeys);
    if (!t.value()) continue;
    const Scope s(t);
    model::SyncGroup g;
    if (!t.has("name")) d.add(*node, node.path, "missing key \"name\"");
    if (!t.has("instances")) d.add(*node, node.path, "missing key \"instances\"");
    read_into(s, "name", g.name, [&](const Node& n) { return get_nonempty_string(d, n); });
    if (!g.name.empty() && !names.insert(g.name).second)
      d.add(**t.get("name"), t.key_path("name"), fmt::format("duplicate sync group name \"{}\"", g.name));
    if (auto n = t.get("instances")) {
      if (auto items = get_array(d, *n)) {
        if (items->size() < 2) d.add(**n, n->path, "a sync group needs at least two instances");
        for (const auto& item : *items) {
          auto name = get_nonempty_string(d, item);
          if (!name) continue;
          bool known = false;
          std::vector<std::string_view> candidates;
          for (const auto& vi : instances) {
            known = known || vi.name == *name;
            candidates.push_back(vi.name);
          }
          if (!known) {
            d.add(*item, item.path, fmt::format("no vrrp_instance named \"{}\"{}", *name, did_you_mean(*name, candidates)));
            continue;
          }
          if (auto [it, fresh] = member_of.emplace(*name, g.name); !fresh) {
            d.add(*item, item.path, fmt::format("instance \"{}\" is already in sync group \"{}\"", *name, it->second));
            continue;
          }
          g.instances.push_back(*name);
        }
      }
    }
    parser.read_notify(s, g.notify);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace lvsd::config
