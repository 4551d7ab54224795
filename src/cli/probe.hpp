// lvsctl probe: one check now, against a URL or tcp://host:port or icmp://host, with what it
// saw (for an HTTP body, the digests a config's `digest =` takes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/check.hpp"

namespace lvsd::cli {

struct ProbeTarget {
  model::CheckType type = model::CheckType::Tcp;
  std::string host;  // as written: an address, or a name to resolve
  std::uint16_t port = 0;
  std::string path = "/";  // http and https
  // http and https: what the reply must be for "up"; the digests are printed either way.
  std::vector<model::StatusRange> status{model::StatusRange{}};
  std::optional<model::Digest> digest;
};

// "http://192.0.2.10/status", "https://www.example.org:8443/", "tcp://[2001:db8::1]:25",
// "icmp://10.0.0.11". nullopt with `error` set for anything else.
std::optional<ProbeTarget> parse_probe_target(std::string_view text, std::string& error);

// Runs one attempt bounded by `timeout` and prints what it saw on stdout: the verdict with
// its reason and latency, and for http and https the status, length and both digests of
// the body (whatever the status). Returns 0 when the target is up, 1 when down, 2 when the
// host cannot be resolved.
int run_probe(const ProbeTarget& target, model::Millis timeout);

}  // namespace lvsd::cli
