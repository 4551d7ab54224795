// One attempt of a check, bounded by its timeout, as a coroutine: for one-off checks
// (lvsctl probe, the probers' tests). The engine runs its rounds without coroutines.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <exception>
#include <string>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// "timeout after 3 s", "timeout after 250 ms", "timeout after 1.5 s".
std::string timeout_text(model::Millis timeout);

// What a prober that threw (a bug, or a resource exhausted) failed with: "check failed:
// <what>", not a silent wait for the timeout.
Result prober_failure(const std::exception_ptr& e);

// One attempt bounded by `timeout`: the prober's result, or "timeout after …" with the
// prober cancelled. Stamps `at` and `latency`.
boost::asio::awaitable<Result> attempt(Prober& prober, const Target& target, model::Millis timeout);

}  // namespace lvsd::check
