// The engine with scripted probers on a real io_context and short intervals: verdicts per
// real server, reloads that keep what is unchanged, weights given by checks.
#include "lvsd/check/engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <stdexcept>

#include <map>

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

model::Endpoint ep(const char* text) { return model::Endpoint::parse(text, true).value(); }

// What every fake prober answers, by the address it probes; changed by the test.
struct World {
  std::map<model::Endpoint, bool> healthy;
  std::map<model::Endpoint, std::uint32_t> weight;
  int probers_made = 0;
  int probes = 0;
};

class FakeProber final : public Prober {
 public:
  explicit FakeProber(World& w) : world_(w) {}
  asio::awaitable<Result> probe(const Target& t) override {
    ++world_.probes;
    Result r = world_.healthy[t.endpoint] ? success("fine") : failure("connect refused");
    if (auto w = world_.weight.find(t.endpoint); w != world_.weight.end()) r.weight = w->second;
    co_return r;
  }

 private:
  World& world_;
};

model::CheckSpec fast_check(std::uint32_t rise = 1, std::uint32_t fall = 2) {
  model::CheckSpec c;
  c.timing = {.interval = 10ms, .timeout = 1000ms, .rise = rise, .fall = fall};
  return c;
}

model::Desired farm(std::vector<model::CheckSpec> checks, model::InitialHealth initial = model::InitialHealth::Up) {
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  vs.initial_health = initial;
  for (const char* a : {"10.0.0.1:80", "10.0.0.2:80"}) {
    model::RealServer rs;
    rs.endpoint = ep(a);
    rs.checks = checks;
    vs.real_servers.push_back(rs);
  }
  model::RealServer unchecked;
  unchecked.endpoint = ep("10.0.0.3:80");
  vs.real_servers.push_back(unchecked);
  return model::Desired{.virtual_servers = {vs}};
}

// One virtual server with one real server (10.0.0.1:80) that has one check.
model::Desired one_server(const model::CheckSpec& check) {
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  model::RealServer rs;
  rs.endpoint = ep("10.0.0.1:80");
  rs.checks = {check};
  vs.real_servers = {rs};
  return model::Desired{.virtual_servers = {vs}};
}

const ServerKey kOne{{.endpoint = ep("192.0.2.10:80")}, ep("10.0.0.1:80")};
const ServerKey kTwo{{.endpoint = ep("192.0.2.10:80")}, ep("10.0.0.2:80")};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : engine(
            io.get_executor(),
            [this](const model::CheckSpec&) {
              ++world.probers_made;
              return std::make_unique<FakeProber>(world);
            },
            [this](const Transition& t) { transitions.push_back(t); },
            [this](const ServerKey&, std::size_t, const std::string& what) { errors.push_back(what); },
            [] { return 0.0; }) {
    world.healthy = {{ep("10.0.0.1:80"), true}, {ep("10.0.0.2:80"), true}};
  }

  // Runs the loop until `done` holds (or 5 s pass: then the test fails on its assertions).
  template <class F>
  void run_until(F done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();  // it stops whenever it runs out of work
      io.run_one_for(5ms);
    }
  }

  asio::io_context io;
  World world;
  std::vector<Transition> transitions;
  std::vector<std::string> errors;
  Engine engine;
};

TEST_F(EngineTest, AFailingServerGoesDownAfterFallAndComesBackAfterRise) {
  engine.set(farm({fast_check(2, 2)}));
  EXPECT_EQ(engine.checks(), 2u);
  EXPECT_EQ(engine.up(kOne), std::optional<bool>(true));
  EXPECT_EQ(engine.up(ServerKey{kOne.service, ep("10.0.0.3:80")}), std::nullopt);  // no checks
  world.healthy[ep("10.0.0.1:80")] = false;
  run_until([&] { return !transitions.empty(); });
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].server, kOne);
  EXPECT_FALSE(transitions[0].up);
  EXPECT_EQ(transitions[0].cause.reason, "connect refused");
  EXPECT_EQ(engine.up(kOne), std::optional<bool>(false));
  EXPECT_EQ(engine.up(kTwo), std::optional<bool>(true));

  world.healthy[ep("10.0.0.1:80")] = true;
  run_until([&] { return transitions.size() == 2; });
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_TRUE(transitions[1].up);
  EXPECT_EQ(transitions[1].cause.reason, "fine");
  EXPECT_TRUE(errors.empty());
}

TEST_F(EngineTest, AServerIsUpOnlyWhileEveryCheckIsUp) {
  model::CheckSpec other = fast_check(1, 1);
  other.port = 8080;  // probes 10.0.0.x:8080
  engine.set(farm({fast_check(1, 1), other}));
  world.healthy[ep("10.0.0.2:8080")] = true;
  world.healthy[ep("10.0.0.1:8080")] = false;  // only the second check of server one fails
  run_until([&] { return !transitions.empty(); });
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].server, kOne);
  EXPECT_EQ(transitions[0].check, 1u);
  EXPECT_FALSE(transitions[0].up);
}

TEST_F(EngineTest, InitiallyDownServersComeUpAfterRise) {
  engine.set(farm({fast_check(3, 1)}, model::InitialHealth::Down));
  EXPECT_EQ(engine.up(kOne), std::optional<bool>(false));
  run_until([&] { return transitions.size() == 2; });
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_TRUE(transitions[0].up);
  EXPECT_TRUE(transitions[1].up);
}

TEST_F(EngineTest, AReloadKeepsUnchangedChecksWithTheirHealth) {
  engine.set(farm({fast_check(1, 1)}));
  world.healthy[ep("10.0.0.1:80")] = false;
  run_until([&] { return !transitions.empty(); });
  ASSERT_EQ(world.probers_made, 2);
  engine.set(farm({fast_check(1, 1)}));  // the same config
  EXPECT_EQ(world.probers_made, 2);      // nothing restarted
  EXPECT_EQ(engine.up(kOne), std::optional<bool>(false));
  EXPECT_EQ(engine.checks(), 2u);

  model::Desired changed = farm({fast_check(1, 1)});
  changed.virtual_servers[0].real_servers[1].checks[0].timing.interval = 20ms;  // server two's check changes
  changed.virtual_servers[0].real_servers.erase(changed.virtual_servers[0].real_servers.begin());  // one is gone
  engine.set(changed);
  EXPECT_EQ(world.probers_made, 3);
  EXPECT_EQ(engine.checks(), 1u);
  EXPECT_EQ(engine.up(kOne), std::nullopt);
  // The removed check stops: its server's results no longer arrive.
  const auto before = transitions.size();
  world.healthy[ep("10.0.0.1:80")] = true;
  world.healthy[ep("10.0.0.2:80")] = false;
  run_until([&] { return transitions.size() > before; });
  ASSERT_EQ(transitions.size(), before + 1);
  EXPECT_EQ(transitions.back().server, kTwo);
  EXPECT_TRUE(errors.empty());
}

TEST_F(EngineTest, AWeightGivenByACheckIsReportedWhenItChanges) {
  engine.set(farm({fast_check(1, 1)}));
  world.weight[ep("10.0.0.1:80")] = 5;
  run_until([&] { return !transitions.empty(); });
  ASSERT_GE(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].server, kOne);
  EXPECT_TRUE(transitions[0].up);
  EXPECT_EQ(transitions[0].weight, std::optional<std::uint32_t>(5));
  world.weight[ep("10.0.0.1:80")] = 7;
  run_until([&] { return transitions.size() == 2; });
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_EQ(transitions[1].weight, std::optional<std::uint32_t>(7));
}

TEST_F(EngineTest, AReloadFromInsideATransitionStopsTheOldChecks) {
  Engine* reloading_target = nullptr;
  bool reloaded = false;
  Engine reloading(
      io.get_executor(), [this](const model::CheckSpec&) { return std::make_unique<FakeProber>(world); },
      [&](const Transition&) {
        if (!reloaded) {
          reloaded = true;
          reloading_target->set(model::Desired{});  // every check goes, from inside its own result
        }
      },
      [this](const ServerKey&, std::size_t, const std::string& what) { errors.push_back(what); }, [] { return 0.0; });
  reloading_target = &reloading;
  world.healthy[ep("10.0.0.1:80")] = false;
  reloading.set(farm({fast_check(1, 1)}));
  run_until([&] { return reloaded; });
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(reloading.checks(), 0u);
  const int probes = world.probes;
  io.run_for(50ms);
  EXPECT_EQ(world.probes, probes);  // nothing probes any more
  EXPECT_TRUE(errors.empty());
}

// A prober whose answer goes through the io_context's queue, as a socket's would.
class QueuedProber final : public Prober {
 public:
  asio::awaitable<Result> probe(const Target&) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return success("fine");
  }
};

TEST(EngineStop, FromOutsideTheLoopWhileCompletionsAreQueued) {
  // stop() outside the loop hands each check's cancellation to the loop; a check whose
  // completion was already queued ends first, and its cancellation must still find it
  // (under ASan: no use after free).
  asio::io_context io;
  std::vector<std::string> errors;
  auto engine = std::make_unique<Engine>(
      io.get_executor(), [](const model::CheckSpec&) { return std::make_unique<QueuedProber>(); }, nullptr,
      [&](const ServerKey&, std::size_t, const std::string& what) { errors.push_back(what); }, [] { return 0.0; });
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  for (int i = 1; i <= 200; ++i) {
    model::RealServer rs;
    rs.endpoint = {model::IpAddress::v4(0x0a000000u + static_cast<std::uint32_t>(i)), 80};
    model::CheckSpec c = fast_check();
    c.timing.interval = 1ms;
    rs.checks = {c};
    vs.real_servers.push_back(rs);
  }
  for (int round = 0; round < 5; ++round) {
    engine->set(model::Desired{.virtual_servers = {vs}});
    io.restart();
    io.run_for(5ms);
    for (int i = 0; i < 37 && io.run_one(); ++i) {
    }
    if (round % 2 == 0) engine->stop();
    else engine.reset();
    io.restart();
    io.run_for(20ms);
    if (!engine)
      engine = std::make_unique<Engine>(
          io.get_executor(), [](const model::CheckSpec&) { return std::make_unique<QueuedProber>(); }, nullptr,
          nullptr, [] { return 0.0; });
  }
  EXPECT_TRUE(errors.empty());
}

// Each probe's start time; the third probe takes 80 ms (longer than the interval).
class TimedProber final : public Prober {
 public:
  explicit TimedProber(std::vector<Clock::time_point>& starts) : starts_(starts) {}
  asio::awaitable<Result> probe(const Target&) override {
    starts_.push_back(Clock::now());
    if (starts_.size() == 3) {
      asio::steady_timer slow(co_await asio::this_coro::executor, 80ms);
      co_await slow.async_wait(asio::use_awaitable);
    }
    co_return success("fine");
  }

 private:
  std::vector<Clock::time_point>& starts_;
};

TEST(EngineRounds, OneIntervalFromStartToStartAndNoBurstAfterASlowRound) {
  asio::io_context io;
  std::vector<Clock::time_point> starts;
  Engine engine(
      io.get_executor(), [&](const model::CheckSpec&) { return std::make_unique<TimedProber>(starts); }, nullptr,
      nullptr, [] { return 0.5; });
  model::CheckSpec c = fast_check();
  c.timing.interval = 30ms;
  c.timing.warmup = 40ms;
  const auto set_at = Clock::now();
  engine.set(one_server(c));
  while (starts.size() < 6) io.run_one_for(1s);
  ASSERT_EQ(starts.size(), 6u);
  const auto ms = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  // Rounds are due one interval after the last was due (on ticks), so a late start does not
  // push the next one back: measured from when they were due, not from the late starts.
  EXPECT_GE(ms(starts[0] - set_at), 20);  // half of the warmup: random() said 0.5
  EXPECT_GE(ms(starts[1] - set_at), 20 + 30);
  EXPECT_GE(ms(starts[2] - set_at), 20 + 60);
  EXPECT_GE(ms(starts[3] - starts[2]), 79);  // the slow round delays the next one...
  EXPECT_LT(ms(starts[3] - starts[2]), 79 + 25);  // ...which starts when it ends
  EXPECT_GE(ms(starts[4] - starts[2]), 79 + 30);  // then one interval again: no catching up
  EXPECT_GE(ms(starts[5] - starts[2]), 79 + 60);
}

TEST(EngineRounds, ChecksDueWithinOneTickStartInOnePass) {
  // 100 checks spread over 20 ms are due 0.2 ms apart: they start in about 20 groups, one
  // per tick (one wake-up each), not one by one; and still spread over the interval.
  asio::io_context io;
  std::vector<Clock::time_point> starts;
  Engine engine(
      io.get_executor(), [&](const model::CheckSpec&) { return std::make_unique<TimedProber>(starts); }, nullptr,
      nullptr, [] { return 0.0; });
  model::CheckSpec c = fast_check();
  c.timing.interval = 20ms;
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  for (int i = 1; i <= 100; ++i) {
    model::RealServer rs;
    rs.endpoint = ep(fmt::format("10.0.1.{}:80", i).c_str());
    rs.checks = {c};
    vs.real_servers.push_back(rs);
  }
  engine.set(model::Desired{.virtual_servers = {vs}});
  while (starts.size() < 100) io.run_one_for(1s);
  ASSERT_GE(starts.size(), 100u);
  starts.resize(100);
  std::sort(starts.begin(), starts.end());
  int groups = 1;
  for (std::size_t i = 1; i < starts.size(); ++i)
    if (starts[i] - starts[i - 1] > 150us) ++groups;
  EXPECT_LE(groups, 40);  // 20 ticks, and some room for a busy machine
  EXPECT_GE(groups, 10);
  EXPECT_GE(starts.back() - starts.front(), 15ms);
}

TEST(EngineRounds, EachCheckTypeIsSpreadOverTheWholeInterval) {
  // 60 tcp checks declared before 20 http ones, interval 200 ms: the http checks' first
  // round covers the interval (not only its last quarter, where their places among all 80
  // checks would put them).
  asio::io_context io;
  std::vector<Clock::time_point> tcp, http;
  Engine engine(
      io.get_executor(),
      [&](const model::CheckSpec& spec) {
        return std::make_unique<TimedProber>(spec.type == model::CheckType::Http ? http : tcp);
      },
      nullptr, nullptr, [] { return 0.0; });
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  for (int i = 1; i <= 80; ++i) {
    model::CheckSpec c = fast_check();
    c.timing.interval = 200ms;
    if (i > 60) {
      c.type = model::CheckType::Http;
      c.detail = model::HttpCheck{};
    }
    model::RealServer rs;
    rs.endpoint = ep(fmt::format("10.0.1.{}:80", i).c_str());
    rs.checks = {c};
    vs.real_servers.push_back(rs);
  }
  const auto set_at = Clock::now();
  engine.set(model::Desired{.virtual_servers = {vs}});
  while ((tcp.size() < 60 || http.size() < 20) && Clock::now() - set_at < 5s) io.run_one_for(1s);
  ASSERT_GE(http.size(), 20u);
  ASSERT_GE(tcp.size(), 60u);
  const auto first_http = *std::min_element(http.begin(), http.begin() + 20);
  const auto last_http = *std::max_element(http.begin(), http.begin() + 20);
  EXPECT_LT(first_http - set_at, 40ms);       // the first http check at the start, not at 150 ms
  EXPECT_GE(last_http - first_http, 150ms);   // and the 20 over most of the interval (190 ms)
}

class ThrowingProber final : public Prober {
 public:
  asio::awaitable<Result> probe(const Target&) override {
    throw std::runtime_error("prober bug");
    co_return success("never");
  }
};

TEST(EngineRounds, AProberThatThrowsFailsItsCheckWithTheReason) {
  asio::io_context io;
  std::vector<Transition> transitions;
  std::vector<std::string> errors;
  Engine engine(
      io.get_executor(), [&](const model::CheckSpec&) { return std::make_unique<ThrowingProber>(); },
      [&](const Transition& t) { transitions.push_back(t); },
      [&](const ServerKey&, std::size_t, const std::string& what) { errors.push_back(what); }, [] { return 0.0; });
  engine.set(farm({fast_check(1, 2)}));
  const auto deadline = Clock::now() + 2s;
  while (transitions.size() < 2 && Clock::now() < deadline) io.run_one_for(10ms);
  ASSERT_EQ(transitions.size(), 2u);  // both servers, within two rounds, not at the 1 s timeout
  EXPECT_FALSE(transitions[0].up);
  EXPECT_EQ(transitions[0].cause.reason, "check failed: prober bug");
  EXPECT_LT(transitions[0].cause.latency, 100ms);
  EXPECT_TRUE(errors.empty());
}

// Answers from a script shared by its probers, one result per probe (the last repeats).
class ScriptedProber final : public Prober {
 public:
  ScriptedProber(std::deque<Result>& script, int& probes) : script_(script), probes_(probes) {}
  asio::awaitable<Result> probe(const Target&) override {
    ++probes_;
    Result r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    co_return r;
  }

 private:
  std::deque<Result>& script_;
  int& probes_;
};

// Never answers on its own: waits an hour, and notes how its wait ended.
class HangingProber final : public Prober {
 public:
  explicit HangingProber(bool& cancelled) : cancelled_(cancelled) {}
  asio::awaitable<Result> probe(const Target&) override {
    asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
    try {
      co_await forever.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      cancelled_ = e.code() == asio::error::operation_aborted;
      throw;
    }
    co_return success("answered after an hour");
  }

 private:
  bool& cancelled_;
};

// One real server with one check made by `make`, rounds every hour after the first: what
// one round gives.
struct OneRound {
  asio::io_context io;
  std::vector<Transition> transitions;
  Engine engine;
  explicit OneRound(Engine::Factory make)
      : engine(io.get_executor(), std::move(make), [this](const Transition& t) { transitions.push_back(t); }, nullptr,
               [] { return 0.0; }) {}
  // Runs the round (timing given) until the check has a result or `limit` passes.
  std::optional<Result> run(model::CheckTiming timing, Clock::duration limit = 2s) {
    timing.interval = 1h;
    timing.fall = 1;
    model::CheckSpec c;
    c.timing = timing;
    engine.set(one_server(c));
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      io.run_one_for(5ms);
      const auto v = engine.view();
      if (!v.empty() && v[0].last) return v[0].last;
    }
    return std::nullopt;
  }
};

Result refused() { return failure("connect refused"); }

TEST(EngineRounds, AFailureIsRetriedUntilASuccess) {
  std::deque<Result> script{refused(), refused(), success("connected")};
  int probes = 0;
  OneRound one([&](const model::CheckSpec&) { return std::make_unique<ScriptedProber>(script, probes); });
  const auto r = one.run({.timeout = 1000ms, .retry = 3, .delay_before_retry = 1ms});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->up);
  EXPECT_EQ(r->attempts, 3u);
  EXPECT_EQ(probes, 3);
  EXPECT_TRUE(one.transitions.empty());  // up all along: the failures were retried away
}

TEST(EngineRounds, RetriesSpentTheLastFailureCounts) {
  std::deque<Result> script{refused(), failure("HTTP 503")};
  int probes = 0;
  OneRound one([&](const model::CheckSpec&) { return std::make_unique<ScriptedProber>(script, probes); });
  const auto r = one.run({.timeout = 1000ms, .retry = 1, .delay_before_retry = 1ms});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->up);
  EXPECT_EQ(r->reason, "HTTP 503");
  EXPECT_EQ(r->attempts, 2u);
  ASSERT_EQ(one.transitions.size(), 1u);
  EXPECT_EQ(one.transitions[0].cause.reason, "HTTP 503");
}

TEST(EngineRounds, RetriesWaitTheirDelay) {
  std::deque<Result> script{refused()};
  int probes = 0;
  OneRound one([&](const model::CheckSpec&) { return std::make_unique<ScriptedProber>(script, probes); });
  const auto before = Clock::now();
  const auto r = one.run({.timeout = 1000ms, .retry = 2, .delay_before_retry = 40ms});
  ASSERT_TRUE(r);
  EXPECT_GE(Clock::now() - before, 80ms);
  EXPECT_EQ(probes, 3);
  EXPECT_EQ(r->attempts, 3u);
}

TEST(EngineRounds, TheTimeoutCancelsTheProbe) {
  bool cancelled = false;
  OneRound one([&](const model::CheckSpec&) { return std::make_unique<HangingProber>(cancelled); });
  const auto r = one.run({.timeout = 50ms, .retry = 1, .delay_before_retry = 10ms});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->up);
  EXPECT_EQ(r->reason, "timeout after 50 ms");
  EXPECT_EQ(r->attempts, 2u);  // each attempt its own timeout
  EXPECT_GE(r->latency, 50ms);
  EXPECT_LT(r->latency, 500ms);
  EXPECT_TRUE(cancelled);
  ASSERT_EQ(one.transitions.size(), 1u);
  EXPECT_FALSE(one.transitions[0].up);
}

TEST(TargetOf, TheChecksAddressAndPortOverrideTheRealServers) {
  model::RealServer rs;
  rs.endpoint = ep("10.0.0.1:80");
  model::CheckSpec c;
  EXPECT_EQ(target_of(rs, c).endpoint, ep("10.0.0.1:80"));
  c.port = 8080;
  c.address = model::IpAddress::parse("10.0.9.9");
  c.bind_address = model::IpAddress::parse("10.0.0.254");
  c.bind_interface = "eth1";
  const Target t = target_of(rs, c);
  EXPECT_EQ(t.endpoint, ep("10.0.9.9:8080"));
  EXPECT_EQ(t.bind_address, model::IpAddress::parse("10.0.0.254"));
  EXPECT_EQ(t.bind_interface, "eth1");
}

}  // namespace
}  // namespace lvsd::check
