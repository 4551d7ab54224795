// The VRRP state machine of one instance (RFC 5798 section 6, RFC 3768 for v2): a pure core,
// events and the time in, the actions the edges must take out.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/vrrp.hpp"
#include "lvsd/vrrp/packet.hpp"

namespace lvsd::vrrp {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
// Timers are kept in microseconds: the RFC's centiseconds, truncated, would give the same
// Skew_Time to 25 neighbouring priorities at a 100ms interval, and those backups would all
// take over in the same instant.
using Micros = std::chrono::microseconds;

enum class State : std::uint8_t { Init, Backup, Master, Fault };
std::string_view to_string(State state);  // "INIT", "BACKUP", "MASTER", "FAULT"

// One thing an edge must do. Actions come in the order they must be done; a state change
// comes last, once the addresses are held or released, so a notify command it triggers sees
// the director as it now is.
struct Action {
  enum class Kind : std::uint8_t {
    SendAdvert,   // build it with Instance::advert(priority) and send it
    AddVips,      // put the virtual addresses (and routes) on their interfaces
    RemoveVips,   // take them off
    Announce,     // start the gratuitous ARP / unsolicited NA bursts (garp_master_*)
    StateChange,  // notify commands, logs, metrics
  };
  Kind kind = Kind::SendAdvert;
  std::uint8_t priority = 0;  // SendAdvert: 0 when a master gives up
  State from = State::Init;   // StateChange
  State to = State::Init;     // StateChange

  static Action send_advert(std::uint8_t priority);
  static Action add_vips();
  static Action remove_vips();
  static Action announce();
  static Action state_change(State from, State to);
  bool operator==(const Action&) const = default;
};
std::string to_string(const Action& action);  // "send_advert(100)", "state BACKUP->MASTER"

struct Output {
  std::vector<Action> actions;
  std::optional<Drop> dropped;    // receive(): why the advert was ignored
  bool address_mismatch = false;  // receive(): its address list differs from ours: log it
  // A held backup has just become ready (see Instance::hold): it would be master now, and waits
  // for hold(false). Said once each time; a valid advert makes it unready again.
  bool became_ready = false;
  bool operator==(const Output&) const = default;
};

struct Counters {
  std::uint64_t adverts_received = 0;  // every advert given to receive(), dropped or not
  std::uint64_t adverts_sent = 0;      // SendAdvert actions emitted
  std::uint64_t priority_zero_received = 0;
  std::uint64_t priority_zero_sent = 0;
  std::uint64_t became_master = 0;
  std::uint64_t address_mismatches = 0;  // seen, whether the advert was then dropped or not
  std::array<std::uint64_t, kDropReasons> dropped{};  // indexed by Drop
  std::uint64_t dropped_by(Drop reason) const { return dropped[static_cast<std::size_t>(reason)]; }
  bool operator==(const Counters&) const = default;
};

// One instance. Call start() once; then receive() for every advert that passed decode()
// (same version, VRID and family as ours), tick() when next_deadline() is reached, and
// set_fault()/set_priority_delta() when the trackers change their minds. Nothing happens
// between calls: a timer that is overdue runs at the next tick(), never inside receive().
//
// Where the RFCs are silent we follow keepalived:
// - initial_state Master: go master at start without waiting for Master_Down_Interval, then
//   behave as any master (yield to a higher advert). Ignored (start as Backup) when preempt
//   is off or preempt_delay is set, since going master at once would preempt a live master.
// - preempt_delay: a preempting backup keeps treating a lower-priority master's adverts as
//   valid for preempt_delay, counted from start (or leaving Fault), or, when it has heard an
//   advert of priority >= ours since, from the first lower-priority advert after that one.
//   Then it ignores them and takes over when its master-down timer runs out. The delay never
//   holds back a takeover from a master that went quiet.
// - A master that hears a lower-priority advert (or an equal one from a lower address)
//   answers with an advert at once, so a second master learns of us in one round trip.
// - The address owner (priority 255) always preempts, whatever `preempt` says (RFC 5798 6.1).
//
// A sync group (lvsd.toml(5) [[vrrp_sync_group]]) moves its members together through three
// more calls, which an instance outside a group never gets:
// - hold(true): a backup whose master-down timer runs out stays backup and becomes "ready"
//   (Output::became_ready) instead of master; no timer runs while it waits. A valid advert,
//   one that would have restarted the timer, makes it unready and restarts the timer.
//   hold(false) makes a ready backup master at once, without a further wait. The owner and an
//   initial_state Master, which go master at start (the owner also on leaving Fault) without
//   waiting, are held as backups that are ready at once. A hold never demotes a master.
//   The hold is remembered across Init and Fault, like set_fault().
// - ready(): master, or a backup whose master-down timer has run out (it hears no master it
//   should follow): what the group asks of every member before any of them goes master.
// - yield(): a master steps down to backup as if it had stopped (priority 0, addresses off),
//   so that the other director takes over after Skew_Time; then it is a backup as after start.
class Instance {
 public:
  // `primary`: our address on the interface, the source of our adverts (unicast_source when
  // set); an advert from it is our own, looped back.
  Instance(const model::VrrpInstance& config, model::IpAddress primary);

  Output start(TimePoint now);  // throws std::logic_error unless in Init
  Output receive(const Advert& advert, const model::IpAddress& source, TimePoint now);
  Output tick(TimePoint now);
  // True: a tracker of weight 0 fails; the instance gives up its addresses and takes no part
  // in elections until set_fault(false). In Init (before start(), after shutdown()) it is
  // only remembered, for the next start().
  Output set_fault(bool fault, TimePoint now);
  // The sum of the trackers' weights. Effective priority = configured + delta, kept within
  // 1..254; an owner (255) stays 255 while the delta is >= 0. Takes effect in the next
  // advert (master) or at the next election (backup): no action now.
  void set_priority_delta(std::int32_t delta);
  // See the class comment: a sync group's hold on going master, and a master's yield.
  Output hold(bool on, TimePoint now);
  Output yield(TimePoint now);  // does nothing unless master
  bool ready(TimePoint now) const;
  bool held() const { return held_; }
  // A master sends priority 0 and removes its addresses; every state goes back to Init.
  Output shutdown();
  // For the edges after a decode() failure, so one place counts every drop.
  void note_drop(Drop reason);

  State state() const { return state_; }
  // Master: the next advert. Backup: master down, or TimePoint::max() when held and ready.
  // Init and Fault: TimePoint::max().
  TimePoint next_deadline() const;
  std::uint8_t effective_priority() const { return effective_priority_; }
  // v3: learnt from the master's adverts; v2: always our own.
  Micros master_adver_interval() const { return master_adver_interval_; }
  Micros skew_time() const;
  Micros master_down_interval() const;
  const Counters& counters() const { return counters_; }
  // Our advert with this priority: version, VRID, interval, addresses, v2 password.
  Advert advert(std::uint8_t priority) const;

 private:
  bool addresses_match(const Advert& advert) const;
  bool preempts() const;
  bool wait_for_preempt_delay(TimePoint now);
  Output become_master(TimePoint now);
  Output enter_backup(TimePoint now);
  // Where the RFC goes master without waiting (the owner, initial_state Master).
  Output master_at_once(TimePoint now);
  void restart_timer(TimePoint now);
  Output stop(State to);
  void give_up(Output& out);  // a master's priority 0 and addresses off
  void send(std::uint8_t priority, Output& out);
  void learn_interval(const Advert& advert);

  // From the configuration.
  std::uint8_t version_;
  std::uint8_t vrid_;
  model::Family family_;
  std::uint8_t priority_;
  Micros advert_interval_;
  bool preempt_;
  Micros preempt_delay_;
  bool initial_master_;
  std::string auth_pass_;
  std::vector<model::IpAddress> addresses_;         // in configured order, for our adverts
  std::vector<model::IpAddress> sorted_addresses_;  // to compare with received lists
  model::IpAddress primary_;

  State state_ = State::Init;
  bool fault_ = false;
  bool held_ = false;
  bool ready_ = false;  // a held backup whose master-down timer ran out
  std::uint8_t effective_priority_;
  Micros master_adver_interval_;
  TimePoint deadline_ = TimePoint::max();
  // Preempting a lower-priority master waits until then; unset: no wait is running.
  std::optional<TimePoint> preempt_at_;
  Counters counters_;
};

}  // namespace lvsd::vrrp
