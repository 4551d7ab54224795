// The VRRP status blocks of lvsctl status.
#include "status.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace lvsd::cli {
namespace {
using nlohmann::json;

std::string text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::uint64_t number(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<std::uint64_t>() : 0;
}
bool flag(const json& object, const char* key) { return object.value(key, false); }
const json& member(const json& object, const char* key) {
  static const json empty = json::object();
  const auto it = object.find(key);
  return it != object.end() ? *it : empty;
}

std::string tracker_line(const json& t) {
  const std::string reason = text(t, "reason");
  std::string state = !flag(t, "known") ? "no result yet" : flag(t, "up") ? "up" : "down";
  if (text(t, "name").starts_with("track_file") && flag(t, "known"))
    state = fmt::format("{}, number {}", state, t.value("number", std::int64_t{0}));
  return fmt::format("    {}: {}{}\n", text(t, "name"), state, reason.empty() ? "" : fmt::format(" ({})", reason));
}

std::string conflict_line(const json& c) {
  const auto& signature = member(c, "signature");
  const std::string head = fmt::format("  conflict: {} also answers for {}", text(c, "mac"), text(c, "vip"));
  const std::string silent =
      number(c, "unanswered") ? fmt::format("; silent for {} probe rounds", number(c, "unanswered")) : "";
  if (signature.is_object() && !signature.empty())
    return fmt::format("{} (lvsd: VRID {}, priority {}, primary {}){}\n", head, number(signature, "vrid"),
                       number(signature, "priority"), text(signature, "primary"), silent);
  return fmt::format(
      "{}{}: no lvsd signature; another director without lvsd, or a DR real server answering ARP for the VIP "
      "(the classic ARP problem: arp_ignore=1, arp_announce=2 on the real servers)\n",
      head, silent);
}

std::string counters_line(const json& n) {
  std::string dropped;
  for (const auto& [reason, count] : member(n, "dropped").items())
    dropped += fmt::format("{}{} {}", dropped.empty() ? "; dropped: " : ", ", reason, count.get<std::uint64_t>());
  const std::string others =
      number(n, "other_vrid") ? fmt::format("; other VRIDs' adverts {}", number(n, "other_vrid")) : "";
  std::string out = fmt::format("  adverts sent {}, received {}{}{}; became master {}; conflicts seen {}, yielded {}\n",
                                number(n, "adverts_sent"), number(n, "adverts_received"), dropped, others,
                                number(n, "became_master"), number(n, "conflicts"), number(n, "conflict_yields"));
  std::string errors;
  for (const auto& [key, word] : {std::pair{"send_errors", "adverts not sent"},
                                  std::pair{"receive_errors", "receive failures"},
                                  std::pair{"address_errors", "VIP changes refused"},
                                  std::pair{"announce_errors", "GARP/NA not sent"}})
    if (const auto count = number(n, key)) errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", word, count);
  if (!errors.empty()) out += fmt::format("  errors: {}\n", errors);
  return out;
}

}  // namespace

std::string render_vrrp_status(const json& reply) {
  std::string out;
  const auto& instances = member(reply, "instances");
  if (!instances.is_array() || instances.empty()) out += "No VRRP instances in the configuration.\n";
  bool first = true;
  for (const auto& i : instances) {
    if (!first) out += "\n";
    first = false;
    out += fmt::format("{}  interface {}  VRID {}  {}  priority {}\n", text(i, "name"), text(i, "interface"),
                       number(i, "vrid"), text(i, "state"), number(i, "priority"));
    const std::string reason = text(i, "reason");
    if (!flag(i, "running"))
      out += fmt::format("  not running: {}\n", reason.empty() ? "not opened yet" : reason);
    else if (flag(i, "fault"))
      out += fmt::format("  FAULT: {}\n", reason);
    const auto& trackers = member(i, "trackers");
    if (trackers.is_array() && !trackers.empty()) {
      out += "  trackers:\n";
      for (const auto& t : trackers) out += tracker_line(t);
    }
    const auto& conflicts = member(i, "conflicts");
    if (conflicts.is_array())
      for (const auto& c : conflicts) out += conflict_line(c);
    if (flag(i, "yielded"))
      out += "  yielded: backup after losing a conflict for its VIPs; back to the election when the winner goes\n";
    out += counters_line(member(i, "counters"));
  }
  const auto& notify = member(reply, "notify");
  out += fmt::format("\nnotify commands run {}, failed {}; FIFO lines {}, dropped {}\n", number(notify, "commands_run"),
                     number(notify, "commands_failed"), number(notify, "fifo_lines"), number(notify, "fifo_dropped"));
  return out;
}

}  // namespace lvsd::cli
