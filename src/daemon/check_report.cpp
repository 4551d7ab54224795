// Renders a parsed configuration as tables an LVS operator reads at a glance.
#include "lvsd/daemon/check_report.hpp"

#include <fmt/format.h>

#include "lvsd/model/names.hpp"

namespace lvsd::daemon {
namespace {

std::string duration(std::chrono::milliseconds ms) {
  const auto n = ms.count();
  if (n % 1000 == 0) return fmt::format("{}s", n / 1000);
  return fmt::format("{}ms", n);
}

std::string forward_name(const model::Forwarding& f) {
  switch (f.method) {
    case model::ForwardMethod::Nat: return "Masq";
    case model::ForwardMethod::Dr: return "Route";
    case model::ForwardMethod::Tun: return "Tunnel";
  }
  return "?";
}

std::string statuses(const std::vector<model::StatusRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ",";
    out += r.low == r.high ? fmt::format("{}", r.low) : fmt::format("{}-{}", r.low, r.high);
  }
  return out;
}

std::string describe(const model::CheckSpec& c) {
  std::string out{model::name_of(c.type)};
  if (const auto* h = std::get_if<model::HttpCheck>(&c.detail)) {
    out += fmt::format(" {}", model::name_of(h->method));
    for (const auto& u : h->urls) {
      out += fmt::format(" {}={}", u.path, statuses(u.status));
      if (u.digest) out += fmt::format(" {}:{}", model::name_of(u.digest->algorithm), u.digest->hex.substr(0, 8));
    }
  } else if (const auto* s = std::get_if<model::ScriptCheck>(&c.detail)) {
    out += " " + (s->argv.size() == 3 && s->argv[0] == "/bin/sh" ? s->argv[2] : s->argv.empty() ? "" : s->argv[0]);
  } else if (const auto* f = std::get_if<model::FileCheck>(&c.detail)) {
    out += " " + f->path;
  } else if (const auto* d = std::get_if<model::DnsCheck>(&c.detail)) {
    out += fmt::format(" {} {}", model::name_of(d->type), d->name);
  }
  if (c.port) out += fmt::format(" port {}", *c.port);
  out += fmt::format(" every {} rise {} fall {}", duration(c.timing.interval), c.timing.rise, c.timing.fall);
  return out;
}

std::string service_line(const model::VirtualServer& vs) {
  std::string out;
  if (vs.key.is_fwmark())
    out = fmt::format("FWM  {}{} {}", vs.key.fwmark, vs.key.family == model::Family::V6 ? " IPv6" : "",
                      model::name_of(vs.scheduler));
  else
    out = fmt::format("{:<4} {} {}", vs.key.protocol == model::Protocol::Tcp   ? "TCP"
                                     : vs.key.protocol == model::Protocol::Udp ? "UDP"
                                                                               : "SCTP",
                      vs.key.endpoint.to_string(), model::name_of(vs.scheduler));
  const auto& f = vs.scheduler_flags;
  std::string flags;
  for (auto [on, name] : {std::pair{f.sh_fallback, "sh-fallback"}, std::pair{f.sh_port, "sh-port"},
                          std::pair{f.mh_fallback, "mh-fallback"}, std::pair{f.mh_port, "mh-port"}})
    if (on) flags += flags.empty() ? name : std::string(",") + name;
  if (!flags.empty()) out += " (" + flags + ")";
  if (vs.persistence) {
    out += fmt::format(" persistent {}", vs.persistence->timeout.count());
    if (vs.persistence->prefix_length != model::max_prefix(vs.key.family))
      out += fmt::format(" mask /{}", vs.persistence->prefix_length);
    if (!vs.persistence->engine.empty()) out += " pe " + vs.persistence->engine;
  }
  if (vs.one_packet) out += " ops";
  return out;
}

std::string server_line(const model::RealServer& rs, const char* marker) {
  std::string checks;
  for (const auto& c : rs.checks) checks += (checks.empty() ? "" : "; ") + describe(c);
  if (checks.empty()) checks = "none (always up)";
  return fmt::format("  {} {:<28} {:<7} {:<6} {}\n", marker, rs.endpoint.to_string(), forward_name(rs.forwarding),
                     rs.weight, checks);
}

std::string tracker(const model::Tracker& t) {
  std::string what = std::visit(
      [](const auto& w) -> std::string {
        using T = std::decay_t<decltype(w)>;
        if constexpr (std::is_same_v<T, model::TrackInterface>) return "interface " + w.name;
        else if constexpr (std::is_same_v<T, model::TrackProbe>)
          return fmt::format("{} {}", model::name_of(w.check.type),
                             w.check.type == model::CheckType::Icmp ? w.target.address.to_string() : w.target.to_string());
        else if constexpr (std::is_same_v<T, model::TrackFile>) return "file " + w.path;
        else return "script " + (w.script.argv.empty() ? std::string{} : w.script.argv.back());
      },
      t.what);
  return t.weight == 0 ? what + " (fault)" : fmt::format("{} (weight {:+})", what, t.weight);
}

}  // namespace

std::string check_report(const std::string& file, const model::Desired& d) {
  std::size_t real = 0;
  for (const auto& vs : d.virtual_servers) real += vs.real_servers.size();
  std::string out = fmt::format("{}: configuration is valid: {} virtual server{}, {} real server{}, "
                                "{} VRRP instance{}\n",
                                file, d.virtual_servers.size(), d.virtual_servers.size() == 1 ? "" : "s", real,
                                real == 1 ? "" : "s", d.vrrp_instances.size(),
                                d.vrrp_instances.size() == 1 ? "" : "s");
  if (!d.virtual_servers.empty()) {
    out += "\nProt LocalAddress:Port Scheduler Flags\n";
    out += fmt::format("  -> {:<28} {:<7} {:<6} {}\n", "RemoteAddress:Port", "Forward", "Weight", "Checks");
    for (const auto& vs : d.virtual_servers) {
      out += service_line(vs) + "\n";
      for (const auto& rs : vs.real_servers) out += server_line(rs, "->");
      if (vs.sorry_server) out += server_line(*vs.sorry_server, "=>");
    }
  }
  if (!d.vrrp_instances.empty()) {
    out += fmt::format("\n{:<16} {:<10} {:>4} {:>4} {:>3} {:>6} {:<8} {}\n", "VRRP instance", "Interface", "VRID",
                       "Prio", "Ver", "Advert", "State", "Virtual addresses");
    for (const auto& vi : d.vrrp_instances) {
      std::string vips;
      for (const auto& v : vi.virtual_ips) vips += (vips.empty() ? "" : " ") + v.prefix.to_string();
      out += fmt::format("{:<16} {:<10} {:>4} {:>4} {:>3} {:>6} {:<8} {}\n", vi.name, vi.interface, vi.vrid,
                         vi.priority, vi.version, duration(vi.advert_interval), model::name_of(vi.initial_state),
                         vips);
      for (const auto& t : vi.trackers) out += "  tracks " + tracker(t) + "\n";
    }
  }
  for (const auto& g : d.sync_groups) {
    std::string members;
    for (const auto& m : g.instances) members += (members.empty() ? "" : ", ") + m;
    out += fmt::format("sync group {}: {}\n", g.name, members);
  }
  return out;
}

}  // namespace lvsd::daemon
