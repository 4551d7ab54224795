// Text for operations, as logs and errors show them.
#include "lvsd/ipvs/operation.hpp"

#include <fmt/format.h>

#include "lvsd/model/names.hpp"

namespace lvsd::ipvs {
namespace {

std::string_view forward_name(Forward f) {
  switch (f) {
    case Forward::Masq: return "masq";
    case Forward::Local: return "local";
    case Forward::Tunnel: return "tunnel";
    case Forward::Route: return "route";
    case Forward::Bypass: return "bypass";
  }
  return "?";
}

std::string service_text(const Service& s) {
  std::string out = fmt::format("{} ({}", s.key.to_string(), s.scheduler);
  if (s.flags & kFlagPersistent) out += fmt::format(", persistent {}s /{}", s.timeout, s.prefix_length);
  if (!s.pe_name.empty()) out += ", pe " + s.pe_name;
  if (s.flags & kFlagOnePacket) out += ", ops";
  if (s.flags & (kFlagSched1 | kFlagSched2 | kFlagSched3))
    out += fmt::format(", flags {:#x}", s.flags & (kFlagSched1 | kFlagSched2 | kFlagSched3));
  return out + ")";
}

std::string destination_text(const Destination& d) {
  std::string out = fmt::format("{} {} weight {}", d.endpoint.to_string(), forward_name(d.forward), d.weight);
  if (d.forward == Forward::Tunnel) {
    out += fmt::format(" {}", model::name_of(d.tunnel_type));
    if (d.tunnel_type == model::TunnelType::Gue) out += fmt::format(" port {}", d.tunnel_port);
    if (d.tunnel_type != model::TunnelType::Ipip) out += fmt::format(" {}", model::name_of(d.tunnel_checksum));
  }
  if (d.upper_threshold || d.lower_threshold)
    out += fmt::format(" thresholds {}-{}", d.lower_threshold, d.upper_threshold);
  return out;
}

std::string timeouts_text(const Timeouts& t) {
  std::string out;
  const auto one = [&out](const char* name, std::uint32_t value) {
    if (value == 0) return;
    out += fmt::format("{}{} {} s", out.empty() ? "" : ", ", name, value);
  };
  one("tcp", t.tcp);
  one("tcp_fin", t.tcp_fin);
  one("udp", t.udp);
  return out.empty() ? "(none)" : out;
}

std::string_view state_name(SyncState s) { return s == SyncState::Master ? "master" : "backup"; }

std::string daemon_text(const SyncDaemon& d) {
  std::string out = fmt::format("{} sync daemon on {} (sync_id {}", state_name(d.state), d.interface, d.sync_id);
  if (d.max_len) out += fmt::format(", max_len {}", d.max_len);
  if (d.group) out += fmt::format(", group {}", d.group->to_string());
  if (d.port) out += fmt::format(", port {}", d.port);
  if (d.ttl) out += fmt::format(", ttl {}", d.ttl);
  return out + ")";
}

}  // namespace

std::string describe(const Operation& op) {
  return std::visit(
      [](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, AddService>) return "add service " + service_text(o.service);
        else if constexpr (std::is_same_v<T, EditService>) return "edit service " + service_text(o.service);
        else if constexpr (std::is_same_v<T, DeleteService>) return "delete service " + o.key.to_string();
        else if constexpr (std::is_same_v<T, AddDestination>)
          return fmt::format("add destination {} to {}", destination_text(o.destination), o.service.to_string());
        else if constexpr (std::is_same_v<T, EditDestination>)
          return fmt::format("edit destination {} of {}", destination_text(o.destination), o.service.to_string());
        else if constexpr (std::is_same_v<T, DeleteDestination>)
          return fmt::format("delete destination {} from {}", o.endpoint.to_string(), o.service.to_string());
        else if constexpr (std::is_same_v<T, SetTimeouts>)
          return "set timeouts " + timeouts_text(o.timeouts);
        else if constexpr (std::is_same_v<T, StartDaemon>)
          return "start " + daemon_text(o.daemon);
        else
          return fmt::format("stop {} sync daemon", state_name(o.state));
      },
      op);
}

}  // namespace lvsd::ipvs
