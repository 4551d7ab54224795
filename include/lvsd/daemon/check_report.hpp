// The text `lvsd --check-config` prints for a valid configuration.
#pragma once

#include <string>

#include "lvsd/model/desired.hpp"

namespace lvsd::daemon {

// Pools in ipvsadm's layout (with each real server's checks), then the VRRP instances.
std::string check_report(const std::string& file, const model::Desired& desired);

}  // namespace lvsd::daemon
