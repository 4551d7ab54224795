// One attempt of one protocol against one real server.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "lvsd/check/result.hpp"
#include "lvsd/model/address.hpp"

namespace lvsd::check {

// Where an attempt goes: the real server's address and port, or the check's own.
struct Target {
  model::Endpoint endpoint;
  std::optional<model::IpAddress> bind_address;  // source address
  std::string bind_interface;                    // SO_BINDTODEVICE; empty: any
  bool operator==(const Target&) const = default;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // One attempt: fills `up`, `reason` and, for checks that give one, `weight`. The caller
  // bounds it with the check's timeout by cancelling it, and stamps time and latency.
  virtual boost::asio::awaitable<Result> probe(const Target& target) = 0;
};

}  // namespace lvsd::check
