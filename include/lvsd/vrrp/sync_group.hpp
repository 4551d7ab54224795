// A VRRP sync group (lvsd.toml(5) [[vrrp_sync_group]]): member instances that change state
// together, so that all their addresses sit on one director. A pure decision, and its driver.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/vrrp/instance.hpp"
#include "lvsd/vrrp/runner.hpp"

namespace lvsd::vrrp {

// What the group knows of one member when it decides.
struct SyncMember {
  State state = State::Init;
  bool ready = false;  // Instance::ready: master, or a backup that hears no master to follow
  bool fault = false;  // its own trackers' verdict
  bool operator==(const SyncMember&) const = default;
};

// What one member must be: told to fault or not, held or released, and to yield now or not.
struct SyncOrder {
  bool fault = false;
  bool hold = true;
  bool yield = false;
  bool operator==(const SyncOrder&) const = default;
};

// The group's rules, one order per member, in the members' order:
// - fault: every member faults while any member's own trackers fault.
// - hold: every member is held (no backup goes master) until every member is ready, so a
//   member that still hears a live better master keeps the whole group backup; when the last
//   one becomes ready, none is held and the ready backups go master at once.
// - yield: a master yields while another member is neither master nor ready (it heard a
//   better master, or is not started): the group goes backup together, and the other
//   director's members take over after their skew.
std::vector<SyncOrder> sync_orders(const std::vector<SyncMember>& members);
// FAULT if any member is in FAULT, INIT if any is in INIT (not started, or stopped), MASTER if
// all are MASTER, BACKUP otherwise.
State sync_state(const std::vector<SyncMember>& members);

// The group at work: gives its members' runners the orders of sync_orders() whenever
// something changed. Build it before starting its members: it holds each of them at once, so
// that none goes master alone. Every call comes from the executor's thread.
class SyncGroup {
 public:
  using Log = std::function<void(std::string_view)>;
  using OnState = std::function<void(State from, State to)>;

  // `members`, in configuration order, outlive the group. The group sets each member's
  // on_ready (Runner::on_ready) to its own on_ready(). `log` gets one line per decision worth an
  // operator's eye (masters yielding, the group faulting or recovering); `on_state`
  // every change of state(), once the members have been given their orders, never from inside
  // a runner's callback, for the group's notify commands.
  SyncGroup(boost::asio::any_io_executor executor, std::string name, std::vector<Runner*> members, Log log,
            OnState on_state);
  SyncGroup(SyncGroup&&) noexcept;
  SyncGroup& operator=(SyncGroup&&) noexcept;
  // Orders still posted then do nothing; the members keep their state and their hold.
  ~SyncGroup();

  // A member's own trackers' verdicts, in place of Runner::set_fault and
  // Runner::set_priority_delta for a grouped instance, acted on at once (not from inside a
  // member's callback). Every member gets the sum of all members' deltas: a weight that
  // lowered one member alone would let the other director's member preempt while its
  // partner still hears this director's master, and the group would never move.
  void set_fault(std::size_t member, bool fault);
  void set_priority_delta(std::size_t member, std::int32_t delta);
  // To be called from each member's OnState; the orders are posted, not given inside it.
  void on_state(std::size_t member, State from, State to);
  // A held member became ready; the constructor routes each member's on_ready here.
  void on_ready(std::size_t member);

  State state() const;  // sync_state() of the members now
  const std::string& name() const;

  struct Impl;  // sync_group.cpp

 private:
  std::shared_ptr<Impl> impl_;  // shared with the handlers it posts
};

}  // namespace lvsd::vrrp
