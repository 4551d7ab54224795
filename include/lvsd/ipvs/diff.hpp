// The fewest operations that turn the kernel's table into the goal, make-before-break.
#pragma once

#include <vector>

#include "lvsd/ipvs/operation.hpp"
#include "lvsd/ipvs/table.hpp"
#include "lvsd/model/desired.hpp"

namespace lvsd::ipvs {

struct DiffOptions {
  // Owned: only services in the goal or in `retired` are touched. Exclusive: every service
  // not in the goal is deleted.
  model::Ownership manage = model::Ownership::Owned;
  // Services lvsd declared before (the previous config) and declares no more: deleted.
  std::vector<ServiceKey> retired;
  // Sync daemons lvsd started under the previous config and declares no more: stopped.
  std::vector<SyncState> retired_daemons;
};

// Order: new services, edited services, new destinations, edited destinations, then removed
// destinations and removed services — so traffic always has somewhere to go. A change of
// scheduler or flags is an edit, never a delete and add (which would drop connections).
std::vector<Operation> diff(const Table& goal, const Table& actual, const DiffOptions& options = {});

// The operations that bring the kernel's timeouts and sync daemons to the goal: one
// SetTimeouts with the declared values that differ (zero for the others, which leaves them),
// and for each daemon state a start, or a stop and a start when the running one is not the
// declared one (the kernel cannot change a running daemon). A daemon the goal lacks is stopped
// when retired, or always in exclusive mode. Timeouts the goal leaves at zero are never touched.
std::vector<Operation> diff_settings(const Settings& goal, const Settings& actual, const DiffOptions& options = {});

// The key the kernel finds a service by: fwmark services by mark and family alone.
ServiceKey identity(const ServiceKey& key);

}  // namespace lvsd::ipvs
