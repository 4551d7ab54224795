// L4: the real server's port accepts a TCP connection.
#pragma once

#include "lvsd/check/prober.hpp"

namespace lvsd::check {

class TcpProber final : public Prober {
 public:
  boost::asio::awaitable<Result> probe(const Target& target) override;
};

}  // namespace lvsd::check
