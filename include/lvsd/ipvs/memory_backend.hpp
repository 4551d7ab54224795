// An in-memory IPVS table with the kernel's answers (EEXIST, ESRCH, ENOENT, EINVAL), for unit
// tests of everything above the netlink edge. Timeouts start at the kernel's defaults
// (900/120/300 s); a started sync daemon reports the kernel's defaults for what it left open.
#pragma once

#include "lvsd/ipvs/backend.hpp"

namespace lvsd::ipvs {

class MemoryBackend final : public Backend {
 public:
  MemoryBackend() = default;
  explicit MemoryBackend(Table initial) : table_(std::move(initial)) {}

  boost::system::result<Table> dump() override;
  boost::system::result<Settings> dump_settings() override;
  std::vector<Failure> apply(std::span<const Operation> operations) override;

  // How many operations apply() has been given in all, and in how many calls.
  std::size_t operations_applied() const { return operations_; }
  std::size_t apply_calls() const { return calls_; }
  const Table& table() const { return table_; }
  const Settings& settings() const { return settings_; }

 private:
  boost::system::error_code apply_one(const Operation& op);
  ServiceEntry* find(const ServiceKey& key);
  SyncDaemon* running(SyncState state);

  Table table_;
  Settings settings_{Timeouts{900, 120, 300}, {}};  // the kernel's defaults, no daemon
  std::size_t operations_ = 0;
  std::size_t calls_ = 0;
};

// Schedulers the kernel ships (ip_vs_<name>.ko in Debian's 6.1 kernel).
bool known_scheduler(std::string_view name);

}  // namespace lvsd::ipvs
