// The reconcile loop's body, independent of timers and signals.
#include "lvsd/daemon/reconciler.hpp"

#include <fmt/format.h>

#include <unordered_set>

#include "lvsd/model/hash.hpp"

namespace lvsd::daemon {

ipvs::Table goal_of(const model::Desired& desired) {
  ipvs::Table t;
  t.reserve(desired.virtual_servers.size());
  for (const auto& vs : desired.virtual_servers) t.push_back(ipvs::to_kernel(vs));
  return t;
}

void Reconciler::set_goal(const model::Desired& desired) {
  ipvs::Table next = goal_of(desired);
  std::unordered_set<model::ServiceKey, model::Hasher> kept;
  for (const auto& e : next) kept.insert(ipvs::identity(e.service.key));
  // Retired services stay retired until a pass has deleted them (or the config brings them back).
  std::vector<model::ServiceKey> retired;
  for (const auto& k : options_.retired)
    if (!kept.contains(ipvs::identity(k))) retired.push_back(k);
  for (const auto& e : goal_)
    if (!kept.contains(ipvs::identity(e.service.key))) retired.push_back(e.service.key);
  options_.retired = std::move(retired);
  options_.manage = desired.ipvs.manage;
  goal_ = std::move(next);
}

PassReport Reconciler::run(std::vector<ipvs::Operation> ops, const char* why) {
  PassReport report;
  if (!ops.empty()) {
    // A first load is 100,000 operations: their text is only made for a log that shows it.
    if (log_)
      for (const auto& op : ops) log_(fmt::format("{}: {}", why, ipvs::describe(op)));
    for (const auto& f : kernel_.apply(ops)) {
      report.failures.push_back(fmt::format("{}: {}", ipvs::describe(ops[f.index]), f.error.message()));
      if (log_) log_(fmt::format("kernel refused {}", report.failures.back()));
    }
  }
  report.applied = std::move(ops);
  return report;
}

std::optional<ipvs::Table> Reconciler::read_kernel(PassReport& report, const char* consequence) {
  auto actual = kernel_.dump();
  if (actual) return std::move(*actual);
  report.read_failed = true;
  report.read_error = actual.error().message();
  if (log_) log_(fmt::format("cannot read the IPVS table: {}; {}", report.read_error, consequence));
  return std::nullopt;
}

PassReport Reconciler::pass(bool drift) {
  PassReport failed;
  auto actual = read_kernel(failed, "nothing changed");
  if (!actual) return failed;
  auto report = run(ipvs::diff(goal_, *actual, options_), drift ? "drift" : "apply");
  if (report.failures.empty()) options_.retired.clear();
  return report;
}

PassReport Reconciler::remove_owned() {
  PassReport failed;
  auto actual = read_kernel(failed, "nothing removed");
  if (!actual) return failed;
  std::unordered_set<model::ServiceKey, model::Hasher> owned;
  for (const auto& e : goal_) owned.insert(ipvs::identity(e.service.key));
  std::vector<ipvs::Operation> ops;
  for (const auto& e : *actual)
    if (owned.contains(ipvs::identity(e.service.key))) ops.push_back(ipvs::DeleteService{e.service.key});
  return run(std::move(ops), "exit");
}

}  // namespace lvsd::daemon
