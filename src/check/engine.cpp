// Starting, keeping and stopping checks; folding their results into each server's verdict.
#include "lvsd/check/engine.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>

#include <algorithm>

#include "lvsd/check/runner.hpp"
#include "lvsd/check/schedule.hpp"

namespace lvsd::check {
namespace asio = boost::asio;

struct Engine::Check {
  ServerKey server;
  std::size_t index = 0;
  model::CheckSpec spec;
  Target target;
  std::unique_ptr<Prober> prober;
  HealthTracker tracker;
  std::optional<std::uint32_t> weight;
  asio::cancellation_signal stop;
  bool stopped = false;

  Check(ServerKey s, std::size_t i, model::CheckSpec c, Target t, std::unique_ptr<Prober> p, bool initially_up)
      : server(std::move(s)),
        index(i),
        spec(std::move(c)),
        target(std::move(t)),
        prober(std::move(p)),
        tracker(spec.timing.rise, spec.timing.fall, initially_up) {}
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

void Engine::set(const model::Desired& desired) {
  std::map<ServerKey, Server> next;
  std::vector<std::shared_ptr<Check>> fresh;
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
            if (c && c->index == i && c->spec == spec) kept = std::move(c);
        }
        if (!kept) {
          kept = std::make_shared<Check>(key, i, spec, target_of(rs, spec), factory_(spec), initially_up);
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
      if (c && !c->stopped) {
        c->stopped = true;
        c->stop.emit(asio::cancellation_type::terminal);
      }
  servers_ = std::move(next);
  // The new checks' first round spread over their interval, in config order.
  for (std::size_t i = 0; i < fresh.size(); ++i)
    start(fresh[i], first_delay(i, fresh.size(), fresh[i]->spec.timing, random_ ? random_() : 0.0));
}

void Engine::start(const std::shared_ptr<Check>& check, std::chrono::microseconds delay) {
  Check* c = check.get();
  asio::co_spawn(executor_,
                 run_check(*c->prober, c->target, c->spec.timing, delay,
                           [this, c](const Result& r) {
                             // A check stopped from inside a transition handler (a reload)
                             // ends here, whether or not the cancellation reached it.
                             if (c->stopped) return false;
                             record(*c, r);
                             return !c->stopped;
                           }),
                 asio::bind_cancellation_slot(c->stop.slot(), [this, check](std::exception_ptr e) {
                   // The check (and its prober) lives until its loop has ended.
                   if (!e || check->stopped) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const boost::system::system_error& error) {
                     if (error.code() == asio::error::operation_aborted && check->stopped) return;
                     if (on_error_) on_error_(check->server, check->index, error.what());
                   } catch (const std::exception& error) {
                     if (on_error_) on_error_(check->server, check->index, error.what());
                   }
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
      if (c && !c->stopped) {
        c->stopped = true;
        c->stop.emit(asio::cancellation_type::terminal);
      }
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
      out.push_back(CheckView{key, c->index, c->spec.type, c->tracker.up(), c->tracker.streak(),
                              c->tracker.has_result() ? std::optional<Result>(c->tracker.last()) : std::nullopt});
  return out;
}

}  // namespace lvsd::check
