// rise/fall with canned results: the transitions and what they keep.
#include "lvsd/check/health_tracker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace lvsd::check {
namespace {

Result ok() { return Result{.up = true, .reason = "connected"}; }
Result failed(const char* reason = "connect refused") { return Result{.up = false, .reason = reason}; }

std::vector<Change> feed(HealthTracker& t, const std::vector<Result>& results) {
  std::vector<Change> out;
  for (const auto& r : results) out.push_back(t.record(r));
  return out;
}

TEST(HealthTracker, FallConsecutiveFailuresMarkDown) {
  HealthTracker t(2, 3, true);
  EXPECT_EQ(feed(t, {failed(), failed()}), (std::vector{Change::Pending, Change::Pending}));
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.streak(), 2u);
  EXPECT_EQ(t.record(failed("timeout after 2 s")), Change::WentDown);
  EXPECT_FALSE(t.up());
  EXPECT_EQ(t.cause().reason, "timeout after 2 s");
  EXPECT_EQ(t.streak(), 0u);
  EXPECT_EQ(t.record(failed()), Change::Unchanged);
}

TEST(HealthTracker, ASuccessBetweenFailuresCallsTheFallOff) {
  HealthTracker t(2, 3, true);
  EXPECT_EQ(feed(t, {failed(), failed(), ok(), failed(), failed()}),
            (std::vector{Change::Pending, Change::Pending, Change::Unchanged, Change::Pending, Change::Pending}));
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.record(failed()), Change::WentDown);
}

TEST(HealthTracker, RiseConsecutiveSuccessesMarkUp) {
  HealthTracker t(2, 3, false);
  EXPECT_EQ(feed(t, {ok(), failed(), ok()}), (std::vector{Change::Pending, Change::Unchanged, Change::Pending}));
  EXPECT_FALSE(t.up());
  EXPECT_EQ(t.record(ok()), Change::WentUp);
  EXPECT_TRUE(t.up());
  EXPECT_EQ(t.cause().reason, "connected");
}

TEST(HealthTracker, RiseAndFallOfOneActAtOnce) {
  HealthTracker t(1, 1, true);
  EXPECT_EQ(feed(t, {failed(), failed(), ok(), ok(), failed()}),
            (std::vector{Change::WentDown, Change::Unchanged, Change::WentUp, Change::Unchanged, Change::WentDown}));
}

TEST(HealthTracker, ZeroThresholdsCountAsOne) {
  HealthTracker t(0, 0, true);
  EXPECT_EQ(t.record(failed()), Change::WentDown);
  EXPECT_EQ(t.record(ok()), Change::WentUp);
}

TEST(HealthTracker, KeepsTheLatestResultAndTheCauseOfTheVerdict) {
  HealthTracker t(2, 2, true);
  EXPECT_FALSE(t.has_result());
  t.record(failed("HTTP 503"));
  t.record(failed("HTTP 502"));
  t.record(ok());
  EXPECT_TRUE(t.has_result());
  EXPECT_EQ(t.last().reason, "connected");
  EXPECT_EQ(t.cause().reason, "HTTP 502");  // still down: the failure that took it down
  EXPECT_FALSE(t.up());
}

}  // namespace
}  // namespace lvsd::check
