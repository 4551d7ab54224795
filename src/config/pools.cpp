// [defaults], [[virtual_server]] and [[virtual_server.real_server]]: inheritance, ranges and
// the checks that need more than one key.
#include <algorithm>
#include <bit>
#include <map>
#include <unordered_map>

#include "lvsd/model/hash.hpp"
#include "sections.hpp"

namespace lvsd::config {
namespace {

using namespace std::chrono_literals;
using model::Family;

// Keys a real server may set, and so inherit from its virtual server and from [defaults].
constexpr std::string_view kRealServerKeys[] = {
    "address", "weight", "forward", "tunnel_type", "tunnel_port", "tunnel_checksum",
    "upper_threshold", "lower_threshold", "check"};
constexpr std::string_view kSorryKeys[] = {"address", "weight", "forward", "tunnel_type",
                                           "tunnel_port", "tunnel_checksum", "upper_threshold",
                                           "lower_threshold"};
constexpr std::string_view kVirtualServerKeys[] = {
    "name", "address", "fwmark", "family", "protocol", "scheduler", "scheduler_flags",
    "one_packet", "persistence_timeout", "persistence_netmask", "persistence_engine",
    "sorry_server", "quorum", "hysteresis", "quorum_up", "quorum_down", "inhibit_on_failure",
    "initial_health", "real_server",
    // inherited by real servers
    "weight", "forward", "tunnel_type", "tunnel_port", "tunnel_checksum", "upper_threshold",
    "lower_threshold", "check"};
constexpr std::string_view kDefaultsKeys[] = {
    "protocol", "scheduler", "scheduler_flags", "one_packet", "persistence_timeout",
    "persistence_netmask", "persistence_engine", "quorum", "hysteresis", "quorum_up",
    "quorum_down", "inhibit_on_failure", "initial_health",
    "weight", "forward", "tunnel_type", "tunnel_port", "tunnel_checksum", "upper_threshold",
    "lower_threshold", "check"};
constexpr std::string_view kSchedulerFlags[] = {"sh-fallback", "sh-port", "mh-fallback", "mh-port"};
constexpr std::int64_t kMaxWeight = 65535;        // ipvsadm's limit
constexpr std::int64_t kMaxThreshold = INT32_MAX;  // the kernel's u32, as ipvsadm parses it

// Where each real server of a virtual server was first declared (for duplicate errors).
using EndpointPlaces = std::unordered_map<model::Endpoint, const toml::value*, model::Hasher>;

class PoolParser {
 public:
  explicit PoolParser(Diagnostics& d) : d_(d) {}

  std::vector<model::VirtualServer> run(const std::vector<Node>& nodes, const std::optional<Node>& defaults) {
    std::optional<Table> defaults_table;
    if (defaults) {
      defaults_table.emplace(d_, *defaults, kDefaultsKeys);
      validate_defaults(*defaults_table);
    }
    const Scope defaults_scope = defaults_table ? Scope(*defaults_table) : Scope();
    std::vector<model::VirtualServer> out;
    std::map<model::ServiceKey, const toml::value*> seen;
    std::map<std::string, const toml::value*> names;
    for (const auto& node : nodes) {
      const Table t(d_, node, kVirtualServerKeys);
      if (!t.value()) continue;
      const Scope scope = defaults_table ? Scope(t, defaults_scope) : Scope(t);
      const auto errors_before = d_.size();
      auto key = parse_key(t, scope);
      if (!key) continue;
      // The kernel finds a fwmark service by mark and family alone.
      auto identity = *key;
      if (identity.is_fwmark()) identity.protocol = model::Protocol::Tcp;
      const auto [it, fresh] = seen.emplace(identity, node.value);
      if (!fresh) {
        d_.add(*node, node.path,
               fmt::format("duplicate virtual server {}; first declared at {}", key->to_string(),
                           place_of(*it->second).to_string()));
        continue;
      }
      model::VirtualServer vs;
      vs.key = *key;
      parse_virtual_server(t, scope, vs);
      if (auto [it, fresh] = names.emplace(vs.name, node.value); !fresh)
        d_.add(t.has("name") ? **t.get("name") : *node, t.key_path("name"),
               fmt::format("duplicate virtual server name \"{}\"; first used at {}", vs.name,
                           place_of(*it->second).to_string()));
      if (d_.size() == errors_before) out.push_back(std::move(vs));
    }
    return out;
  }

 private:
  // [defaults] on its own, so that its errors show even where no virtual server inherits them.
  // Rules that tie keys to the service (its family, its scheduler) wait for the virtual
  // servers that inherit them.
  void validate_defaults(const Table& t) {
    in_defaults_ = true;
    const Scope s(t);
    model::VirtualServer vs;
    vs.key.fwmark = 1;  // neutral: no address, no port
    read_into(s, "protocol", vs.key.protocol,
              [&](const Node& n) { return get_enum<model::Protocol>(d_, n, "protocol"); });
    read_service_settings(s, vs);
    model::RealServer rs;
    read_server_settings(s, rs);
    checks_of(s);
    in_defaults_ = false;
  }

  // The service's identity: address:port and protocol, or fwmark and family.
  std::optional<model::ServiceKey> parse_key(const Table& t, const Scope& s) {
    model::ServiceKey key;
    const auto address = t.get("address");
    const auto fwmark = t.get("fwmark");
    if (address && fwmark) {
      d_.add(**fwmark, fwmark->path,
             "a fwmark service matches packets by their firewall mark and has no address or port; "
             "set either \"address\" or \"fwmark\"");
      return std::nullopt;
    }
    if (!address && !fwmark) {
      d_.add(*t.value(), t.path(),
             "missing key \"address\" (\"192.0.2.10:80\", \"[2001:db8::10]:443\") or \"fwmark\"");
      return std::nullopt;
    }
    if (address) {
      auto text = get_string(d_, *address);
      if (!text) return std::nullopt;
      auto ep = model::Endpoint::parse(*text, true);
      if (!ep) {
        const bool no_port = model::Endpoint::parse(*text, false).has_value();
        d_.add(**address, address->path,
               no_port ? fmt::format("\"{}\" has no port; expected address:port such as "
                                     "\"192.0.2.10:80\" or \"[2001:db8::10]:80\"", *text)
                       : fmt::format("\"{}\" is not address:port (\"192.0.2.10:80\" or "
                                     "\"[2001:db8::10]:80\")", *text));
        return std::nullopt;
      }
      if (ep->address.is_unspecified() || ep->address.is_multicast()) {
        d_.add(**address, address->path, fmt::format("{} is not a unicast address", ep->address.to_string()));
        return std::nullopt;
      }
      key.endpoint = *ep;
      key.family = ep->address.family();
      if (auto f = t.get("family"))
        d_.add(**f, f->path, "\"family\" is for fwmark services; an address has its own family");
    } else {
      auto mark = get_int(d_, *fwmark, 1, UINT32_MAX);
      if (!mark) return std::nullopt;
      key.fwmark = static_cast<std::uint32_t>(*mark);
      read_into(s, "family", key.family, [&](const Node& n) { return get_enum<Family>(d_, n, "family"); });
    }
    read_into(s, "protocol", key.protocol,
              [&](const Node& n) { return get_enum<model::Protocol>(d_, n, "protocol"); });
    return key;
  }

  void parse_virtual_server(const Table& t, const Scope& s, model::VirtualServer& vs) {
    read_into(Scope(t), "name", vs.name, [&](const Node& n) { return get_nonempty_string(d_, n); });
    if (vs.name.empty()) vs.name = vs.key.to_string();

    read_service_settings(s, vs);
    if (vs.one_packet && !vs.key.is_fwmark() && vs.key.protocol != model::Protocol::Udp)
      if (auto n = s.find("one_packet"); n && n->path.rfind("defaults.", 0) != 0)
        d_.add(**n, n->path, fmt::format("one-packet scheduling is for UDP; the kernel ignores it for {}",
                                         model::name_of(vs.key.protocol)));
    if (vs.key.endpoint.port == 0 && !vs.key.is_fwmark() && !vs.persistence)
      d_.add(**t.get("address"), t.key_path("address"),
             "port 0 (every port) needs persistence_timeout; the kernel refuses it otherwise");
    // What real servers inherit is checked here too, so that a virtual server without real
    // servers (yet) still reports its errors; inherited errors repeat per server and are
    // reported once.
    model::RealServer inherited;
    read_server_settings(s, inherited);
    checks_of(s);
    if (auto sorry = t.get("sorry_server")) read_sorry_server(*sorry, s, vs);
    if (auto rs = t.get("real_server")) {
      if (auto items = get_array(d_, *rs)) {
        EndpointPlaces seen;
        for (const auto& item : *items) read_real_servers(item, s, vs, seen);
      }
    }
  }

  // Settings of the service itself, inheritable from [defaults].
  void read_service_settings(const Scope& s, model::VirtualServer& vs) {
    read_into(s, "scheduler", vs.scheduler,
              [&](const Node& n) { return get_enum<model::Scheduler>(d_, n, "scheduler"); });
    read_scheduler_flags(s, vs);
    read_into(s, "one_packet", vs.one_packet, [&](const Node& n) { return get_bool(d_, n); });
    read_persistence(s, vs);
    read_into(s, "quorum", vs.quorum.minimum, [&](const Node& n) { return get_int(d_, n, 0, UINT32_MAX); });
    read_into(s, "hysteresis", vs.quorum.hysteresis,
              [&](const Node& n) { return get_int(d_, n, 0, UINT32_MAX); });
    read_into(s, "quorum_up", vs.quorum.up_command, [&](const Node& n) { return get_nonempty_string(d_, n); });
    read_into(s, "quorum_down", vs.quorum.down_command,
              [&](const Node& n) { return get_nonempty_string(d_, n); });
    if (vs.quorum.hysteresis > vs.quorum.minimum && !in_defaults_)
      if (auto h = s.find("hysteresis"))
        d_.add(**h, h->path,
               fmt::format("hysteresis {} is larger than quorum {}; the service could never go down",
                           vs.quorum.hysteresis, vs.quorum.minimum));
    read_into(s, "inhibit_on_failure", vs.inhibit_on_failure, [&](const Node& n) { return get_bool(d_, n); });
    read_into(s, "initial_health", vs.initial_health,
              [&](const Node& n) { return get_enum<model::InitialHealth>(d_, n, "initial health"); });

  }

  // The check list in force for a scope, parsed once per TOML array however many real servers
  // inherit it.
  const std::vector<model::CheckSpec>* checks_of(const Scope& s) {
    auto n = s.find("check");
    if (!n) return nullptr;
    auto it = checks_.find(n->value);
    if (it == checks_.end()) it = checks_.emplace(n->value, parse_checks(d_, *n)).first;
    return &it->second;
  }

  void read_scheduler_flags(const Scope& s, model::VirtualServer& vs) {
    auto n = s.find("scheduler_flags");
    if (!n) return;
    auto flags = get_string_list(d_, *n);
    if (!flags) return;
    for (const auto& f : *flags) {
      bool* target = f == "sh-fallback" ? &vs.scheduler_flags.sh_fallback
                     : f == "sh-port"   ? &vs.scheduler_flags.sh_port
                     : f == "mh-fallback" ? &vs.scheduler_flags.mh_fallback
                     : f == "mh-port"     ? &vs.scheduler_flags.mh_port
                                          : nullptr;
      if (!target) {
        d_.add(**n, n->path,
               fmt::format("unknown scheduler flag \"{}\"; expected sh-fallback, sh-port, mh-fallback "
                           "or mh-port{}", f, did_you_mean(f, kSchedulerFlags)));
        continue;
      }
      const auto needs = f.substr(0, 2) == "sh" ? model::Scheduler::Sh : model::Scheduler::Mh;
      if (vs.scheduler != needs && !in_defaults_) {
        d_.add(**n, n->path,
               fmt::format("scheduler flag \"{}\" is for the {} scheduler, not {}", f,
                           model::name_of(needs), model::name_of(vs.scheduler)));
        continue;
      }
      *target = true;
    }
  }

  void read_persistence(const Scope& s, model::VirtualServer& vs) {
    const auto timeout = s.find("persistence_timeout");
    const auto netmask = s.find("persistence_netmask");
    const auto engine = s.find("persistence_engine");
    if (!timeout) {
      for (const auto& n : {netmask, engine})
        if (n) d_.add(**n, n->path, "needs persistence_timeout (persistence is off without it)");
      return;
    }
    model::Persistence p;
    p.prefix_length = static_cast<std::uint8_t>(model::max_prefix(vs.key.family));
    if (auto ms = get_duration(d_, *timeout, 1s, std::chrono::seconds(INT32_MAX))) {
      if (ms->count() % 1000 != 0)
        d_.add(**timeout, timeout->path, "the kernel keeps the persistence timeout in whole seconds");
      p.timeout = std::chrono::duration_cast<std::chrono::seconds>(*ms);
    }
    if (netmask) read_netmask(*netmask, vs.key.family, p);
    if (engine) read_into(s, "persistence_engine", p.engine, [&](const Node& n) -> std::optional<std::string> {
      auto e = get_string(d_, n);
      if (e && *e != "sip") {
        d_.add(*n, n.path, fmt::format("unknown persistence engine \"{}\"; the kernel has \"sip\"", *e));
        return std::nullopt;
      }
      return e;
    });
    vs.persistence = p;
  }

  void read_netmask(const Node& n, Family family, model::Persistence& p) {
    const int max = model::max_prefix(family);
    if (n->is_integer()) {
      if (auto len = get_int(d_, n, 1, 128)) {
        if (*len > max && !in_defaults_)
          d_.add(*n, n.path,
                 fmt::format("prefix length {} is for IPv6; an {} virtual server takes 1 to {}", *len,
                             model::to_string(family), max));
        else
          p.prefix_length = static_cast<std::uint8_t>(*len);
      }
      return;
    }
    auto text = get_string(d_, n);
    if (!text) return;
    auto mask = model::IpAddress::parse(*text);
    if (!mask || !mask->is_v4()) {
      d_.add(*n, n.path,
             fmt::format("\"{}\" is not a netmask; expected a dotted IPv4 netmask (\"255.255.255.0\") "
                         "or a prefix length (24, or 64 for IPv6)", *text));
      return;
    }
    if (family == Family::V6) {
      d_.add(*n, n.path,
             fmt::format("dotted netmask \"{}\" is IPv4 but the virtual server is IPv6; give a prefix "
                         "length from 1 to 128 instead", *text));
      return;
    }
    const auto bits = mask->v4_host_order();
    const int len = std::popcount(bits);
    if (len == 0 || (len < 32 && bits != ~((1u << (32 - len)) - 1))) {
      d_.add(*n, n.path, fmt::format("\"{}\" is not a contiguous netmask", *text));
      return;
    }
    p.prefix_length = static_cast<std::uint8_t>(len);
  }

  // Settings a real server inherits (weight, forwarding, thresholds), from the scope chain.
  void read_server_settings(const Scope& s, model::RealServer& rs) {
    read_into(s, "weight", rs.weight, [&](const Node& n) { return get_int(d_, n, 0, kMaxWeight); });
    read_into(s, "upper_threshold", rs.upper_threshold,
              [&](const Node& n) { return get_int(d_, n, 0, kMaxThreshold); });
    read_into(s, "lower_threshold", rs.lower_threshold,
              [&](const Node& n) { return get_int(d_, n, 0, kMaxThreshold); });
    if (rs.upper_threshold != 0 && rs.lower_threshold > rs.upper_threshold)
      if (auto n = s.find("lower_threshold"))
        d_.add(**n, n->path,
               fmt::format("lower_threshold {} is above upper_threshold {}", rs.lower_threshold,
                           rs.upper_threshold));
    auto& fwd = rs.forwarding;
    read_into(s, "forward", fwd.method,
              [&](const Node& n) { return get_enum<model::ForwardMethod>(d_, n, "forwarding method"); });
    const auto type = s.find("tunnel_type");
    const auto port = s.find("tunnel_port");
    const auto csum = s.find("tunnel_checksum");
    if (fwd.method != model::ForwardMethod::Tun) {
      // Not for [defaults], which NAT and tunnel services share.
      for (const auto& n : {type, port, csum})
        if (n && n->path.rfind("defaults.", 0) != 0)
          d_.add(**n, n->path, fmt::format("tunnel settings need forward = \"tun\", not \"{}\"",
                                           model::name_of(fwd.method)));
    } else {
      if (type) read_into(s, "tunnel_type", fwd.tunnel_type,
                          [&](const Node& n) { return get_enum<model::TunnelType>(d_, n, "tunnel type"); });
      std::uint16_t tunnel_port = 0;
      auto tunnel_checksum = model::TunnelChecksum::NoCsum;
      if (port) read_into(s, "tunnel_port", tunnel_port,
                          [&](const Node& n) { return get_int(d_, n, 1, 65535); });
      if (csum) read_into(s, "tunnel_checksum", tunnel_checksum,
                          [&](const Node& n) { return get_enum<model::TunnelChecksum>(d_, n, "tunnel checksum"); });
      // [defaults] is shared by every tunnel type too: a server ignores its tunnel_port unless
      // it uses gue, and its tunnel_checksum when it uses ipip.
      auto from_defaults = [](const std::optional<Node>& n) { return n && n->path.rfind("defaults.", 0) == 0; };
      if (fwd.tunnel_type == model::TunnelType::Gue || !from_defaults(port)) fwd.tunnel_port = tunnel_port;
      if (fwd.tunnel_type != model::TunnelType::Ipip || !from_defaults(csum)) fwd.tunnel_checksum = tunnel_checksum;
      if (fwd.tunnel_type == model::TunnelType::Gue && fwd.tunnel_port == 0 && !in_defaults_) {
        const Node at = type ? *type : *s.find("forward");
        d_.add(*at, at.path, "a gue tunnel needs tunnel_port (the real server's GUE UDP port)");
      }
      if (fwd.tunnel_type != model::TunnelType::Gue && port && !from_defaults(port))
        d_.add(**port, port->path, "tunnel_port is for gue tunnels only");
      if (fwd.tunnel_type == model::TunnelType::Ipip && csum &&
          fwd.tunnel_checksum != model::TunnelChecksum::NoCsum)
        d_.add(**csum, csum->path, "ipip tunnels carry no checksum; tunnel_checksum is for gue and gre");
      // Remote checksum offload is a GUE option; ipvsadm refuses --tun-remcsum for gre.
      if (fwd.tunnel_type == model::TunnelType::Gre && fwd.tunnel_checksum == model::TunnelChecksum::RemCsum &&
          !in_defaults_)
        d_.add(**csum, csum->path, "remcsum (remote checksum offload) is for gue tunnels; gre takes nocsum or csum");
    }
  }

  // The endpoint of a real server: its address (port defaults to the service's) checked
  // against the service.
  std::optional<model::Endpoint> real_endpoint(const std::string& text, const Node& at,
                                               const model::VirtualServer& vs,
                                               const model::Forwarding& fwd) {
    auto ep = model::Endpoint::parse(text, false);
    if (!ep) {
      d_.add(*at, at.path,
             fmt::format("\"{}\" is not an address with an optional port (\"10.0.0.11:80\", "
                         "\"10.0.0.11\", \"[2001:db8::11]:80\")", text));
      return std::nullopt;
    }
    const bool has_port = text.find("]:") != std::string::npos ||
                          (text.front() != '[' && text.find(':') == text.rfind(':') &&
                           text.find(':') != std::string::npos);
    if (has_port && ep->port == 0) {
      d_.add(*at, at.path,
             fmt::format("port 0 in \"{}\"; omit the port to use the virtual server's", text));
      return std::nullopt;
    }
    if (!has_port) ep->port = vs.key.endpoint.port;
    if (ep->address.family() != vs.key.family && fwd.method != model::ForwardMethod::Tun) {
      d_.add(*at, at.path,
             fmt::format("real server {} is {} but the virtual server {} is {}; mixed families only "
                         "work with forward = \"tun\"", ep->address.to_string(),
                         model::to_string(ep->address.family()), vs.key.to_string(),
                         model::to_string(vs.key.family)));
      return std::nullopt;
    }
    if (ep->address.is_unspecified() || ep->address.is_multicast()) {
      d_.add(*at, at.path, fmt::format("{} is not a unicast address", ep->address.to_string()));
      return std::nullopt;
    }
    if (fwd.method != model::ForwardMethod::Nat && ep->port != vs.key.endpoint.port) {
      d_.add(*at, at.path,
             vs.key.is_fwmark()
                 ? fmt::format("with forward = \"{}\" a fwmark service's real servers take no port; "
                               "the packet keeps its own (a port needs forward = \"nat\")",
                               model::name_of(fwd.method))
                 : fmt::format("with forward = \"{}\" the real server receives the virtual server's port "
                               "{}; a different port ({}) needs forward = \"nat\"",
                               model::name_of(fwd.method), vs.key.endpoint.port, ep->port));
      return std::nullopt;
    }
    return ep;
  }

  void read_real_servers(const Node& node, const Scope& vs_scope, model::VirtualServer& vs,
                         EndpointPlaces& seen) {
    const Table t(d_, node, kRealServerKeys);
    if (!t.value()) return;
    const Scope s(t, vs_scope);
    auto address = t.get("address");
    if (!address) {
      d_.add(*node, node.path, "missing key \"address\" (\"10.0.0.11:80\" or a range \"10.0.0.[11-20]:80\")");
      return;
    }
    model::RealServer proto;
    read_server_settings(s, proto);
    if (const auto* checks = checks_of(s)) proto.checks = *checks;
    auto text = get_string(d_, *address);
    if (!text) return;
    std::string error;
    const auto range = parse_range(*text, error);
    if (!range) {
      d_.add(**address, address->path, error);
      return;
    }
    // The first address is checked in full; the others differ from it only in the last byte
    // or group, so they share its family, port and kind (a range cannot reach a multicast
    // address, and only its first can be the unspecified one).
    const auto first = real_endpoint(range->first, *address, vs, proto.forwarding);
    if (!first) return;  // one error per address entry, not one per address of a range
    if (first->port == 0) {
      // A fwmark service's real server without a port: a check that connects needs its own.
      for (const auto& c : proto.checks) {
        if (c.port || c.type == model::CheckType::Icmp || c.type == model::CheckType::Script ||
            c.type == model::CheckType::File)
          continue;
        d_.add(**address, address->path,
               fmt::format("real server {} has no port (fwmark service), so its {} check needs \"port\"",
                           first->address.to_string(), model::name_of(c.type)));
        return;
      }
    }
    // A range adds its addresses at once; one address at a time keeps the vector's doubling.
    if (const auto need = vs.real_servers.size() + range->count; need > vs.real_servers.capacity())
      vs.real_servers.reserve(std::max(need, 2 * vs.real_servers.capacity()));
    for (unsigned i = 0; i < range->count; ++i) {
      const model::Endpoint ep{i == 0 ? first->address : address_in_range(first->address, i), first->port};
      const auto [it, fresh] = seen.emplace(ep, address->value);
      if (!fresh) {
        d_.add(**address, address->path,
               fmt::format("duplicate real server {} in {}; first declared at {}", ep.to_string(),
                           vs.key.to_string(), place_of(*it->second).to_string()));
        continue;
      }
      model::RealServer& rs = vs.real_servers.emplace_back(proto);
      rs.endpoint = ep;
    }
  }

  void read_sorry_server(const Node& node, const Scope& vs_scope, model::VirtualServer& vs) {
    model::RealServer rs;
    std::optional<Node> address;
    std::optional<Table> own;
    if (node->is_string()) {
      address = node;
      read_server_settings(vs_scope, rs);
    } else {
      own.emplace(d_, node, kSorryKeys);
      if (!own->value()) return;
      address = own->get("address");
      if (!address) {
        d_.add(*node, node.path, "missing key \"address\"");
        return;
      }
      read_server_settings(Scope(*own, vs_scope), rs);
    }
    auto text = get_string(d_, *address);
    if (!text) return;
    if (auto ep = real_endpoint(*text, *address, vs, rs.forwarding)) {
      rs.endpoint = *ep;
      vs.sorry_server = rs;
    }
  }

  Diagnostics& d_;
  std::map<const toml::value*, std::vector<model::CheckSpec>> checks_;
  bool in_defaults_ = false;
};

}  // namespace

std::vector<model::VirtualServer> parse_virtual_servers(Diagnostics& d, const std::vector<Node>& nodes,
                                                        const std::optional<Node>& defaults) {
  return PoolParser(d).run(nodes, defaults);
}

}  // namespace lvsd::config
