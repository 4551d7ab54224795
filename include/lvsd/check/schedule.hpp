// When checks run: the first round spread over one interval, then one start per interval.
#pragma once

#include <chrono>
#include <cstddef>

#include "lvsd/model/check.hpp"

namespace lvsd::check {

// The delay before the first check of check number `index` of `count` sharing one interval:
// index * interval / count, so 10,000 checks never fire in the same millisecond, plus
// `warmup_fraction` (in [0, 1), drawn at random by the caller) of the check's warmup.
std::chrono::microseconds first_delay(std::size_t index, std::size_t count, const model::CheckTiming& timing,
                                      double warmup_fraction);

// When the check that started at `started` starts next: one interval later, or — when the
// check (with its retries) took longer than that — at once, never in a burst to catch up.
template <class TimePoint>
TimePoint next_start(TimePoint started, TimePoint finished, model::Millis interval) {
  const TimePoint due = started + interval;
  return due > finished ? due : finished;
}

}  // namespace lvsd::check
