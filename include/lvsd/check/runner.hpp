// One round of one check of one real server: a timeout per attempt, and retries.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// "timeout after 3 s", "timeout after 250 ms", "timeout after 1.5 s".
std::string timeout_text(model::Millis timeout);

// One attempt bounded by `timeout`: the prober's result, or "timeout after …" with the
// prober cancelled. Stamps `at` and `latency`.
boost::asio::awaitable<Result> attempt(Prober& prober, const Target& target, model::Millis timeout);

// One check: an attempt, and on failure up to `retry` more, `delay_before_retry` apart. The
// result is the first success or the last failure, with the number of attempts made.
boost::asio::awaitable<Result> check_once(Prober& prober, const Target& target, const model::CheckTiming& timing);

}  // namespace lvsd::check
