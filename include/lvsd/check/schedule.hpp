// When checks run: the first round spread over one interval, then one start per interval,
// each on a tick.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

#include "lvsd/model/check.hpp"

namespace lvsd::check {

// The delay before the first check of check number `index` of `count` sharing one interval:
// index * interval / count, so 10,000 checks never fire in the same millisecond, plus
// `warmup_fraction` (in [0, 1), drawn at random by the caller) of the check's warmup.
std::chrono::microseconds first_delay(std::size_t index, std::size_t count, const model::CheckTiming& timing,
                                      double warmup_fraction);

// Where each of a set of checks falls in its first round's spread: its index and count
// among the checks of its kind, one kind being a check type with an interval (`kinds[i]`
// names check i's kind; equal values, one kind). Each kind is spread over its interval by
// itself, so that the costly checks (an https check costs several tcp checks) are as
// evenly spread as the cheap ones: spread by their place among all checks, the 2,000 http
// checks declared after 10,000 tcp checks would all fall in the last sixth of each interval,
// at six times their average rate.
struct Slot {
  std::size_t index = 0;
  std::size_t count = 0;
  bool operator==(const Slot&) const = default;
};
template <class Kind>
std::vector<Slot> spread_slots(const std::vector<Kind>& kinds) {
  std::vector<Slot> slots(kinds.size());
  std::map<Kind, std::size_t> seen;
  for (std::size_t i = 0; i < kinds.size(); ++i) slots[i].index = seen[kinds[i]]++;
  for (std::size_t i = 0; i < kinds.size(); ++i) slots[i].count = seen[kinds[i]];
  return slots;
}

// Rounds start on the ticks of the steady clock, one millisecond apart: the checks due
// within one tick start in one pass of the loop, after one wake-up (at 10,000 checks a
// second, a wake-up per check costs more than the checks: 10 to a tick instead of one
// every 100 microseconds). A start is at most one tick late for it.
inline constexpr std::chrono::microseconds kTick{1000};

// The first tick at or after `when`.
template <class TimePoint>
TimePoint on_tick(TimePoint when) {
  using Duration = typename TimePoint::duration;
  const auto tick = std::chrono::duration_cast<Duration>(kTick);
  const auto since = when.time_since_epoch();
  const auto ticks = (since + tick - Duration{1}) / tick;
  return TimePoint{ticks * tick};
}

// When the check that started at `started` starts next: one interval later, or — when the
// check (with its retries) took longer than that — at once, never in a burst to catch up.
template <class TimePoint>
TimePoint next_start(TimePoint started, TimePoint finished, model::Millis interval) {
  const TimePoint due = started + interval;
  return due > finished ? due : finished;
}

}  // namespace lvsd::check
