// The first round spread over one interval; the next start one interval after the last; each
// on a tick.
#include "lvsd/check/schedule.hpp"

#include <gtest/gtest.h>

#include <set>

namespace lvsd::check {
namespace {
using namespace std::chrono_literals;

TEST(Schedule, TenThousandChecksNeverShareAMillisecond) {
  const model::CheckTiming timing{.interval = 10s};
  std::set<std::int64_t> milliseconds;
  for (std::size_t i = 0; i < 10000; ++i) {
    const auto d = first_delay(i, 10000, timing, 0.0);
    EXPECT_GE(d, 0us);
    EXPECT_LT(d, 10s);
    milliseconds.insert(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }
  EXPECT_EQ(milliseconds.size(), 10000u);
}

TEST(Schedule, SpreadIsEvenOverOneInterval) {
  const model::CheckTiming timing{.interval = 3s};
  EXPECT_EQ(first_delay(0, 4, timing, 0.0), 0us);
  EXPECT_EQ(first_delay(1, 4, timing, 0.0), 750ms);
  EXPECT_EQ(first_delay(3, 4, timing, 0.0), 2250ms);
  EXPECT_EQ(first_delay(0, 0, timing, 0.0), 0us);
}

TEST(Schedule, EachKindIsSpreadByItself) {
  // 6 tcp checks then 2 http ones: the http ones at 0 and 1/2 of the interval, not 6/8, 7/8.
  const std::vector<char> kinds{'t', 't', 't', 't', 't', 't', 'h', 'h'};
  const auto slots = spread_slots(kinds);
  ASSERT_EQ(slots.size(), 8u);
  EXPECT_EQ(slots[0], (Slot{0, 6}));
  EXPECT_EQ(slots[5], (Slot{5, 6}));
  EXPECT_EQ(slots[6], (Slot{0, 2}));
  EXPECT_EQ(slots[7], (Slot{1, 2}));
  const model::CheckTiming timing{.interval = 1s};
  EXPECT_EQ(first_delay(slots[7].index, slots[7].count, timing, 0.0), 500ms);
  // Interleaved kinds keep their own order and counts.
  const auto mixed = spread_slots(std::vector<int>{1, 2, 1, 2, 1});
  EXPECT_EQ(mixed, (std::vector<Slot>{{0, 3}, {0, 2}, {1, 3}, {1, 2}, {2, 3}}));
  EXPECT_TRUE(spread_slots(std::vector<int>{}).empty());
}

TEST(Schedule, WarmupAddsItsDrawnFraction) {
  const model::CheckTiming timing{.interval = 2s, .warmup = 10s};
  EXPECT_EQ(first_delay(1, 2, timing, 0.25), 1s + 2500ms);
  EXPECT_EQ(first_delay(1, 2, timing, 1.5), 1s + 10s);  // clamped
  EXPECT_EQ(first_delay(1, 2, timing, -1.0), 1s);
}

TEST(Schedule, NextStartIsOneIntervalAfterTheLastStartOrAtOnceWhenLate) {
  using T = std::chrono::steady_clock::time_point;
  const T start{100s};
  EXPECT_EQ(next_start(start, T{101s}, 3000ms), T{103s});
  EXPECT_EQ(next_start(start, T{107s}, 3000ms), T{107s});  // no burst to catch up
}

TEST(Schedule, AStartIsOnTheFirstTickAtOrAfterItsTime) {
  using T = std::chrono::steady_clock::time_point;
  EXPECT_EQ(on_tick(T{5s}), T{5s});
  EXPECT_EQ(on_tick(T{5s + 1ns}), T{5001ms});
  EXPECT_EQ(on_tick(T{5s + 999us}), T{5001ms});
  EXPECT_EQ(on_tick(T{5001ms}), T{5001ms});
  // A round one interval (whole milliseconds) after one on a tick is on a tick.
  const T start = on_tick(T{123456789ns});
  EXPECT_EQ(on_tick(next_start(start, start + 40ms, 2000ms)), start + 2000ms);
}

}  // namespace
}  // namespace lvsd::check
