// The requests lvsd sends to change the IPVS table, one value per netlink command.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "lvsd/ipvs/table.hpp"

namespace lvsd::ipvs {

struct AddService { Service service; bool operator==(const AddService&) const = default; };
struct EditService { Service service; bool operator==(const EditService&) const = default; };
struct DeleteService { ServiceKey key; bool operator==(const DeleteService&) const = default; };
struct AddDestination {
  ServiceKey service;
  Destination destination;
  bool operator==(const AddDestination&) const = default;
};
struct EditDestination {
  ServiceKey service;
  Destination destination;
  bool operator==(const EditDestination&) const = default;
};
struct DeleteDestination {
  ServiceKey service;
  model::Endpoint endpoint;
  bool operator==(const DeleteDestination&) const = default;
};

// IPVS_CMD_SET_CONFIG: a zero timeout leaves the kernel's value.
struct SetTimeouts { Timeouts timeouts; bool operator==(const SetTimeouts&) const = default; };
struct StartDaemon { SyncDaemon daemon; bool operator==(const StartDaemon&) const = default; };
struct StopDaemon { SyncState state; bool operator==(const StopDaemon&) const = default; };

using Operation = std::variant<AddService, EditService, DeleteService, AddDestination, EditDestination,
                               DeleteDestination, SetTimeouts, StartDaemon, StopDaemon>;

// "add service TCP 192.0.2.10:80 (wlc)", "edit destination 10.0.0.1:80 of TCP ...: weight 2"
std::string describe(const Operation& op);

}  // namespace lvsd::ipvs
