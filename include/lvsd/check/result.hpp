// What one health check found: the verdict with its reason, latency and time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace lvsd::check {

using Clock = std::chrono::steady_clock;

// One check of one real server: an attempt, or the last of its retries.
struct Result {
  bool up = false;
  // Why: "connected", "connect refused", "timeout after 3 s", "HTTP 503", "digest mismatch".
  std::string reason;
  std::chrono::microseconds latency{0};
  Clock::time_point at{};
  // A weight the check itself gives (script with dynamic_weight, file): nullopt for others.
  std::optional<std::uint32_t> weight;
  std::uint32_t attempts = 1;  // 1 + the retries it took
  bool operator==(const Result&) const = default;
};

inline Result success(std::string reason) {
  Result r;
  r.up = true;
  r.reason = std::move(reason);
  return r;
}
inline Result failure(std::string reason) {
  Result r;
  r.reason = std::move(reason);
  return r;
}

// What a result did to the server's health.
enum class Change : std::uint8_t {
  Unchanged,  // the same verdict as before, nothing pending
  Pending,    // the other verdict, not yet `rise` or `fall` times in a row
  WentUp,
  WentDown,
};

}  // namespace lvsd::check
