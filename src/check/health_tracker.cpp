// rise/fall: a verdict changes after enough results in a row that disagree with it.
#include "lvsd/check/health_tracker.hpp"

#include <algorithm>

namespace lvsd::check {

HealthTracker::HealthTracker(std::uint32_t rise, std::uint32_t fall, bool initially_up)
    : rise_(std::max<std::uint32_t>(rise, 1)), fall_(std::max<std::uint32_t>(fall, 1)), up_(initially_up) {}

Change HealthTracker::record(const Result& result) {
  ++results_;
  last_ = result;
  if (result.up == up_) {
    streak_ = 0;  // a transition on its way is called off
    return Change::Unchanged;
  }
  if (++streak_ < (up_ ? fall_ : rise_)) return Change::Pending;
  up_ = result.up;
  streak_ = 0;
  cause_ = result;
  return up_ ? Change::WentUp : Change::WentDown;
}

}  // namespace lvsd::check
