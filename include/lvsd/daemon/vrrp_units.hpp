// The VRRP part of a config cut into the parts a reload can restart one by one.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lvsd/model/desired.hpp"

namespace lvsd::daemon {

// What one vrrp::Node runs: a sync group with its instances, or an instance in no group.
// `desired` holds only that (the instances, the group, the VRRP settings and the script
// user), so that two units compare equal when their node would run the same.
struct VrrpUnit {
  std::string key;  // "sync group NAME" or "instance NAME"
  model::Desired desired;
  bool operator==(const VrrpUnit&) const = default;
};

// The units of a config in its order: each sync group where its first instance is declared,
// every instance in exactly one unit. An instance that a group names but the config does not
// declare is not looked for here (the config loader refuses such a config).
std::vector<VrrpUnit> vrrp_units(const model::Desired& desired);

// What a reload from `running` to `next` does: the units to give up (gone or changed, by
// their index in `running`) and those to start (new or changed, by their index in `next`).
// A unit that is in both, equal, is left running: its instances keep their state, and their
// peers see nothing of the reload.
struct VrrpReload {
  std::vector<std::size_t> stop;
  std::vector<std::size_t> start;
  // Left running: {index in `running`, index in `next`}, in the order of `next`.
  std::vector<std::pair<std::size_t, std::size_t>> kept;
  bool operator==(const VrrpReload&) const = default;
};
VrrpReload plan_vrrp_reload(const std::vector<VrrpUnit>& running, const std::vector<VrrpUnit>& next);

}  // namespace lvsd::daemon
