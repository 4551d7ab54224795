// The parsers of each config section; each reports into Diagnostics and returns what it read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diagnostics.hpp"
#include "lvsd/model/desired.hpp"
#include "values.hpp"

namespace lvsd::config {

// Virtual servers from every file, with [defaults] inherited by each.
std::vector<model::VirtualServer> parse_virtual_servers(Diagnostics& d,
                                                        const std::vector<Node>& nodes,
                                                        const std::optional<Node>& defaults);

// One `check` list (array of tables).
std::vector<model::CheckSpec> parse_checks(Diagnostics& d, const Node& list);
std::optional<model::CheckSpec> parse_check(Diagnostics& d, const Node& node);

// Timing keys shared by checks and trackers.
inline constexpr std::string_view kTimingKeys[] = {"interval", "timeout", "retry",
                                                   "delay_before_retry", "rise", "fall",
                                                   "warmup"};
void parse_timing(Diagnostics& d, const Table& t, model::CheckTiming& timing);

std::vector<model::VrrpInstance> parse_vrrp_instances(Diagnostics& d, const std::vector<Node>& nodes);
std::vector<model::SyncGroup> parse_sync_groups(Diagnostics& d, const std::vector<Node>& nodes,
                                                const std::vector<model::VrrpInstance>& instances);

// An address with a range in its last IPv4 byte or IPv6 group, "10.0.0.[10-40]:80", as the
// text of its first address ("10.0.0.10:80") and how many addresses it holds (31); a text
// without a range is itself, once. The addresses follow each other, so a 100,000-address
// config parses one address text per range, not one per address.
struct AddressRange {
  std::string first;
  unsigned count = 1;
};
// On a malformed range, nullopt with `error` set.
std::optional<AddressRange> parse_range(std::string_view text, std::string& error);
// The address `offset` after the range's first: offset < count stays in the last byte or group.
model::IpAddress address_in_range(const model::IpAddress& first, unsigned offset);

}  // namespace lvsd::config

namespace lvsd::config {
// `command`, `user` and `dynamic_weight` of a script check or tracker table.
model::ScriptCheck parse_script_command(Diagnostics& d, const Table& t);
}  // namespace lvsd::config
