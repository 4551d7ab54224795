// One-off attempts with scripted probers: the timeout cancels the attempt (the engine has
// its own loop, tested in engine_test.cpp).
#include "lvsd/check/runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs an awaitable on its own io_context to its end.
template <class T>
T run(asio::awaitable<T> work) {
  asio::io_context io;
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    error = e;
    out = std::move(value);
  });
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

// Answers from a script, one result per attempt (the last one repeats).
class ScriptedProber final : public Prober {
 public:
  explicit ScriptedProber(std::deque<Result> script) : script_(std::move(script)) {}
  asio::awaitable<Result> probe(const Target& target) override {
    targets.push_back(target);
    Result r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    co_return r;
  }
  std::vector<Target> targets;

 private:
  std::deque<Result> script_;
};

// Never answers on its own: waits an hour, and notes how its wait ended.
class HangingProber final : public Prober {
 public:
  asio::awaitable<Result> probe(const Target&) override {
    asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
    try {
      co_await forever.async_wait(asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      cancelled = e.code() == asio::error::operation_aborted;
      throw;
    }
    co_return Result{.up = true, .reason = "answered after an hour"};
  }
  bool cancelled = false;
};

const Target kTarget{.endpoint = {model::IpAddress::v4(0x7f000001), 80}};
Result ok() { return Result{.up = true, .reason = "connected"}; }

TEST(Runner, TimeoutTexts) {
  EXPECT_EQ(timeout_text(3000ms), "timeout after 3 s");
  EXPECT_EQ(timeout_text(250ms), "timeout after 250 ms");
  EXPECT_EQ(timeout_text(1500ms), "timeout after 1.5 s");
}

TEST(Runner, AnAttemptIsStampedWithItsTimeAndLatency) {
  ScriptedProber prober({ok()});
  const auto before = Clock::now();
  const Result r = run(attempt(prober, kTarget, 1000ms));
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "connected");
  EXPECT_GE(r.at, before);
  EXPECT_LE(r.at, Clock::now());
  EXPECT_GE(r.latency, 0us);
  EXPECT_EQ(prober.targets, std::vector<Target>{kTarget});
}

TEST(Runner, ATimeoutCancelsTheAttempt) {
  HangingProber prober;
  const auto before = Clock::now();
  const Result r = run(attempt(prober, kTarget, 50ms));
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 50 ms");
  EXPECT_TRUE(prober.cancelled);
  EXPECT_GE(r.latency, 50ms);
  EXPECT_LT(Clock::now() - before, 30s);  // not the prober's hour
}

}  // namespace
}  // namespace lvsd::check
