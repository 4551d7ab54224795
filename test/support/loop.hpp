// Driving a test's io_context until something holds: one handler at a time, so a condition is
// checked after every handler (nothing that happens in between goes unseen).
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace lvsd::testing {

// Runs `io` until `done` holds or `limit` passes; true when it held.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Runs `io` for `span`; true when `holds` held after every handler (for "nothing changes"
// claims).
inline bool run_throughout(boost::asio::io_context& io, const std::function<bool()>& holds,
                           std::chrono::steady_clock::duration span) {
  return !run_until(io, [&] { return !holds(); }, span);
}

}  // namespace lvsd::testing
