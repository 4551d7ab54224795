// A VRRP sync group: the rules that keep its members together, and the driver that gives
// their runners the orders, outside the runners' own handlers.
#include "lvsd/vrrp/sync_group.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace lvsd::vrrp {

namespace asio = boost::asio;

namespace {

bool neither_master_nor_ready(const SyncMember& m) { return m.state != State::Master && !m.ready; }

}  // namespace

std::vector<SyncOrder> sync_orders(const std::vector<SyncMember>& members) {
  const bool fault = std::any_of(members.begin(), members.end(), [](const SyncMember& m) { return m.fault; });
  const bool all_ready = std::all_of(members.begin(), members.end(), [](const SyncMember& m) { return m.ready; });
  std::vector<SyncOrder> orders(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    orders[i].fault = fault;
    orders[i].hold = fault || !all_ready;
    // A faulting group stops its masters through set_fault, with the same priority 0.
    if (fault || members[i].state != State::Master) continue;
    for (std::size_t j = 0; j < members.size(); ++j) {
      if (j != i && neither_master_nor_ready(members[j])) orders[i].yield = true;
    }
  }
  return orders;
}

State sync_state(const std::vector<SyncMember>& members) {
  const auto any = [&](State s) {
    return std::any_of(members.begin(), members.end(), [s](const SyncMember& m) { return m.state == s; });
  };
  if (any(State::Fault)) return State::Fault;
  if (any(State::Init)) return State::Init;
  if (std::all_of(members.begin(), members.end(), [](const SyncMember& m) { return m.state == State::Master; }))
    return State::Master;
  return State::Backup;
}

struct SyncGroup::Impl : std::enable_shared_from_this<SyncGroup::Impl> {
  Impl(asio::any_io_executor ex, std::string nm, std::vector<Runner*> ms, Log lg, OnState on_st)
      : executor(std::move(ex)),
        name(std::move(nm)),
        members(std::move(ms)),
        log(std::move(lg)),
        on_state(std::move(on_st)),
        own_fault(members.size(), false),
        deltas(members.size(), 0),
        faulted(members.size(), false),
        held(members.size(), false) {}

  asio::any_io_executor executor;
  std::string name;
  std::vector<Runner*> members;
  Log log;
  OnState on_state;
  std::vector<bool> own_fault;      // the trackers' verdicts
  std::vector<std::int32_t> deltas;  // the same
  // What each runner was told last, so that only changes are passed on.
  std::vector<bool> faulted;
  std::vector<bool> held;
  State reported = State::Init;
  bool pending = false;
  bool closed = false;

  void say(std::string_view line) {
    if (log) log(line);
  }

  void check(std::size_t member) const {
    if (member >= members.size())
      throw std::out_of_range(fmt::format("sync group {}: no member {} (it has {})", name, member, members.size()));
  }

  std::vector<SyncMember> snapshot() const {
    std::vector<SyncMember> view(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      view[i] = SyncMember{.state = members[i]->state(), .ready = members[i]->ready(), .fault = own_fault[i]};
    }
    return view;
  }

  // "VI_1 (BACKUP), VI_2 (INIT)": the members that make the others yield.
  std::string unready(const std::vector<SyncMember>& view, std::size_t except) const {
    std::string text;
    for (std::size_t j = 0; j < view.size(); ++j) {
      if (j == except || !neither_master_nor_ready(view[j])) continue;
      if (!text.empty()) text += ", ";
      text += fmt::format("{} ({})", members[j]->name(), to_string(view[j].state));
    }
    return text;
  }

  // One settle() per turn of the loop, however many members changed meanwhile.
  void schedule() {
    if (pending || closed) return;
    pending = true;
    asio::post(executor, [self = shared_from_this()] {
      self->pending = false;
      if (!self->closed) self->settle();
    });
  }

  // Holds first and releases last, so no member is ever free to go master while another is
  // being told to leave.
  void settle() {
    const std::vector<SyncMember> view = snapshot();
    const std::vector<SyncOrder> orders = sync_orders(view);
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (orders[i].hold && !held[i]) {
        held[i] = true;
        members[i]->hold(true);
      }
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (orders[i].fault == faulted[i]) continue;
      faulted[i] = orders[i].fault;
      members[i]->set_fault(orders[i].fault);
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (!orders[i].yield) continue;
      say(fmt::format("{}: {} yields, since {} is not master", name, members[i]->name(), unready(view, i)));
      members[i]->yield();
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (orders[i].hold || !held[i]) continue;
      held[i] = false;
      members[i]->hold(false);
    }
    report();
  }

  void report() {
    const State now = sync_state(snapshot());
    if (now == reported) return;
    const State from = std::exchange(reported, now);
    if (on_state) on_state(from, now);
  }
};

SyncGroup::SyncGroup(asio::any_io_executor executor, std::string name, std::vector<Runner*> members, Log log,
                     OnState on_state)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(name), std::move(members), std::move(log),
                                   std::move(on_state))) {
  Impl& s = *impl_;
  for (std::size_t i = 0; i < s.members.size(); ++i) {
    s.held[i] = true;
    s.members[i]->hold(true);
    s.members[i]->on_ready([weak = std::weak_ptr<Impl>(impl_)] {
      if (const auto self = weak.lock()) self->schedule();
    });
  }
  // Members started before the group was built are put in order too.
  s.schedule();
}

SyncGroup::SyncGroup(SyncGroup&&) noexcept = default;
SyncGroup& SyncGroup::operator=(SyncGroup&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->closed = true;
    impl_ = std::move(other.impl_);
  }
  return *this;
}
SyncGroup::~SyncGroup() {
  if (impl_) impl_->closed = true;
}

void SyncGroup::set_fault(std::size_t member, bool fault) {
  Impl& s = *impl_;
  s.check(member);
  if (s.closed || s.own_fault[member] == fault) return;
  const auto any = [&] { return std::find(s.own_fault.begin(), s.own_fault.end(), true) != s.own_fault.end(); };
  const bool was = any();
  s.own_fault[member] = fault;
  if (any() && !was)
    s.say(fmt::format("{}: {} faults: every member goes to FAULT", s.name, s.members[member]->name()));
  else if (!any() && was)
    s.say(fmt::format("{}: {} no longer faults, nor any other member: every member leaves FAULT", s.name,
                      s.members[member]->name()));
  s.settle();
}

void SyncGroup::set_priority_delta(std::size_t member, std::int32_t delta) {
  Impl& s = *impl_;
  s.check(member);
  if (s.closed) return;
  s.deltas[member] = delta;
  const std::int32_t total = std::accumulate(s.deltas.begin(), s.deltas.end(), std::int32_t{0});
  for (Runner* runner : s.members) runner->set_priority_delta(total);
}

void SyncGroup::on_state(std::size_t member, State, State) {
  impl_->check(member);
  impl_->schedule();
}

void SyncGroup::on_ready(std::size_t member) {
  impl_->check(member);
  impl_->schedule();
}

State SyncGroup::state() const { return sync_state(impl_->snapshot()); }
const std::string& SyncGroup::name() const { return impl_->name; }

}  // namespace lvsd::vrrp
