// One-off attempts: the timeout of an attempt.
#include "lvsd/check/runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace lvsd::check {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

std::string timeout_text(model::Millis timeout) {
  const auto ms = timeout.count();
  if (ms % 1000 == 0) return fmt::format("timeout after {} s", ms / 1000);
  if (ms < 1000) return fmt::format("timeout after {} ms", ms);
  return fmt::format("timeout after {:g} s", static_cast<double>(ms) / 1000.0);
}

Result prober_failure(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& error) {
    return failure(fmt::format("check failed: {}", error.what()));
  } catch (...) {
  }
  return failure("check failed: unknown exception");
}

namespace {

// The prober's result; one that throws fails (`||` would wait for the other branch when one
// throws).
asio::awaitable<Result> guarded(Prober& prober, const Target& target) {
  std::exception_ptr thrown;
  try {
    co_return co_await prober.probe(target);
  } catch (...) {
    thrown = std::current_exception();
  }
  // Cancelled (the timeout won): the exception is the cancellation; nobody reads this.
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
    co_return failure("cancelled");
  co_return prober_failure(thrown);
}

}  // namespace

asio::awaitable<Result> attempt(Prober& prober, const Target& target, model::Millis timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  const auto start = Clock::now();
  // Whichever ends first cancels the other: a prober that never answers is abandoned with
  // its socket closed, not left waiting.
  auto first = co_await (guarded(prober, target) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  Result r = first.index() == 0 ? std::get<0>(std::move(first)) : failure(timeout_text(timeout));
  r.at = Clock::now();
  r.latency = std::chrono::duration_cast<std::chrono::microseconds>(r.at - start);
  co_return r;
}

}  // namespace lvsd::check
