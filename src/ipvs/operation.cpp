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
        else
          return fmt::format("delete destination {} from {}", o.endpoint.to_string(), o.service.to_string());
      },
      op);
}

}  // namespace lvsd::ipvs
