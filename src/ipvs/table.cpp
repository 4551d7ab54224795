// From the declared model to the kernel's form of a service and its destinations.
#include "lvsd/ipvs/table.hpp"

#include "lvsd/model/names.hpp"

namespace lvsd::ipvs {

Service to_kernel_service(const model::VirtualServer& vs) {
  Service s;
  s.key = vs.key;
  s.scheduler = std::string(model::name_of(vs.scheduler));
  const auto& f = vs.scheduler_flags;
  if (f.sh_fallback || f.mh_fallback) s.flags |= kFlagSched1;
  if (f.sh_port || f.mh_port) s.flags |= kFlagSched2;
  if (vs.one_packet) s.flags |= kFlagOnePacket;
  s.prefix_length = static_cast<std::uint8_t>(model::max_prefix(vs.key.family));
  if (vs.persistence) {
    s.flags |= kFlagPersistent;
    s.timeout = static_cast<std::uint32_t>(vs.persistence->timeout.count());
    s.prefix_length = vs.persistence->prefix_length;
    s.pe_name = vs.persistence->engine;
  }
  return s;
}

Destination to_kernel_destination(const model::RealServer& rs) {
  Destination d;
  d.endpoint = rs.endpoint;
  switch (rs.forwarding.method) {
    case model::ForwardMethod::Nat: d.forward = Forward::Masq; break;
    case model::ForwardMethod::Dr: d.forward = Forward::Route; break;
    case model::ForwardMethod::Tun:
      d.forward = Forward::Tunnel;
      d.tunnel_type = rs.forwarding.tunnel_type;
      d.tunnel_port = rs.forwarding.tunnel_port;
      d.tunnel_checksum = rs.forwarding.tunnel_checksum;
      break;
  }
  d.weight = rs.weight;
  d.upper_threshold = rs.upper_threshold;
  d.lower_threshold = rs.lower_threshold;
  return d;
}

ServiceEntry to_kernel(const model::VirtualServer& vs) {
  ServiceEntry e{to_kernel_service(vs), {}};
  e.destinations.reserve(vs.real_servers.size());
  for (const auto& rs : vs.real_servers) e.destinations.push_back(to_kernel_destination(rs));
  return e;
}

bool SyncDaemon::satisfied_by(const SyncDaemon& running) const {
  // A kernel older than 4.3 reports none of the multicast settings: what it does not say
  // cannot be told apart, so it is not a reason to restart the daemon every pass.
  const auto same = [](const auto& want, const auto& have, const auto& unset) {
    return want == unset || have == unset || want == have;
  };
  return state == running.state && interface == running.interface && sync_id == running.sync_id &&
         same(max_len, running.max_len, std::uint16_t{0}) && same(group, running.group, std::nullopt) &&
         same(port, running.port, std::uint16_t{0}) && same(ttl, running.ttl, std::uint8_t{0});
}

}  // namespace lvsd::ipvs
