// The VRRP process's core: instances opened (and re-opened until they can be), trackers and
// link state wired to their runners, state changes to the notify commands and the FIFO.
#include "lvsd/vrrp/node.hpp"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "lvsd/check/probers.hpp"
#include "lvsd/vrrp/addresses.hpp"
#include "lvsd/vrrp/runner.hpp"
#include "lvsd/vrrp/sync_group.hpp"
#include "lvsd/vrrp/trackers.hpp"

namespace lvsd::vrrp {
namespace asio = boost::asio;

namespace {

// How long an instance waits for its trackers' first results before it starts anyway: the
// longest attempt among them, and a little for the loop to hand the result over.
model::Millis settle_limit(const std::vector<model::Tracker>& trackers) {
  model::Millis longest{0};
  for (const auto& t : trackers) {
    if (const auto* p = std::get_if<model::TrackProbe>(&t.what)) longest = std::max(longest, p->check.timing.timeout);
    if (const auto* s = std::get_if<model::TrackScript>(&t.what)) longest = std::max(longest, s->timing.timeout);
  }
  return longest + model::Millis{100};
}

// The effective priority as the Instance computes it (instance.hpp): configured + delta
// within 1..254, an owner (255) staying 255 while the delta is not negative.
std::uint8_t effective_priority(std::uint8_t configured, std::int32_t delta) {
  if (configured == 255 && delta >= 0) return 255;
  return static_cast<std::uint8_t>(std::clamp<std::int32_t>(configured + delta, 1, 254));
}

}  // namespace

struct Node::Core : std::enable_shared_from_this<Node::Core> {
  struct Member {
    Member(const asio::any_io_executor& ex, model::VrrpInstance c) : config(std::move(c)), retry(ex), settle(ex) {}
    model::VrrpInstance config;
    std::optional<Runner> runner;
    std::unique_ptr<Trackers> trackers;  // null without trackers
    Verdict verdict;
    bool link_down = false;  // the instance's own interface, from the link monitor
    bool started = false;    // the runner's start() was called
    bool settle_passed = false;
    std::string open_error;  // why the last open failed; empty once open
    State state = State::Init;
    std::optional<std::size_t> group;  // index in `groups`
    std::size_t in_group = 0;          // its index among the group's members
    asio::steady_timer retry;
    asio::steady_timer settle;
  };

  Core(asio::any_io_executor ex, const model::Desired& desired, Log lg, Options opts)
      : executor(ex),
        log(std::move(lg)),
        options(opts),
        probers(ex, desired.globals.script_user,
                [this](std::string_view line) { say(fmt::format("track_script: {}", line)); }),
        notifier(ex,
                 Notifier::Options{.fifo_path = desired.vrrp.notify_fifo,
                                   .script_user = desired.globals.script_user,
                                   .command_timeout = opts.command_timeout},
                 [this](std::string_view line) { say(line); }) {
    for (const auto& config : desired.vrrp_instances) members.push_back(std::make_unique<Member>(ex, config));
    for (const auto& g : desired.sync_groups) {
      Group group{.config = g, .members = {}, .sync = nullptr, .state = State::Init};
      for (const auto& name : g.instances)
        for (std::size_t i = 0; i < members.size(); ++i)
          if (members[i]->config.name == name) {
            members[i]->group = groups.size();
            members[i]->in_group = group.members.size();
            group.members.push_back(i);
          }
      groups.push_back(std::move(group));
    }
  }

  asio::any_io_executor executor;
  Log log;
  Options options;
  check::ProberSet probers;
  Notifier notifier;
  std::optional<LinkMonitor> links;
  std::vector<std::unique_ptr<Member>> members;
  // A sync group: its members (indices in `members`, in the group's order) start together,
  // once all are open and settled, under a SyncGroup made just before.
  struct Group {
    model::SyncGroup config;
    std::vector<std::size_t> members;
    std::unique_ptr<SyncGroup> sync;
    State state = State::Init;
  };
  std::vector<Group> groups;
  bool started = false;
  bool stopped = false;

  void say(std::string_view line) const {
    if (log) log(line);
  }

  void make_trackers(std::size_t i) {
    Member& m = *members[i];
    if (m.config.trackers.empty()) return;
    std::weak_ptr<Core> weak = weak_from_this();
    m.trackers = std::make_unique<Trackers>(executor, m.config.trackers, probers, [weak, i](const Verdict& v) {
      if (const auto self = weak.lock()) self->tracked(i, v);
    });
  }

  void watch_links() {
    std::weak_ptr<Core> weak = weak_from_this();
    auto monitor = LinkMonitor::open(executor, [weak](const LinkEvent& event) {
      if (const auto self = weak.lock()) self->link(event);
    });
    if (!monitor) {
      say(fmt::format("cannot watch link state: {}; instances' interfaces and track_interface are not followed",
                      monitor.error().text));
      return;
    }
    links.emplace(std::move(*monitor));
  }

  void link(const LinkEvent& event) {
    if (stopped) return;
    for (std::size_t i = 0; i < members.size(); ++i) {
      Member& m = *members[i];
      if (m.trackers) m.trackers->set_link(event.name, event.up);
      if (m.config.interface != event.name || m.link_down == !event.up) continue;
      m.link_down = !event.up;
      say(fmt::format("{}: interface {} {}", m.config.name, event.name,
                      !event.present ? "gone" : event.up ? "up" : "down"));
      // Not yet open (its interface had no address): the up event is the moment to try.
      if (!m.runner && event.up) open(i);
      apply(m);
    }
  }

  void tracked(std::size_t i, const Verdict& v) {
    if (stopped) return;
    Member& m = *members[i];
    const Verdict before = m.verdict;
    m.verdict = v;
    if (v.fault != before.fault || (v.fault && v.reason != before.reason))
      say(v.fault ? fmt::format("{}: fault: {}", m.config.name, v.reason)
                  : fmt::format("{}: trackers no longer fault", m.config.name));
    if (v.delta != before.delta)
      say(fmt::format("{}: priority {} (trackers' weights {:+})", m.config.name,
                      effective_priority(m.config.priority, v.delta), v.delta));
    if (m.started) {
      apply(m);
    } else {
      maybe_start(i);
    }
  }

  // The trackers' verdict and the interface's state, to the runner (before start() the
  // Instance only remembers them).
  // A grouped instance's go to its group, which decides for all its members together.
  void apply(Member& m) {
    if (!m.runner) return;
    const bool fault = m.verdict.fault || m.link_down;
    if (m.group) {
      auto& sync = groups[*m.group].sync;
      if (!sync) return;  // given when the group is made
      sync->set_priority_delta(m.in_group, m.verdict.delta);
      sync->set_fault(m.in_group, fault);
      return;
    }
    m.runner->set_priority_delta(m.verdict.delta);
    m.runner->set_fault(fault);
  }

  void open(std::size_t i) {
    Member& m = *members[i];
    if (stopped || m.runner) return;
    std::weak_ptr<Core> weak = weak_from_this();
    auto runner = Runner::open(
        executor, m.config, [weak](std::string_view line) {
          if (const auto self = weak.lock()) self->say(line);
        },
        [weak, i](State from, State to) {
          if (const auto self = weak.lock()) self->changed(i, from, to);
        });
    if (!runner) {
      if (runner.error() != m.open_error) say(fmt::format("{}; retrying every {} ms", runner.error(), options.retry_open.count()));
      m.open_error = runner.error();
      m.retry.expires_after(options.retry_open);
      m.retry.async_wait([weak, i](boost::system::error_code ec) {
        if (const auto self = weak.lock(); self && !ec) self->open(i);
      });
      return;
    }
    if (!m.open_error.empty()) say(fmt::format("{}: opened on {}", m.config.name, m.config.interface));
    runner->on_conflict([weak, i](const ConflictEvent& event) {
      if (const auto self = weak.lock()) {
        const Member& m = *self->members[i];
        self->notifier.conflict(m.config.notify, m.config.name, event.vip.to_string(), to_string(event.holder));
      }
    });
    m.open_error.clear();
    m.retry.cancel();
    m.runner.emplace(std::move(*runner));
    if (links) {
      const auto up = links->is_up(m.config.interface);
      m.link_down = up && !*up;
    }
    maybe_start(i);
  }

  // Starts the runner once it is open and its trackers have all spoken (or their time is up);
  // a grouped one with all its group, once each member can start.
  void maybe_start(std::size_t i) {
    Member& m = *members[i];
    if (stopped || m.started || !can_start(m)) return;
    if (m.group) return start_group(*m.group);
    m.started = true;
    m.settle.cancel();
    apply(m);
    m.runner->start();
  }
  bool can_start(const Member& m) const {
    return m.runner && (!m.trackers || m.trackers->settled() || m.settle_passed);
  }

  void start_group(std::size_t g) {
    Group& group = groups[g];
    if (group.sync) return;
    std::vector<Runner*> runners;
    for (const std::size_t i : group.members) {
      if (!can_start(*members[i])) return;
      runners.push_back(&*members[i]->runner);
    }
    std::weak_ptr<Core> weak = weak_from_this();
    group.sync = std::make_unique<SyncGroup>(
        executor, group.config.name, std::move(runners),
        [weak](std::string_view line) {
          if (const auto self = weak.lock()) self->say(line);
        },
        [weak, g](State from, State to) {
          if (const auto self = weak.lock()) self->group_changed(g, from, to);
        });
    for (const std::size_t i : group.members) {
      Member& m = *members[i];
      m.started = true;
      m.settle.cancel();
      apply(m);
    }
    for (const std::size_t i : group.members) members[i]->runner->start();
  }

  void group_changed(std::size_t g, State from, State to) {
    Group& group = groups[g];
    group.state = to;
    say(fmt::format("sync group {}: {} -> {}", group.config.name, to_string(from), state_word(to)));
    notifier.notify(group.config.notify,
                    NotifyEvent{.subject = Subject::Group, .name = group.config.name, .state = state_word(to)});
  }

  void changed(std::size_t i, State from, State to) {
    Member& m = *members[i];
    m.state = to;
    say(fmt::format("{}: {} -> {}{}", m.config.name, to_string(from), state_word(to),
                    to == State::Fault && !m.verdict.fault && m.link_down
                        ? fmt::format(" (interface {} down)", m.config.interface)
                    : to == State::Fault ? fmt::format(" ({})", m.verdict.reason)
                                         : std::string()));
    notifier.notify(m.config.notify, NotifyEvent{.subject = Subject::Instance,
                                                 .name = m.config.name,
                                                 .state = state_word(to),
                                                 .priority = effective_priority(m.config.priority, m.verdict.delta)});
    if (m.group && groups[*m.group].sync) groups[*m.group].sync->on_state(m.in_group, from, to);
  }

  void start() {
    if (started || stopped) return;
    started = true;
    if (!members.empty()) watch_links();
    std::weak_ptr<Core> weak = weak_from_this();
    for (std::size_t i = 0; i < members.size(); ++i) {
      Member& m = *members[i];
      make_trackers(i);
      if (m.trackers) {
        m.trackers->start();
        m.settle.expires_after(settle_limit(m.config.trackers));
        m.settle.async_wait([weak, i](boost::system::error_code ec) {
          const auto self = weak.lock();
          if (!self || ec) return;
          self->members[i]->settle_passed = true;
          self->maybe_start(i);
        });
      }
      open(i);
    }
  }

  void stop() {
    if (stopped) return;
    // Runners first, while `stopped` still lets their STOP reach the notifier.
    for (auto& m : members) {
      m->retry.cancel();
      m->settle.cancel();
      if (m->trackers) m->trackers->stop();
      if (m->runner) m->runner->stop();
    }
    stopped = true;
    links.reset();
  }
};

Node::Node(asio::any_io_executor executor, const model::Desired& desired, Log log, Options options)
    : core_(std::make_shared<Core>(std::move(executor), desired, std::move(log), options)) {}

Node::~Node() {
  // No stop(): a Node destroyed without it leaves its VIPs, as a killed process does. Its
  // runners close; the trackers end their loops.
  for (auto& m : core_->members) {
    m->retry.cancel();
    m->settle.cancel();
    if (m->trackers) m->trackers->stop();
  }
  core_->stopped = true;
}

void Node::start() { core_->start(); }
void Node::stop() { core_->stop(); }

std::size_t Node::running() const {
  std::size_t n = core_->notifier.pending();
  for (const auto& m : core_->members)
    if (m->trackers) n += m->trackers->running();
  return n;
}

std::vector<InstanceStatus> Node::status() const {
  std::vector<InstanceStatus> out;
  for (const auto& m : core_->members) {
    InstanceStatus s;
    s.name = m->config.name;
    s.interface = m->config.interface;
    s.vrid = m->config.vrid;
    s.state = m->runner ? m->runner->state() : State::Init;
    s.priority = effective_priority(m->config.priority, m->verdict.delta);
    s.fault = m->verdict.fault || m->link_down;
    s.reason = !m->open_error.empty() ? m->open_error
               : m->verdict.fault     ? m->verdict.reason
               : m->link_down         ? fmt::format("interface {} down", m->config.interface)
                                      : std::string();
    s.running = m->runner.has_value();
    if (m->runner) {
      s.conflicts = m->runner->conflicts();
      s.yielded = m->runner->yielded();
      s.counters = m->runner->counters();
      s.edge_counters = m->runner->edge_counters();
    }
    // Before start() the trackers are not made yet: each is listed, unknown.
    for (std::size_t t = 0; t < m->config.trackers.size(); ++t)
      s.trackers.push_back(TrackerReport{
          .name = tracker_name(m->config.trackers[t]),
          .status = m->trackers && t < m->trackers->statuses().size() ? m->trackers->statuses()[t] : TrackerStatus{}});
    out.push_back(std::move(s));
  }
  return out;
}

const NotifierCounters& Node::notify_counters() const { return core_->notifier.counters(); }

}  // namespace lvsd::vrrp
