// The health of one real server under one check: rise/fall over consecutive results.
#pragma once

#include <cstdint>

#include "lvsd/check/result.hpp"

namespace lvsd::check {

// Pure: results in, transitions out; no clock, no I/O.
class HealthTracker {
 public:
  // `rise` consecutive successes mark a down server up, `fall` consecutive failures mark an
  // up server down (each at least 1).
  HealthTracker(std::uint32_t rise, std::uint32_t fall, bool initially_up);

  Change record(const Result& result);

  bool up() const { return up_; }
  // Results in a row that disagree with the current verdict (the way to a transition).
  std::uint32_t streak() const { return streak_; }
  // The latest result, and the one that made the current verdict (none before the first
  // transition: the initial verdict came from the config).
  const Result& last() const { return last_; }
  const Result& cause() const { return cause_; }
  bool has_result() const { return results_ > 0; }

 private:
  std::uint32_t rise_;
  std::uint32_t fall_;
  bool up_;
  std::uint32_t streak_ = 0;
  std::uint64_t results_ = 0;
  Result last_;
  Result cause_;
};

}  // namespace lvsd::check
