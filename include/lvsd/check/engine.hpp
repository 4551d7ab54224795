// Every check of the declared pools on one io_context: started spread over their interval,
// kept across reloads when unchanged, and each real server's verdict reported when it flips.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <compare>
#include <exception>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "lvsd/check/health_tracker.hpp"
#include "lvsd/check/prober.hpp"
#include "lvsd/model/desired.hpp"

namespace lvsd::check {

// A real server of a virtual server.
struct ServerKey {
  model::ServiceKey service;
  model::Endpoint server;
  auto operator<=>(const ServerKey&) const = default;
};

// A real server's verdict changed: up or down (all its checks up = up), or the weight its
// checks give (script with dynamic_weight, file) changed.
struct Transition {
  ServerKey server;
  bool up = true;
  std::optional<std::uint32_t> weight;  // nullopt: its checks give none
  std::size_t check = 0;                // the check (index in the real server's list) that moved it
  model::CheckType type = model::CheckType::Tcp;  // that check's type
  Result cause;
};

// Where a check of a real server probes: the check's own address and port, else the real
// server's (a fwmark service's real server has no port: its check must give one).
Target target_of(const model::RealServer& rs, const model::CheckSpec& spec);

class Engine {
 public:
  using Factory = std::function<std::unique_ptr<Prober>(const model::CheckSpec&)>;
  using OnTransition = std::function<void(const Transition&)>;
  // A check whose loop ended other than by being stopped: a bug; it is reported, not lost.
  using OnError = std::function<void(const ServerKey&, std::size_t check, const std::string& what)>;

  // `random` draws the warmup fraction in [0, 1).
  Engine(boost::asio::any_io_executor executor, Factory factory, OnTransition on_transition, OnError on_error,
         std::function<double()> random);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs the checks of `desired`. Called again (a reload), it keeps the checks that are the
  // same (same real server, same place in its list, same spec) running with their health,
  // stops those gone and starts the new ones, spread over their interval.
  void set(const model::Desired& desired);
  // Stops every check.
  void stop();

  // A real server's verdict (nullopt: not checked — no checks, or unknown).
  std::optional<bool> up(const ServerKey& server) const;
  std::size_t checks() const;

  struct CheckView {
    ServerKey server;
    std::size_t index = 0;
    model::CheckType type = model::CheckType::Tcp;
    bool up = true;
    std::uint32_t streak = 0;
    std::optional<Result> last;
  };
  std::vector<CheckView> view() const;

  struct Check;  // one running check (engine.cpp)

 private:
  struct Server {
    bool up = true;
    std::optional<std::uint32_t> weight;
    std::vector<std::shared_ptr<Check>> checks;
  };
  void record(Check& check, const Result& result);
  // The check's next round at `when`. A round is an attempt, retried after a failure up to
  // `retry` times `delay_before_retry` apart; its last attempt is recorded and arms the next
  // round. (runner.hpp's attempt() is one attempt as a coroutine, for one-off checks; here
  // no coroutine frame outlives a probe.)
  void arm(const std::shared_ptr<Check>& check, Clock::time_point when);
  void round(const std::shared_ptr<Check>& check);
  void attempt(const std::shared_ptr<Check>& check);
  void finish_attempt(const std::shared_ptr<Check>& check, const std::exception_ptr& e, Result result);

  boost::asio::any_io_executor executor_;
  Factory factory_;
  OnTransition on_transition_;
  OnError on_error_;
  std::function<double()> random_;
  std::map<ServerKey, Server> servers_;
};

}  // namespace lvsd::check
