// lvsctl status: the VRRP process's reply as an operator reads it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace lvsd::cli {

// Pure: the reply of the VRRP process's `status` (daemon/vrrp_status.hpp) → text, one block per
// instance: its name, interface, VRID, state and priority; why FAULT or why not running; its
// trackers; the other holders of its VIPs (MAC, VIP, their lvsd's signature or what else they
// can be); yielded; its counters. Then the notify counters. A member missing from the reply
// reads as empty or 0; one of the wrong type throws nlohmann::json::exception.
std::string render_vrrp_status(const nlohmann::json& reply);

}  // namespace lvsd::cli
