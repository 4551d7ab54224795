// The first round's spread and the warmup.
#include "lvsd/check/schedule.hpp"

#include <algorithm>

namespace lvsd::check {

std::chrono::microseconds first_delay(std::size_t index, std::size_t count, const model::CheckTiming& timing,
                                      double warmup_fraction) {
  using std::chrono::microseconds;
  const auto interval = std::chrono::duration_cast<microseconds>(timing.interval);
  const microseconds spread =
      count == 0 ? microseconds{0} : microseconds{interval.count() * static_cast<std::int64_t>(index % count) /
                                                  static_cast<std::int64_t>(count)};
  const double fraction = std::clamp(warmup_fraction, 0.0, 1.0);
  const auto warmup = std::chrono::duration_cast<microseconds>(timing.warmup);
  return spread + microseconds{static_cast<std::int64_t>(static_cast<double>(warmup.count()) * fraction)};
}

}  // namespace lvsd::check
