// Cutting the VRRP part of a config into units, and a reload's plan over them.
#include "lvsd/daemon/vrrp_units.hpp"

#include <algorithm>
#include <unordered_map>
#include <optional>
#include <unordered_set>

namespace lvsd::daemon {

std::vector<VrrpUnit> vrrp_units(const model::Desired& desired) {
  // The unit's share of the config: what every node needs, and nothing of the pools or of
  // the globals a node does not read (a new control socket restarts no instance).
  const auto base = [&](std::string key) {
    VrrpUnit unit;
    unit.key = std::move(key);
    unit.desired.globals.script_user = desired.globals.script_user;
    unit.desired.vrrp = desired.vrrp;
    return unit;
  };
  std::unordered_map<std::string, const model::SyncGroup*> group_of;
  for (const auto& g : desired.sync_groups)
    for (const auto& name : g.instances) group_of.emplace(name, &g);

  std::vector<VrrpUnit> units;
  std::unordered_set<std::string> groups_done;
  for (const auto& instance : desired.vrrp_instances) {
    auto in_group = group_of.find(instance.name);
    if (in_group == group_of.end()) {
      auto unit = base("instance " + instance.name);
      unit.desired.vrrp_instances.push_back(instance);
      units.push_back(std::move(unit));
      continue;
    }
    const model::SyncGroup& group = *in_group->second;
    if (!groups_done.insert(group.name).second) continue;
    auto unit = base("sync group " + group.name);
    unit.desired.sync_groups.push_back(group);
    // The group's instances in config order (the order a node opens them in).
    for (const auto& member : desired.vrrp_instances)
      if (std::find(group.instances.begin(), group.instances.end(), member.name) != group.instances.end())
        unit.desired.vrrp_instances.push_back(member);
    units.push_back(std::move(unit));
  }
  return units;
}

VrrpReload plan_vrrp_reload(const std::vector<VrrpUnit>& running, const std::vector<VrrpUnit>& next) {
  VrrpReload plan;
  std::unordered_map<std::string, std::size_t> next_by_key;
  for (std::size_t i = 0; i < next.size(); ++i) next_by_key.emplace(next[i].key, i);
  std::vector<std::optional<std::size_t>> kept_from(next.size());  // by index in `next`
  for (std::size_t i = 0; i < running.size(); ++i) {
    auto it = next_by_key.find(running[i].key);
    if (it != next_by_key.end() && next[it->second] == running[i]) kept_from[it->second] = i;
    else plan.stop.push_back(i);
  }
  for (std::size_t i = 0; i < next.size(); ++i) {
    if (kept_from[i]) plan.kept.emplace_back(*kept_from[i], i);
    else plan.start.push_back(i);
  }
  return plan;
}

}  // namespace lvsd::daemon
