// The VRRP process's answer to `status` on its control socket, as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "lvsd/vrrp/node.hpp"

namespace lvsd::daemon {

// Pure. {"process": "vrrp", "instances": [...], "notify": {...}}; per instance its status
// (state as "MASTER", reason, trackers with name/up/known/number/reason, conflicts with
// mac/vip/signature (null without one)/unanswered, yielded) and the counters worth an
// operator's eye: adverts, drops by reason (only those seen), conflicts, yields, the edges'
// errors. src/cli/status.cpp prints it.
nlohmann::json vrrp_status_json(const std::vector<vrrp::InstanceStatus>& instances,
                                const vrrp::NotifierCounters& notify);

}  // namespace lvsd::daemon
