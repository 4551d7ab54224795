// The one door to the kernel's IPVS table: read it whole, or apply a batch of operations.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "lvsd/ipvs/operation.hpp"
#include "lvsd/ipvs/table.hpp"

namespace lvsd::ipvs {

// One operation of a batch that the kernel refused.
struct Failure {
  std::size_t index = 0;  // into the batch
  boost::system::error_code error;
  bool operator==(const Failure&) const = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Every service with its destinations, counters included.
  virtual boost::system::result<Table> dump() = 0;
  // The connection timeouts and the running sync daemons.
  virtual boost::system::result<Settings> dump_settings() = 0;
  // Applies the operations in order; one refused does not stop the others. Returns the
  // refused ones, matched to their place in the batch.
  virtual std::vector<Failure> apply(std::span<const Operation> operations) = 0;
};

}  // namespace lvsd::ipvs
