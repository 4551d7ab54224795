// Starting, keeping and stopping checks; folding their results into each server's verdict.
#include "lvsd/check/engine.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <unordered_map>

#include "lvsd/check/runner.hpp"
#include "lvsd/check/schedule.hpp"
#include "lvsd/model/hash.hpp"

namespace lvsd::check {
namespace asio = boost::asio;

struct Engine::Check {
  ServerKey server;
  Server* owner = nullptr;  // its entry in servers_ (set by set(); a map node does not move)
  std::size_t index = 0;
  // One copy of each distinct spec for all the checks that have it (a pool's real servers
  // usually share theirs): the spec is the largest part of a check.
  std::shared_ptr<const model::CheckSpec> spec;
  Target target;
  std::unique_ptr<Prober> prober;
  HealthTracker tracker;
  std::optional<std::uint32_t> weight;
  // A round is attempts (the first and the retries), each a probe under a timeout. The one
  // timer measures, in turn, the wait for the round, each attempt's timeout and each pause
  // before a retry; between two rounds a check is this timer's wait and nothing else (no
  // coroutine frame lives from one round to the next).
  asio::steady_timer timer;
  Clock::time_point due{};              // when the next round is to start (on a tick)
  Clock::time_point started{};          // the round under way (when it was due)
  Clock::time_point attempt_started{};  // its attempt under way
  std::uint32_t attempts = 0;           // of the round under way
  std::uint64_t attempt_id = 0;         // tells a stale timeout from the attempt's own
  bool attempt_done = true;
  bool timed_out = false;
  asio::cancellation_signal stop;  // cancels the probe under way (its timeout, or halt)
  bool stopped = false;

  Check(const asio::any_io_executor& executor, ServerKey s, std::size_t i, std::shared_ptr<const model::CheckSpec> c,
        Target t, std::unique_ptr<Prober> p, bool initially_up)
      : server(std::move(s)),
        index(i),
        spec(std::move(c)),
        target(std::move(t)),
        prober(std::move(p)),
        tracker(spec->timing.rise, spec->timing.fall, initially_up),
        timer(executor) {}

  // Ends the check: the next round never starts, and the round under way is cancelled from
  // the loop. Never by emitting here: from outside the loop, Asio 1.81's co_spawn would hand
  // the cancellation to the loop holding a pointer into the round's cancellation handler,
  // which is freed if the round ends first. Emitted from the loop, it is handled at once,
  // and a round that has ended has nothing left in the slot.
  static void halt(const std::shared_ptr<Check>& check) {
    if (check->stopped) return;
    check->stopped = true;
    check->timer.cancel();
    asio::post(check->timer.get_executor(), [check] { check->stop.emit(asio::cancellation_type::terminal); });
  }
};

Target target_of(const model::RealServer& rs, const model::CheckSpec& spec) {
  Target t;
  t.endpoint.address = spec.address.value_or(rs.endpoint.address);
  t.endpoint.port = spec.port.value_or(rs.endpoint.port);
  t.bind_address = spec.bind_address;
  t.bind_interface = spec.bind_interface;
  return t;
}

Engine::Engine(asio::any_io_executor executor, Factory factory, OnTransition on_transition, OnError on_error,
               std::function<double()> random)
    : executor_(std::move(executor)),
      factory_(std::move(factory)),
      on_transition_(std::move(on_transition)),
      on_error_(std::move(on_error)),
      random_(std::move(random)) {}

Engine::~Engine() { stop(); }

namespace {

// The shared copy of each distinct spec, those of the running checks included.
class SpecTable {
 public:
  std::shared_ptr<const model::CheckSpec> intern(const model::CheckSpec& spec) {
    auto& same_hash = table_[model::hash_value(spec)];
    for (const auto& s : same_hash)
      if (*s == spec) return s;
    return same_hash.emplace_back(std::make_shared<const model::CheckSpec>(spec));
  }
  void add(const std::shared_ptr<const model::CheckSpec>& spec) {
    auto& same_hash = table_[model::hash_value(*spec)];
    if (std::none_of(same_hash.begin(), same_hash.end(), [&](const auto& s) { return *s == *spec; }))
      same_hash.push_back(spec);
  }

 private:
  std::unordered_map<std::size_t, std::vector<std::shared_ptr<const model::CheckSpec>>> table_;
};

}  // namespace

void Engine::set(const model::Desired& desired) {
  std::map<ServerKey, Server> next;
  std::vector<std::shared_ptr<Check>> fresh;
  SpecTable specs;
  for (const auto& [key, server] : servers_)
    for (const auto& c : server.checks) specs.add(c->spec);
  for (const auto& vs : desired.virtual_servers) {
    const bool initially_up = vs.initial_health == model::InitialHealth::Up;
    for (const auto& rs : vs.real_servers) {
      if (rs.checks.empty()) continue;
      const ServerKey key{vs.key, rs.endpoint};
      Server& server = next[key];
      auto old = servers_.find(key);
      for (std::size_t i = 0; i < rs.checks.size(); ++i) {
        const auto& spec = rs.checks[i];
        std::shared_ptr<Check> kept;
        if (old != servers_.end()) {
          for (auto& c : old->second.checks)
            if (c && c->index == i && *c->spec == spec) kept = std::move(c);
        }
        if (!kept) {
          kept = std::make_shared<Check>(executor_, key, i, specs.intern(spec), target_of(rs, spec), factory_(spec),
                                         initially_up);
          fresh.push_back(kept);
        }
        server.checks.push_back(std::move(kept));
      }
      server.up = std::all_of(server.checks.begin(), server.checks.end(),
                              [](const auto& c) { return c->tracker.up(); });
      if (old != servers_.end()) server.weight = old->second.weight;
    }
  }
  // What is left of the old map is gone from the config.
  for (auto& [key, server] : servers_)
    for (auto& c : server.checks)
      if (c) Check::halt(c);
  servers_ = std::move(next);
  for (auto& [key, server] : servers_)
    for (auto& c : server.checks) c->owner = &server;
  // The new checks' first round spread over their interval, in config order, each kind
  // (type and interval) by itself.
  std::vector<std::pair<model::CheckType, model::Millis::rep>> kinds;
  kinds.reserve(fresh.size());
  for (const auto& c : fresh) kinds.emplace_back(c->spec->type, c->spec->timing.interval.count());
  const auto slots = spread_slots(kinds);
  const auto now = Clock::now();
  for (std::size_t i = 0; i < fresh.size(); ++i)
    arm(fresh[i], now + first_delay(slots[i].index, slots[i].count, fresh[i]->spec->timing,
                                    random_ ? random_() : 0.0));
}

void Engine::arm(const std::shared_ptr<Check>& check, Clock::time_point when) {
  when = on_tick(when);
  check->due = when;
  check->timer.expires_at(when);
  check->timer.async_wait([this, check](const boost::system::error_code& ec) {
    // Cancelled (halted), or halted after the wait had ended: no round.
    if (!ec && !check->stopped) round(check);
  });
}

void Engine::round(const std::shared_ptr<Check>& check) {
  check->started = check->due;
  check->attempts = 0;
  attempt(check);
}

void Engine::attempt(const std::shared_ptr<Check>& check) {
  Check* c = check.get();
  const std::uint64_t id = ++c->attempt_id;
  ++c->attempts;
  c->attempt_done = false;
  c->timed_out = false;
  c->attempt_started = Clock::now();
  // The timeout cancels the probe; emitted from inside the loop, the cancellation reaches
  // the probe's pending operation at once.
  c->timer.expires_after(c->spec->timing.timeout);
  c->timer.async_wait([check, id](const boost::system::error_code& ec) {
    if (ec || check->stopped || check->attempt_id != id || check->attempt_done) return;
    check->timed_out = true;
    check->stop.emit(asio::cancellation_type::terminal);
  });
  asio::co_spawn(executor_, c->prober->probe(c->target),
                 asio::bind_cancellation_slot(c->stop.slot(), [this, check](std::exception_ptr e, Result result) {
                   // The check (and its prober) lives until its probe has ended.
                   if (check->stopped) return;  // the engine may be gone: nothing of it is used
                   finish_attempt(check, e, std::move(result));
                 }));
}

void Engine::finish_attempt(const std::shared_ptr<Check>& check, const std::exception_ptr& e, Result result) {
  Check& c = *check;
  c.attempt_done = true;
  const auto& timing = c.spec->timing;
  // Timed out: whatever the cancelled probe said. An exception is a prober's bug (or a
  // resource exhausted): a failure that says so.
  if (c.timed_out) result = failure(timeout_text(timing.timeout));
  else if (e) result = prober_failure(e);
  result.at = Clock::now();
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(result.at - c.attempt_started);
  result.attempts = c.attempts;
  if (!result.up && c.attempts <= timing.retry) {
    c.timer.expires_after(timing.delay_before_retry);
    c.timer.async_wait([this, check](const boost::system::error_code& ec) {
      if (!ec && !check->stopped) attempt(check);
    });
    return;
  }
  record(c, result);
  // A transition handler may have reloaded or stopped the engine.
  if (!c.stopped) arm(check, next_start(c.started, result.at, timing.interval));
}

void Engine::record(Check& check, const Result& result) {
  check.tracker.record(result);
  check.weight = result.weight;
  if (!check.owner) return;
  Server& server = *check.owner;
  const bool up = std::all_of(server.checks.begin(), server.checks.end(), [](const auto& c) { return c->tracker.up(); });
  // A weight given by a check that says up; the lowest when several give one.
  std::optional<std::uint32_t> weight;
  for (const auto& c : server.checks)
    if (c->weight && c->tracker.up()) weight = weight ? std::min(*weight, *c->weight) : *c->weight;
  if (up == server.up && weight == server.weight) return;
  server.up = up;
  server.weight = weight;
  if (on_transition_) on_transition_(Transition{check.server, up, weight, check.index, check.spec->type, result});
}

void Engine::stop() {
  for (auto& [key, server] : servers_)
    for (auto& c : server.checks)
      if (c) Check::halt(c);
  servers_.clear();
}

std::optional<bool> Engine::up(const ServerKey& server) const {
  auto it = servers_.find(server);
  if (it == servers_.end()) return std::nullopt;
  return it->second.up;
}

std::size_t Engine::checks() const {
  std::size_t n = 0;
  for (const auto& [key, server] : servers_) n += server.checks.size();
  return n;
}

std::vector<Engine::CheckView> Engine::view() const {
  std::vector<CheckView> out;
  for (const auto& [key, server] : servers_)
    for (const auto& c : server.checks)
      out.push_back(CheckView{key, c->index, c->spec->type, c->tracker.up(), c->tracker.streak(),
                              c->tracker.has_result() ? std::optional<Result>(c->tracker.last()) : std::nullopt});
  return out;
}

}  // namespace lvsd::check
