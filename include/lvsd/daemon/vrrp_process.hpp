// The VRRP process of lvsd: the config's VRRP instances on a vrrp::Node, until SIGTERM.
#pragma once

#include <string>

namespace lvsd::daemon {

// Reads `path`, runs its VRRP instances, reloads them at SIGHUP and gives them up at SIGTERM
// or SIGINT (priority-0 adverts, VIPs removed, notify_stop run). The exit status for lvsd:
// 0 after a clean stop, 1 when the config cannot be read.
//
// A reload that leaves the VRRP part of the config as it was ([global] script_user, [vrrp],
// instances and sync groups) changes nothing here: the pools' changes are the pool process's.
// One that changes it gives up every instance and starts them again from the new config
// (the peers hold the VIPs meanwhile, for about their skew time).
int run_vrrp_process(const std::string& path);

}  // namespace lvsd::daemon
