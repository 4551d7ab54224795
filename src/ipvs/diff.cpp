// Computes the operations from the kernel's table to the goal.
#include "lvsd/ipvs/diff.hpp"

#include <map>
#include <unordered_map>

#include "lvsd/model/hash.hpp"

namespace lvsd::ipvs {

ServiceKey identity(const ServiceKey& key) {
  if (!key.is_fwmark()) return key;
  ServiceKey k;
  k.family = key.family;
  k.fwmark = key.fwmark;
  return k;
}

namespace {
// The kernel reports a destination on one of its own addresses as Local, whatever method it
// was given (ip_vs_ctl.c: __ip_vs_update_dest); that is not a difference to undo.
bool same_destination(const Destination& goal, const Destination& kernel) {
  if (kernel.forward != Forward::Local) return goal.same_settings(kernel);
  Destination as_given = kernel;
  as_given.forward = goal.forward;
  return goal.same_settings(as_given);
}
}  // namespace

std::vector<Operation> diff(const Table& goal, const Table& actual, const DiffOptions& options) {
  std::unordered_map<ServiceKey, const ServiceEntry*, model::Hasher> in_kernel;
  in_kernel.reserve(actual.size());
  for (const auto& e : actual) in_kernel.emplace(identity(e.service.key), &e);

  std::vector<Operation> add_services, edit_services, add_dests, edit_dests, del_dests, del_services;
  // A first load adds every destination: reserve for it, so a 100,000-destination batch is
  // not copied at every doubling of the vector.
  std::size_t goal_destinations = 0;
  for (const auto& g : goal) goal_destinations += g.destinations.size();
  add_dests.reserve(goal_destinations);
  std::unordered_map<ServiceKey, bool, model::Hasher> wanted;
  wanted.reserve(goal.size());
  for (const auto& g : goal) {
    const auto id = identity(g.service.key);
    wanted.emplace(id, true);
    auto found = in_kernel.find(id);
    if (found == in_kernel.end()) {
      add_services.push_back(AddService{g.service});
      for (const auto& d : g.destinations) add_dests.push_back(AddDestination{g.service.key, d});
      continue;
    }
    const ServiceEntry& k = *found->second;
    if (!k.service.same_settings(g.service)) edit_services.push_back(EditService{g.service});
    std::unordered_map<model::Endpoint, const Destination*, model::Hasher> have;
    have.reserve(k.destinations.size());
    for (const auto& d : k.destinations) have.emplace(d.endpoint, &d);
    std::unordered_map<model::Endpoint, bool, model::Hasher> keep;
    keep.reserve(g.destinations.size());
    for (const auto& d : g.destinations) {
      keep.emplace(d.endpoint, true);
      auto h = have.find(d.endpoint);
      if (h == have.end())
        add_dests.push_back(AddDestination{g.service.key, d});
      else if (!same_destination(d, *h->second))
        edit_dests.push_back(EditDestination{g.service.key, d});
    }
    for (const auto& d : k.destinations)
      if (!keep.contains(d.endpoint)) del_dests.push_back(DeleteDestination{k.service.key, d.endpoint});
  }

  std::unordered_map<ServiceKey, bool, model::Hasher> retired;
  for (const auto& r : options.retired) retired.emplace(identity(r), true);
  for (const auto& e : actual) {
    const auto id = identity(e.service.key);
    if (wanted.contains(id)) continue;
    if (options.manage == model::Ownership::Exclusive || retired.contains(id))
      del_services.push_back(DeleteService{e.service.key});
  }

  std::vector<Operation> out;
  out.reserve(add_services.size() + edit_services.size() + add_dests.size() + edit_dests.size() +
              del_dests.size() + del_services.size());
  for (auto* part : {&add_services, &edit_services, &add_dests, &edit_dests, &del_dests, &del_services})
    for (auto& op : *part) out.push_back(std::move(op));
  return out;
}

}  // namespace lvsd::ipvs
