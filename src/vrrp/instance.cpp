// The VRRP state machine of one instance: elections, timers and what each transition asks of
// the edges.
#include "lvsd/vrrp/instance.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace lvsd::vrrp {

namespace {

constexpr std::uint8_t kOwnerPriority = 255;

// Numerically, as unsigned byte strings in network order (RFC 5798 6.4.3): the byte arrays
// compare that way, and both addresses are of the instance's family.
bool higher_address(const model::IpAddress& a, const model::IpAddress& b) {
  return a.bytes() > b.bytes();
}

std::string_view kind_name(Action::Kind kind) {
  switch (kind) {
    case Action::Kind::SendAdvert: return "send_advert";
    case Action::Kind::AddVips: return "add_vips";
    case Action::Kind::RemoveVips: return "remove_vips";
    case Action::Kind::Announce: return "announce";
    case Action::Kind::StateChange: return "state";
  }
  return "?";
}

}  // namespace

std::string_view to_string(State state) {
  switch (state) {
    case State::Init: return "INIT";
    case State::Backup: return "BACKUP";
    case State::Master: return "MASTER";
    case State::Fault: return "FAULT";
  }
  return "?";
}

Action Action::send_advert(std::uint8_t priority) {
  return Action{.kind = Kind::SendAdvert, .priority = priority};
}
Action Action::add_vips() { return Action{.kind = Kind::AddVips}; }
Action Action::remove_vips() { return Action{.kind = Kind::RemoveVips}; }
Action Action::announce() { return Action{.kind = Kind::Announce}; }
Action Action::state_change(State from, State to) {
  return Action{.kind = Kind::StateChange, .from = from, .to = to};
}

std::string to_string(const Action& action) {
  switch (action.kind) {
    case Action::Kind::SendAdvert: return fmt::format("send_advert({})", action.priority);
    case Action::Kind::StateChange:
      return fmt::format("state {}->{}", to_string(action.from), to_string(action.to));
    default: return std::string(kind_name(action.kind));
  }
}

Instance::Instance(const model::VrrpInstance& config, model::IpAddress primary)
    : version_(config.version),
      vrid_(config.vrid),
      family_(config.family),
      priority_(config.priority),
      advert_interval_(config.advert_interval),
      preempt_(config.preempt),
      preempt_delay_(config.preempt_delay),
      initial_master_(config.initial_state == model::VrrpState::Master),
      auth_pass_(config.auth_pass),
      primary_(primary),
      effective_priority_(config.priority),
      master_adver_interval_(config.advert_interval) {
  // The config loader rejects these; reaching here with one is a wiring bug.
  if (version_ != 2 && version_ != 3) {
    throw std::invalid_argument(fmt::format("vrrp instance {}: version {}", config.name, version_));
  }
  if (config.priority == 0 || config.advert_interval <= model::Millis{0}) {
    throw std::invalid_argument(
        fmt::format("vrrp instance {}: priority 0 or advert_interval <= 0", config.name));
  }
  for (const auto& vip : config.virtual_ips) addresses_.push_back(vip.prefix.address);
  sorted_addresses_ = addresses_;
  std::sort(sorted_addresses_.begin(), sorted_addresses_.end());
}

TimePoint Instance::next_deadline() const {
  if (state_ == State::Master) return deadline_;
  // A ready held backup waits for hold(false) or an advert, not for a time.
  if (state_ == State::Backup && !ready_) return deadline_;
  return TimePoint::max();
}

bool Instance::ready(TimePoint now) const {
  if (state_ == State::Master) return true;
  return state_ == State::Backup && (ready_ || now >= deadline_);
}

Micros Instance::skew_time() const {
  const std::int64_t weight = 256 - effective_priority_;
  // v2: (256 - Priority) / 256 seconds; v3: the same fraction of Master_Adver_Interval.
  const std::int64_t base = version_ == 2 ? std::int64_t{1'000'000} : master_adver_interval_.count();
  return Micros{weight * base / 256};
}

Micros Instance::master_down_interval() const {
  // v2 has no learnt interval: master_adver_interval_ stays our own.
  return 3 * master_adver_interval_ + skew_time();
}

Advert Instance::advert(std::uint8_t priority) const {
  Advert a;
  a.version = version_;
  a.vrid = vrid_;
  a.priority = priority;
  a.interval = std::chrono::duration_cast<model::Millis>(advert_interval_);
  a.family = family_;
  a.addresses = addresses_;
  if (version_ == 2 && !auth_pass_.empty()) {
    a.auth = AuthType::SimplePassword;
    a.password = auth_pass_;
  }
  return a;
}

void Instance::set_priority_delta(std::int32_t delta) {
  const std::int32_t sum = std::int32_t{priority_} + delta;
  // Only the address owner may advertise 255 (RFC 5798 5.2.4); a failing tracker makes it
  // an ordinary router until it recovers.
  const std::int32_t top = priority_ == kOwnerPriority ? 255 : 254;
  effective_priority_ = static_cast<std::uint8_t>(std::clamp(sum, std::int32_t{1}, top));
}

bool Instance::preempts() const { return preempt_ || effective_priority_ == kOwnerPriority; }

bool Instance::addresses_match(const Advert& advert) const {
  if (advert.addresses.size() != sorted_addresses_.size()) return false;
  std::vector<model::IpAddress> theirs = advert.addresses;
  std::sort(theirs.begin(), theirs.end());
  return theirs == sorted_addresses_;
}

void Instance::note_drop(Drop reason) { ++counters_.dropped[static_cast<std::size_t>(reason)]; }

void Instance::send(std::uint8_t priority, Output& out) {
  out.actions.push_back(Action::send_advert(priority));
  ++counters_.adverts_sent;
  if (priority == 0) ++counters_.priority_zero_sent;
}

void Instance::learn_interval(const Advert& advert) {
  // v2 adverts with another interval never get here (decode drops them as BadInterval).
  if (version_ == 3 && advert.interval > model::Millis{0}) {
    master_adver_interval_ = advert.interval;
  }
}

Output Instance::become_master(TimePoint now) {
  Output out;
  const State from = state_;
  // Addresses first: the announcement needs them, and once our advert makes the old master
  // or the other backups stand down, traffic for the VIPs must find them here.
  out.actions.push_back(Action::add_vips());
  send(effective_priority_, out);
  out.actions.push_back(Action::announce());
  out.actions.push_back(Action::state_change(from, State::Master));
  state_ = State::Master;
  deadline_ = now + advert_interval_;
  preempt_at_.reset();
  ready_ = false;
  ++counters_.became_master;
  return out;
}

// Backup as after Initialize (RFC 5798 6.4.1): our own interval until a master teaches us
// its own, and a fresh preempt_delay wait.
Output Instance::enter_backup(TimePoint now) {
  Output out;
  out.actions.push_back(Action::state_change(state_, State::Backup));
  state_ = State::Backup;
  master_adver_interval_ = advert_interval_;
  deadline_ = now + master_down_interval();
  ready_ = false;
  if (preempt_delay_ > Micros{0}) {
    preempt_at_ = now + preempt_delay_;
  } else {
    preempt_at_.reset();
  }
  return out;
}

Output Instance::start(TimePoint now) {
  if (state_ != State::Init) {
    throw std::logic_error(fmt::format("vrrp: start() in state {}", to_string(state_)));
  }
  if (fault_) {
    Output out;
    out.actions.push_back(Action::state_change(State::Init, State::Fault));
    state_ = State::Fault;
    return out;
  }
  const bool initial_master = initial_master_ && preempt_ && preempt_delay_ == Micros{0};
  if (effective_priority_ == kOwnerPriority || initial_master) return master_at_once(now);
  return enter_backup(now);
}

// Held, the takeover that would not have waited is a backup whose timer has already run out.
Output Instance::master_at_once(TimePoint now) {
  if (!held_) return become_master(now);
  Output out = enter_backup(now);
  ready_ = true;
  out.became_ready = true;
  return out;
}

// A live master heard: Master_Down_Interval from now, and a held backup is no longer ready.
void Instance::restart_timer(TimePoint now) {
  deadline_ = now + master_down_interval();
  ready_ = false;
}

// True while a lower-priority master is still to be accepted as if it were a better one.
bool Instance::wait_for_preempt_delay(TimePoint now) {
  if (preempt_delay_ <= Micros{0}) return false;
  if (!preempt_at_) preempt_at_ = now + preempt_delay_;
  return now < *preempt_at_;
}

Output Instance::receive(const Advert& advert, const model::IpAddress& source, TimePoint now) {
  Output out;
  ++counters_.adverts_received;
  if (source == primary_) {
    out.dropped = Drop::OwnAdvert;
    note_drop(Drop::OwnAdvert);
    return out;
  }
  if (!addresses_match(advert)) {
    out.address_mismatch = true;
    ++counters_.address_mismatches;
    // RFC 3768 7.1: a v2 router drops it unless the owner sent it; RFC 5798 7.1 only asks
    // us to log it, and an election that ignored a misconfigured peer would give two
    // masters, so v3 goes on.
    if (version_ == 2 && advert.priority != kOwnerPriority) {
      out.dropped = Drop::AddressMismatch;
      note_drop(Drop::AddressMismatch);
      return out;
    }
  }
  if (advert.priority == 0) ++counters_.priority_zero_received;

  switch (state_) {
    case State::Init:
    case State::Fault:
      return out;

    case State::Backup:
      if (advert.priority == 0) {
        // The master is leaving: take over after Skew_Time alone, highest priority first. A
        // ready held backup has no timer left to shorten.
        if (!ready_) deadline_ = now + skew_time();
      } else if (!preempts() || advert.priority >= effective_priority_) {
        learn_interval(advert);
        restart_timer(now);
        preempt_at_.reset();
      } else if (wait_for_preempt_delay(now)) {
        learn_interval(advert);
        restart_timer(now);
      }
      // Otherwise a lower-priority master is ignored, and the timer makes us take over.
      return out;

    case State::Master:
      if (advert.priority == 0) {
        // A router gave up: make sure the others hear the live master at once.
        send(effective_priority_, out);
        deadline_ = now + advert_interval_;
      } else if (advert.priority > effective_priority_ ||
                 (advert.priority == effective_priority_ && higher_address(source, primary_))) {
        out.actions.push_back(Action::remove_vips());
        out.actions.push_back(Action::state_change(State::Master, State::Backup));
        state_ = State::Backup;
        master_adver_interval_ = advert_interval_;
        learn_interval(advert);
        deadline_ = now + master_down_interval();
        preempt_at_.reset();
      } else {
        // A second master with a lower priority: answer now rather than at our next timer.
        send(effective_priority_, out);
        deadline_ = now + advert_interval_;
      }
      return out;
  }
  return out;
}

Output Instance::tick(TimePoint now) {
  if (now < next_deadline()) return {};
  if (state_ == State::Backup) {
    if (!held_) return become_master(now);
    ready_ = true;
    Output out;
    out.became_ready = true;
    return out;
  }
  if (state_ == State::Master) {
    Output out;
    send(effective_priority_, out);
    // From now, not from the missed deadline: a late tick must not cause a burst.
    deadline_ = now + advert_interval_;
    return out;
  }
  return {};
}

Output Instance::set_fault(bool fault, TimePoint now) {
  const bool was = fault_;
  fault_ = fault;
  if (was == fault || state_ == State::Init) return {};
  if (fault) return stop(State::Fault);
  // Leaving Fault is a restart of the election, as at start(); initial_state does not apply.
  if (effective_priority_ == kOwnerPriority) return master_at_once(now);
  return enter_backup(now);
}

Output Instance::hold(bool on, TimePoint now) {
  if (on == held_) return {};
  held_ = on;
  if (on || state_ != State::Backup || !ready(now)) return {};
  return become_master(now);
}

Output Instance::yield(TimePoint now) {
  if (state_ != State::Master) return {};
  Output out;
  give_up(out);
  Output backup = enter_backup(now);
  out.actions.insert(out.actions.end(), backup.actions.begin(), backup.actions.end());
  return out;
}

Output Instance::shutdown() {
  if (state_ == State::Init) return {};
  return stop(State::Init);
}

// Out of the election, into Fault or Init: no timer runs there.
Output Instance::stop(State to) {
  Output out;
  give_up(out);
  out.actions.push_back(Action::state_change(state_, to));
  state_ = to;
  deadline_ = TimePoint::max();
  preempt_at_.reset();
  ready_ = false;
  return out;
}

void Instance::give_up(Output& out) {
  if (state_ != State::Master) return;
  // Priority 0 makes the backups take over after Skew_Time instead of Master_Down_Interval.
  send(0, out);
  out.actions.push_back(Action::remove_vips());
}

}  // namespace lvsd::vrrp
