// What `lvsctl status` gets from the VRRP process: vrrp::Node::status() as JSON.
#include "lvsd/daemon/vrrp_status.hpp"

#include "lvsd/vrrp/packet.hpp"

namespace lvsd::daemon {
namespace {
using nlohmann::json;

json holder_json(const vrrp::Holder& holder) {
  json signature = nullptr;
  if (holder.signature)
    signature = json{{"vrid", holder.signature->vrid},
                     {"priority", holder.signature->priority},
                     {"primary", holder.signature->primary.to_string()}};
  return json{{"mac", vrrp::to_string(holder.mac)},
              {"vip", holder.vip.to_string()},
              {"signature", std::move(signature)},
              {"unanswered", holder.unanswered}};
}

json counters_json(const vrrp::InstanceStatus& s) {
  // Another virtual router's adverts (a dual-master pair's other VRID) are no fault: apart.
  json dropped = json::object();
  for (std::size_t i = 0; i < vrrp::kDropReasons; ++i)
    if (s.counters.dropped[i] != 0 && static_cast<vrrp::Drop>(i) != vrrp::Drop::BadVrid)
      dropped[std::string(vrrp::to_string(static_cast<vrrp::Drop>(i)))] = s.counters.dropped[i];
  const auto& e = s.edge_counters;
  return json{{"adverts_sent", s.counters.adverts_sent},
              {"adverts_received", s.counters.adverts_received},
              {"became_master", s.counters.became_master},
              {"priority_zero_sent", s.counters.priority_zero_sent},
              {"priority_zero_received", s.counters.priority_zero_received},
              {"dropped", std::move(dropped)},
              {"other_vrid", s.counters.dropped_by(vrrp::Drop::BadVrid)},
              {"conflicts", e.conflicts},
              {"conflict_yields", e.conflict_yields},
              {"send_errors", e.send_errors},
              {"receive_errors", e.receive_errors},
              {"address_errors", e.address_errors},
              {"announce_errors", e.announce_errors}};
}

}  // namespace

json vrrp_status_json(const std::vector<vrrp::InstanceStatus>& instances, const vrrp::NotifierCounters& notify) {
  json list = json::array();
  for (const auto& s : instances) {
    json trackers = json::array();
    for (const auto& t : s.trackers)
      trackers.push_back(json{{"name", t.name},
                              {"up", t.status.up},
                              {"known", t.status.known},
                              {"number", t.status.number},
                              {"reason", t.status.reason}});
    json conflicts = json::array();
    for (const auto& h : s.conflicts) conflicts.push_back(holder_json(h));
    list.push_back(json{{"name", s.name},
                        {"interface", s.interface},
                        {"vrid", s.vrid},
                        {"state", std::string(vrrp::to_string(s.state))},
                        {"priority", s.priority},
                        {"fault", s.fault},
                        {"reason", s.reason},
                        {"running", s.running},
                        {"yielded", s.yielded},
                        {"trackers", std::move(trackers)},
                        {"conflicts", std::move(conflicts)},
                        {"counters", counters_json(s)}});
  }
  return json{{"process", "vrrp"},
              {"instances", std::move(list)},
              {"notify", json{{"commands_run", notify.commands_run},
                              {"commands_failed", notify.commands_failed},
                              {"fifo_lines", notify.fifo_lines},
                              {"fifo_dropped", notify.fifo_dropped}}}};
}

}  // namespace lvsd::daemon
