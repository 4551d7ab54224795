// Text forms of pool values.
#include "lvsd/model/pool.hpp"

#include <fmt/format.h>

namespace lvsd::model {

std::string ServiceKey::to_string() const {
  if (is_fwmark())
    return family == Family::V4 ? fmt::format("FWM {}", fwmark) : fmt::format("FWM {} IPv6", fwmark);
  const char* proto = protocol == Protocol::Tcp ? "TCP" : protocol == Protocol::Udp ? "UDP" : "SCTP";
  return fmt::format("{} {}", proto, endpoint.to_string());
}

}  // namespace lvsd::model
