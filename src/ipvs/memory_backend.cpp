// The in-memory IPVS table and the kernel's rules for each request.
#include "lvsd/ipvs/memory_backend.hpp"

#include <algorithm>
#include <array>

namespace lvsd::ipvs {
namespace {
using boost::system::errc::make_error_code;
namespace errc = boost::system::errc;

// The kernel's checks on a destination's settings (ip_vs_ctl.c: weight >= 0, l <= u).
boost::system::error_code check_destination(const Destination& d) {
  if (d.weight > static_cast<std::uint32_t>(INT32_MAX)) return make_error_code(errc::invalid_argument);
  if (d.upper_threshold != 0 && d.lower_threshold > d.upper_threshold)
    return make_error_code(errc::invalid_argument);
  if (d.forward == Forward::Local || d.forward == Forward::Bypass) return make_error_code(errc::invalid_argument);
  return {};
}
}  // namespace

bool known_scheduler(std::string_view name) {
  static constexpr std::array<std::string_view, 13> kKnown{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh",
                                                           "sh", "sed", "nq", "fo", "ovf", "mh"};
  return std::find(kKnown.begin(), kKnown.end(), name) != kKnown.end();
}

boost::system::result<Table> MemoryBackend::dump() { return table_; }
boost::system::result<Settings> MemoryBackend::dump_settings() {
  // The kernel lists the master first.
  Settings s = settings_;
  std::stable_sort(s.daemons.begin(), s.daemons.end(),
                   [](const SyncDaemon& a, const SyncDaemon& b) { return a.state < b.state; });
  return s;
}

SyncDaemon* MemoryBackend::running(SyncState state) {
  for (auto& d : settings_.daemons)
    if (d.state == state) return &d;
  return nullptr;
}

ServiceEntry* MemoryBackend::find(const ServiceKey& key) {
  auto it = std::find_if(table_.begin(), table_.end(), [&](const ServiceEntry& e) {
    if (key.is_fwmark() || e.service.key.is_fwmark())
      return e.service.key.fwmark == key.fwmark && e.service.key.family == key.family;
    return e.service.key == key;
  });
  return it == table_.end() ? nullptr : &*it;
}

std::vector<Failure> MemoryBackend::apply(std::span<const Operation> operations) {
  ++calls_;
  std::vector<Failure> failures;
  for (std::size_t i = 0; i < operations.size(); ++i) {
    ++operations_;
    if (auto ec = apply_one(operations[i])) failures.push_back({i, ec});
  }
  return failures;
}

boost::system::error_code MemoryBackend::apply_one(const Operation& op) {
  return std::visit(
      [&](const auto& o) -> boost::system::error_code {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, AddService> || std::is_same_v<T, EditService>) {
          const Service& s = o.service;
          ServiceEntry* e = find(s.key);
          if (std::is_same_v<T, AddService> && e) return make_error_code(errc::file_exists);
          if (std::is_same_v<T, EditService> && !e) return make_error_code(errc::no_such_process);
          if (!known_scheduler(s.scheduler)) return make_error_code(errc::no_such_file_or_directory);
          if (!s.key.is_fwmark() && s.key.endpoint.port == 0 && !(s.flags & kFlagPersistent))
            return make_error_code(errc::invalid_argument);
          if (s.flags & ~kSettableFlags) return make_error_code(errc::invalid_argument);
          Service stored = s;
          stored.stats = {};
          if (e) {
            stored.stats = e->service.stats;
            e->service = stored;
          } else {
            table_.push_back({stored, {}});
          }
          return {};
        } else if constexpr (std::is_same_v<T, SetTimeouts>) {
          // ip_vs_set_timeout: a zero leaves the value as it is.
          if (o.timeouts.tcp) settings_.timeouts.tcp = o.timeouts.tcp;
          if (o.timeouts.tcp_fin) settings_.timeouts.tcp_fin = o.timeouts.tcp_fin;
          if (o.timeouts.udp) settings_.timeouts.udp = o.timeouts.udp;
          return {};
        } else if constexpr (std::is_same_v<T, StartDaemon>) {
          if (o.daemon.interface.empty() || o.daemon.interface.size() >= 16) return make_error_code(errc::invalid_argument);
          if (o.daemon.state != SyncState::Master && o.daemon.state != SyncState::Backup)
            return make_error_code(errc::invalid_argument);
          if (running(o.daemon.state)) return make_error_code(errc::file_exists);
          // What the kernel reports afterwards: its defaults in place of what was left to it.
          SyncDaemon d = o.daemon;
          if (!d.group) d.group = model::IpAddress::v4(0xe0000051);  // 224.0.0.81
          // ip_vs_sync.c clamps max_len to [1024 for a backup, 1 for a master; 65535 less the
          // headers], and for 0 takes an MTU of 1500 less the headers.
          const unsigned headers = d.group->is_v4() ? 28 : 48;
          const unsigned least = d.state == SyncState::Backup ? 1024 : 1;
          d.max_len = static_cast<std::uint16_t>(d.max_len == 0 ? 1500 - headers
                                                                : std::clamp<unsigned>(d.max_len, least, 65535 - headers));
          if (d.port == 0) d.port = 8848;
          if (d.ttl == 0) d.ttl = 1;
          settings_.daemons.push_back(d);
          return {};
        } else if constexpr (std::is_same_v<T, StopDaemon>) {
          auto it = running(o.state);
          if (!it) return make_error_code(errc::no_such_process);
          settings_.daemons.erase(settings_.daemons.begin() + (it - settings_.daemons.data()));
          return {};
        } else if constexpr (std::is_same_v<T, DeleteService>) {
          ServiceEntry* e = find(o.key);
          if (!e) return make_error_code(errc::no_such_process);
          table_.erase(table_.begin() + (e - table_.data()));
          return {};
        } else {
          ServiceEntry* e = find(o.service);
          if (!e) return make_error_code(errc::no_such_process);
          auto& dests = e->destinations;
          const model::Endpoint& at = [&]() -> const model::Endpoint& {
            if constexpr (std::is_same_v<T, DeleteDestination>) return o.endpoint;
            else return o.destination.endpoint;
          }();
          auto it = std::find_if(dests.begin(), dests.end(), [&](const Destination& d) { return d.endpoint == at; });
          if constexpr (std::is_same_v<T, AddDestination>) {
            if (it != dests.end()) return make_error_code(errc::file_exists);
            if (auto ec = check_destination(o.destination)) return ec;
            Destination d = o.destination;
            d.active_conns = d.inactive_conns = d.persistent_conns = 0;
            d.stats = {};
            dests.push_back(d);
          } else if constexpr (std::is_same_v<T, EditDestination>) {
            if (it == dests.end()) return make_error_code(errc::no_such_file_or_directory);
            if (auto ec = check_destination(o.destination)) return ec;
            Destination d = o.destination;
            d.active_conns = it->active_conns;
            d.inactive_conns = it->inactive_conns;
            d.persistent_conns = it->persistent_conns;
            d.stats = it->stats;
            *it = d;
          } else {
            if (it == dests.end()) return make_error_code(errc::no_such_file_or_directory);
            dests.erase(it);
          }
          return {};
        }
      },
      op);
}

}  // namespace lvsd::ipvs
