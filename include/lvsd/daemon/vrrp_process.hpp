// The VRRP process of lvsd: the config's VRRP instances on a vrrp::Node, until SIGTERM.
#pragma once

#include <string>

namespace lvsd::daemon {

// Reads `path`, runs its VRRP instances, reloads them at SIGHUP and gives them up at SIGTERM
// or SIGINT (priority-0 adverts, VIPs removed, notify_stop run). The exit status for lvsd:
// 0 after a clean stop, 1 when the config cannot be read.
//
// Each sync group, and each instance in none, runs on a vrrp::Node of its own (a unit,
// vrrp_units.hpp). A reload restarts only the units it changes: an instance added, removed
// or edited is given up (priority-0 adverts, VIPs removed) or started, and every other one
// keeps its state and its VIPs, unseen by its peers. A change of [global] script_user or of
// [vrrp] changes every unit. The pools' changes are the pool process's.
int run_vrrp_process(const std::string& path);

}  // namespace lvsd::daemon
