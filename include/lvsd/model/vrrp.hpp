// VRRP instances, their virtual addresses and trackers, and sync groups.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::model {

enum class AddressScope : std::uint8_t { Global, Site, Link, Host };

struct VirtualIp {
  Prefix prefix;          // address and prefix length
  std::string device;     // empty: the instance's interface
  std::string label;      // IPv4 label such as eth0:vip
  AddressScope scope = AddressScope::Global;
  bool operator==(const VirtualIp&) const = default;
  auto fields() const { return std::tie(prefix, device, label, scope); }
};

struct VirtualRoute {
  Prefix destination;
  std::optional<IpAddress> via;
  std::string device;  // empty: the instance's interface
  std::uint32_t metric = 0;
  std::uint32_t table = 0;  // 0: main
  bool operator==(const VirtualRoute&) const = default;
  auto fields() const { return std::tie(destination, via, device, metric, table); }
};

// Commands run on state changes (as the script user) with the instance name as argument.
struct Notify {
  std::string master;
  std::string backup;
  std::string fault;
  std::string stop;
  std::string conflict;
  std::string any;  // run on every change with the new state as argument
  bool operator==(const Notify&) const = default;
  auto fields() const { return std::tie(master, backup, fault, stop, conflict, any); }
};

// Link state of an interface, from rtnetlink events.
struct TrackInterface {
  std::string name;
  bool operator==(const TrackInterface&) const = default;
  auto fields() const { return std::tie(name); }
};

// A probe with rise/fall: ping (icmp), tcp, http or https to a target.
struct TrackProbe {
  Endpoint target;
  CheckSpec check;
  bool operator==(const TrackProbe&) const = default;
  auto fields() const { return std::tie(target, check); }
};

// A number in a file, multiplied by the tracker's weight (0 with weight 0: fault).
struct TrackFile {
  std::string path;
  bool operator==(const TrackFile&) const = default;
  auto fields() const { return std::tie(path); }
};

struct TrackScript {
  ScriptCheck script;
  CheckTiming timing;
  bool operator==(const TrackScript&) const = default;
  auto fields() const { return std::tie(script, timing); }
};

// weight 0: a failure puts the instance in FAULT; otherwise a failure adds `weight`
// (negative) or success adds it (positive) to the priority.
struct Tracker {
  std::variant<TrackInterface, TrackProbe, TrackFile, TrackScript> what;
  std::int32_t weight = 0;
  bool operator==(const Tracker&) const = default;
  auto fields() const { return std::tie(what, weight); }
};

enum class VrrpState : std::uint8_t { Backup, Master };

struct VrrpInstance {
  std::string name;
  std::string interface;
  std::uint8_t vrid = 0;
  std::uint8_t priority = 100;
  std::uint8_t version = 3;
  Family family = Family::V4;  // of its virtual addresses
  Millis advert_interval{1000};
  VrrpState initial_state = VrrpState::Backup;
  bool preempt = true;
  Millis preempt_delay{0};
  std::string auth_pass;  // VRRPv2 simple password; empty: none
  std::vector<VirtualIp> virtual_ips;
  std::vector<VirtualRoute> virtual_routes;
  std::optional<IpAddress> unicast_source;
  std::vector<IpAddress> unicast_peers;  // empty: multicast
  bool use_vmac = false;
  std::string vmac_name;  // empty: vrrp.<vrid>
  Millis garp_master_delay{5000};
  std::uint32_t garp_master_repeat = 5;
  Millis garp_master_refresh{0};  // 0: no refresh
  Millis conflict_probe_interval{1000};
  bool resolve_conflict = true;
  Notify notify;
  std::vector<Tracker> trackers;

  bool operator==(const VrrpInstance&) const = default;
  auto fields() const {
    return std::tie(name, interface, vrid, priority, version, family, advert_interval,
                    initial_state, preempt, preempt_delay, auth_pass, virtual_ips,
                    virtual_routes, unicast_source, unicast_peers, use_vmac, vmac_name,
                    garp_master_delay, garp_master_repeat, garp_master_refresh,
                    conflict_probe_interval, resolve_conflict, notify, trackers);
  }
};

struct SyncGroup {
  std::string name;
  std::vector<std::string> instances;
  Notify notify;
  bool operator==(const SyncGroup&) const = default;
  auto fields() const { return std::tie(name, instances, notify); }
};

}  // namespace lvsd::model
