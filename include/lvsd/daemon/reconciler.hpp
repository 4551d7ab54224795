// Keeps the kernel's IPVS table equal to the goal: apply on start and reload, find and undo
// drift on every pass, remove what lvsd owns on exit when asked.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lvsd/ipvs/backend.hpp"
#include "lvsd/ipvs/diff.hpp"
#include "lvsd/model/desired.hpp"

namespace lvsd::daemon {

// What one pass did, for logs, metrics and tests.
struct PassReport {
  std::vector<ipvs::Operation> applied;  // every operation sent
  std::vector<std::string> failures;     // "<operation>: <error>", one per refused operation
  bool read_failed = false;              // the kernel could not be read; nothing was sent
  std::string read_error;
};

class Reconciler {
 public:
  // Receives every line the reconciler logs; an empty Log skips making them (the report
  // still holds the failures).
  using Log = std::function<void(const std::string& line)>;

  Reconciler(ipvs::Backend& kernel, Log log) : kernel_(kernel), log_(std::move(log)) {}

  // A new declared state (start or reload). Services of the previous goal that the new one
  // lacks are retired: deleted on the next pass, whatever the ownership mode.
  void set_goal(const model::Desired& desired);

  // Reads the kernel, applies the difference. `drift` marks a periodic pass: its changes are
  // logged as drift (someone changed the table behind lvsd's back).
  PassReport pass(bool drift);

  // on_exit = "remove": deletes every service lvsd owns and stops the sync daemons it declares.
  PassReport remove_owned();

  const ipvs::Table& goal() const { return goal_; }
  const ipvs::Settings& goal_settings() const { return goal_settings_; }

 private:
  struct KernelState {
    ipvs::Table table;
    ipvs::Settings settings;
  };
  PassReport run(std::vector<ipvs::Operation> ops, const char* why);
  // The kernel's table and settings, or nullopt with the failure logged and recorded in `report`.
  std::optional<KernelState> read_kernel(PassReport& report, const char* consequence);

  ipvs::Backend& kernel_;
  Log log_;
  ipvs::Table goal_;
  ipvs::Settings goal_settings_;
  ipvs::DiffOptions options_;
};

// The kernel goal for a declared state: every real server at its declared weight.
ipvs::Table goal_of(const model::Desired& desired);
// The declared timeouts and sync daemons in the kernel's terms.
ipvs::Settings settings_of(const model::Desired& desired);

}  // namespace lvsd::daemon
