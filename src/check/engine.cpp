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
  std::size_t index = 0;
  // One copy of each distinct spec for all the checks that have it (a pool's real servers
  // usually share theirs): the spec is the largest part of a check.
  std::shared_ptr<const model::CheckSpec> spec;
  Target target;
  std::unique_ptr<Prober> prober;
  HealthTracker tracker;
  std::optional<std::uint32_t> weight;
  // Between two rounds a check is this timer's wait and nothing else: no coroutine frame
  // lives from one round to the next (they are the bulk of a check's memory).
  asio::steady_timer timer;
  Clock::time_point started{};  // of the round under way
  asio::cancellation_signal stop;  // cancels the round under way
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
  // The new checks' first round spread over their interval, in config order.
  const auto now = Clock::now();
  for (std::size_t i = 0; i < fresh.size(); ++i)
    arm(fresh[i], now + first_delay(i, fresh.size(), fresh[i]->spec->timing, random_ ? random_() : 0.0));
}

void Engine::arm(const std::shared_ptr<Check>& check, Clock::time_point when) {
  check->timer.expires_at(when);
  check->timer.async_wait([this, check](const boost::system::error_code& ec) {
    // Cancelled (halted), or halted after the wait had ended: no round.
    if (!ec && !check->stopped) round(check);
  });
}

void Engine::round(const std::shared_ptr<Check>& check) {
  Check* c = check.get();
  c->started = Clock::now();
  asio::co_spawn(executor_, check_once(*c->prober, c->target, c->spec->timing),
                 asio::bind_cancellation_slot(c->stop.slot(), [this, check](std::exception_ptr e, Result result) {
                   // The check (and its prober) lives until its round has ended.
                   if (check->stopped) return;  // the engine may be gone: nothing of it is used
                   if (e) {
                     // A prober that throws is a bug: reported, and the check ends.
                     check->stopped = true;
                     std::string what = "unknown exception";
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& error) {
                       what = error.what();
                     } catch (...) {
                     }
                     if (on_error_) on_error_(check->server, check->index, what);
                     return;
                   }
                   record(*check, result);
                   // A transition handler may have reloaded or stopped the engine.
                   if (!check->stopped)
                     arm(check, next_start(check->started, Clock::now(), check->spec->timing.interval));
                 }));
}

void Engine::record(Check& check, const Result& result) {
  check.tracker.record(result);
  check.weight = result.weight;
  auto it = servers_.find(check.server);
  if (it == servers_.end()) return;
  Server& server = it->second;
  const bool up = std::all_of(server.checks.begin(), server.checks.end(), [](const auto& c) { return c->tracker.up(); });
  // A weight given by a check that says up; the lowest when several give one.
  std::optional<std::uint32_t> weight;
  for (const auto& c : server.checks)
    if (c->weight && c->tracker.up()) weight = weight ? std::min(*weight, *c->weight) : *c->weight;
  if (up == server.up && weight == server.weight) return;
  server.up = up;
  server.weight = weight;
  if (on_transition_) on_transition_(Transition{check.server, up, weight, check.index, result});
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
