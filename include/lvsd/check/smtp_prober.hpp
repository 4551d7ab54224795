// L7: an SMTP server greets with 220 and accepts EHLO with 250.
#pragma once

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// Connects, reads the greeting (220), sends "EHLO <helo_name>" (250; a server that does not
// know EHLO, 500 or 502, is asked HELO instead), then QUIT, without waiting for its answer.
// Up: "SMTP 250". Down: the reply that was wrong ("SMTP banner 554", "SMTP EHLO 501"),
// "bad SMTP reply: <the line>", "connection closed", or the connect failure. A reply may
// have up to 64 lines and 4096 bytes.
class SmtpProber final : public Prober {
 public:
  explicit SmtpProber(model::SmtpCheck check);
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  model::SmtpCheck check_;
};

}  // namespace lvsd::check
