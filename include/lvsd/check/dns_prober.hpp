// DNS: a query over UDP that the server must answer, with the answer the check expects.
#pragma once

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// One query with a random id to the target's address and port: up "NOERROR" (and, with
// `expect`, an answer of the asked type naming it: else "no answer <expect>"), down with the
// RCODE's name ("SERVFAIL", "NXDOMAIN", "REFUSED", …) or "truncated reply …". A datagram
// with another id is not the reply and is ignored: a spoofed one cannot end the attempt.
class DnsProber final : public Prober {
 public:
  explicit DnsProber(model::DnsCheck check);
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  model::DnsCheck check_;
};

}  // namespace lvsd::check
