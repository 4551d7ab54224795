// L4 for UDP: a datagram to the real server's port that must be answered.
#pragma once

#include <optional>
#include <regex>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// Sends the check's payload on a connected socket and waits for one datagram: up "reply"
// (matching `expect` when it is set), down "port unreachable" when ICMP says so. Silence
// lasts until the attempt's timeout.
class UdpProber final : public Prober {
 public:
  // `expect` must be a valid ECMAScript regex (the config checks it): std::regex_error if not.
  explicit UdpProber(model::UdpCheck check);
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  model::UdpCheck check_;
  std::optional<std::regex> expect_;
};

}  // namespace lvsd::check
