// The reconcile loop's body, independent of timers and signals.
#include "lvsd/daemon/reconciler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "lvsd/model/hash.hpp"

namespace lvsd::daemon {

ipvs::Table goal_of(const model::Desired& desired) {
  ipvs::Table t;
  t.reserve(desired.virtual_servers.size());
  for (const auto& vs : desired.virtual_servers) t.push_back(ipvs::to_kernel(vs));
  return t;
}

ipvs::Settings settings_of(const model::Desired& desired) {
  ipvs::Settings s;
  const auto& t = desired.ipvs.timeouts;
  s.timeouts = {static_cast<std::uint32_t>(t.tcp.count()), static_cast<std::uint32_t>(t.tcp_fin.count()),
                static_cast<std::uint32_t>(t.udp.count())};
  for (const auto& d : desired.ipvs.sync_daemons)
    s.daemons.push_back({.state = d.role == model::SyncRole::Master ? ipvs::SyncState::Master : ipvs::SyncState::Backup,
                         .interface = d.interface,
                         .sync_id = d.sync_id,
                         .max_len = d.max_len,
                         .group = d.group,
                         .port = d.port,
                         .ttl = d.ttl});
  return s;
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

  // Likewise the sync daemons: one the new goal no longer declares is stopped.
  ipvs::Settings settings = settings_of(desired);
  const auto declared = [&settings](ipvs::SyncState state) {
    return std::any_of(settings.daemons.begin(), settings.daemons.end(),
                       [state](const ipvs::SyncDaemon& d) { return d.state == state; });
  };
  std::vector<ipvs::SyncState> retired_daemons;
  for (const auto state : options_.retired_daemons)
    if (!declared(state)) retired_daemons.push_back(state);
  for (const auto& d : goal_settings_.daemons)
    if (!declared(d.state) && std::find(retired_daemons.begin(), retired_daemons.end(), d.state) == retired_daemons.end())
      retired_daemons.push_back(d.state);
  options_.retired_daemons = std::move(retired_daemons);
  goal_settings_ = std::move(settings);
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

std::optional<Reconciler::KernelState> Reconciler::read_kernel(PassReport& report, const char* consequence) {
  auto table = kernel_.dump();
  auto settings = table ? kernel_.dump_settings() : boost::system::result<ipvs::Settings>(table.error());
  if (table && settings) return KernelState{std::move(*table), std::move(*settings)};
  report.read_failed = true;
  report.read_error = settings.error().message();
  if (log_)
    log_(fmt::format("cannot read the IPVS {}: {}; {}", table ? "settings" : "table", report.read_error, consequence));
  return std::nullopt;
}

PassReport Reconciler::pass(bool drift) {
  PassReport failed;
  auto actual = read_kernel(failed, "nothing changed");
  if (!actual) return failed;
  auto ops = ipvs::diff(goal_, actual->table, options_);
  for (auto& op : ipvs::diff_settings(goal_settings_, actual->settings, options_)) ops.push_back(std::move(op));
  auto report = run(std::move(ops), drift ? "drift" : "apply");
  if (report.failures.empty()) {
    options_.retired.clear();
    options_.retired_daemons.clear();
  }
  return report;
}

PassReport Reconciler::remove_owned() {
  PassReport failed;
  auto actual = read_kernel(failed, "nothing removed");
  if (!actual) return failed;
  std::unordered_set<model::ServiceKey, model::Hasher> owned;
  for (const auto& e : goal_) owned.insert(ipvs::identity(e.service.key));
  std::vector<ipvs::Operation> ops;
  for (const auto& e : actual->table)
    if (owned.contains(ipvs::identity(e.service.key))) ops.push_back(ipvs::DeleteService{e.service.key});
  // The sync daemons lvsd declares, as declared (not one someone else started in their
  // place); timeouts stay (the kernel has no "unset").
  for (const auto& running : actual->settings.daemons)
    for (const auto& declared : goal_settings_.daemons)
      if (declared.satisfied_by(running)) ops.push_back(ipvs::StopDaemon{running.state});
  return run(std::move(ops), "exit");
}

}  // namespace lvsd::daemon
