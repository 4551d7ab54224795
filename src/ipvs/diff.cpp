// Computes the operations from the kernel's table to the goal.
#include "lvsd/ipvs/diff.hpp"

#include <algorithm>
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

  // The operations go straight into one vector, in their order, pass by pass: a first load
  // is 100,000 operations, and building them in parts and joining the parts would write them
  // twice.
  std::vector<Operation> out;
  std::vector<const ServiceEntry*> match(goal.size(), nullptr);  // each goal entry's kernel entry
  std::unordered_map<ServiceKey, bool, model::Hasher> wanted;
  wanted.reserve(goal.size());
  std::size_t goal_destinations = 0;
  for (std::size_t i = 0; i < goal.size(); ++i) {
    const auto id = identity(goal[i].service.key);
    wanted.emplace(id, true);
    goal_destinations += goal[i].destinations.size();
    if (auto found = in_kernel.find(id); found != in_kernel.end()) match[i] = found->second;
  }
  const auto reserve = [&out](std::size_t more) { out.reserve(out.size() + more); };
  for (std::size_t i = 0; i < goal.size(); ++i)
    if (!match[i]) out.push_back(AddService{goal[i].service});
  for (std::size_t i = 0; i < goal.size(); ++i)
    if (match[i] && !match[i]->service.same_settings(goal[i].service)) out.push_back(EditService{goal[i].service});

  // New destinations; changed ones and those the goal lacks are kept aside for after them.
  std::vector<EditDestination> changed;
  std::vector<DeleteDestination> gone;
  using EndpointSet = std::unordered_map<model::Endpoint, const Destination*, model::Hasher>;
  EndpointSet have, keep;
  for (std::size_t i = 0; i < goal.size(); ++i) {
    const ServiceEntry& g = goal[i];
    if (!match[i]) {
      if (out.capacity() - out.size() < g.destinations.size()) reserve(goal_destinations);
      for (const auto& d : g.destinations) out.push_back(AddDestination{g.service.key, d});
      goal_destinations -= g.destinations.size();
      continue;
    }
    goal_destinations -= g.destinations.size();
    const ServiceEntry& k = *match[i];
    have.clear();
    have.reserve(k.destinations.size());
    for (const auto& d : k.destinations) have.emplace(d.endpoint, &d);
    keep.clear();
    keep.reserve(g.destinations.size());
    for (const auto& d : g.destinations) {
      keep.emplace(d.endpoint, &d);
      auto h = have.find(d.endpoint);
      if (h == have.end())
        out.push_back(AddDestination{g.service.key, d});
      else if (!same_destination(d, *h->second))
        changed.push_back(EditDestination{g.service.key, d});
    }
    for (const auto& d : k.destinations)
      if (!keep.contains(d.endpoint)) gone.push_back(DeleteDestination{k.service.key, d.endpoint});
  }
  reserve(changed.size() + gone.size());
  for (auto& d : changed) out.push_back(std::move(d));
  for (auto& d : gone) out.push_back(std::move(d));

  std::unordered_map<ServiceKey, bool, model::Hasher> retired;
  for (const auto& r : options.retired) retired.emplace(identity(r), true);
  for (const auto& e : actual) {
    const auto id = identity(e.service.key);
    if (wanted.contains(id)) continue;
    if (options.manage == model::Ownership::Exclusive || retired.contains(id))
      out.push_back(DeleteService{e.service.key});
  }
  return out;
}

std::vector<Operation> diff_settings(const Settings& goal, const Settings& actual, const DiffOptions& options) {
  std::vector<Operation> out;
  Timeouts change;
  const auto compare = [](std::uint32_t want, std::uint32_t have, std::uint32_t& into) {
    if (want != 0 && want != have) into = want;
  };
  compare(goal.timeouts.tcp, actual.timeouts.tcp, change.tcp);
  compare(goal.timeouts.tcp_fin, actual.timeouts.tcp_fin, change.tcp_fin);
  compare(goal.timeouts.udp, actual.timeouts.udp, change.udp);
  if (change != Timeouts{}) out.push_back(SetTimeouts{change});

  const auto find = [](const std::vector<SyncDaemon>& in, SyncState state) -> const SyncDaemon* {
    for (const auto& d : in)
      if (d.state == state) return &d;
    return nullptr;
  };
  for (const auto state : {SyncState::Master, SyncState::Backup}) {
    const SyncDaemon* want = find(goal.daemons, state);
    const SyncDaemon* have = find(actual.daemons, state);
    if (want) {
      if (have && want->satisfied_by(*have)) continue;
      if (have) out.push_back(StopDaemon{state});
      out.push_back(StartDaemon{*want});
    } else if (have && (options.manage == model::Ownership::Exclusive ||
                        std::find(options.retired_daemons.begin(), options.retired_daemons.end(), state) !=
                            options.retired_daemons.end())) {
      out.push_back(StopDaemon{state});
    }
  }
  return out;
}

}  // namespace lvsd::ipvs
