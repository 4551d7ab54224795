// A weight that another program writes to a file: 0 means down.
#pragma once

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// Reads the check's file at every attempt. The file holds one decimal number from 0 to
// 65535, with white space around it allowed: 0 is down ("weight 0 in /run/w"), any other
// number is up with that weight. A file that cannot be read, holds anything else or is
// longer than 64 bytes is down, with the reason.
class FileProber final : public Prober {
 public:
  explicit FileProber(model::FileCheck check);
  // The target is not used: the file speaks for the real server.
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  model::FileCheck check_;
};

}  // namespace lvsd::check
