// Runs one check of one real server for ever: timeout per attempt, retries, interval.
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

// After `first_delay`, one check every `interval` (from start to start; a check that runs
// longer delays the next, never a burst), each result handed to `on_result`. Runs until
// `on_result` returns false or its operations are cancelled.
boost::asio::awaitable<void> run_check(Prober& prober, Target target, model::CheckTiming timing,
                                       std::chrono::microseconds first_delay,
                                       std::function<bool(const Result&)> on_result);

}  // namespace lvsd::check
