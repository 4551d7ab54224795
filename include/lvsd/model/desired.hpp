// The whole declared state: what the config says, before health is applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lvsd/model/pool.hpp"
#include "lvsd/model/vrrp.hpp"

namespace lvsd::model {

struct Globals {
  std::string router_id;               // empty: the host name
  std::string script_user = "nobody";  // scripts never run as root unless this says so
  std::string control_socket = "/run/lvsd/lvsd.sock";
  std::string control_group;  // empty: root only
  std::string log_level = "info";
  bool operator==(const Globals&) const = default;
  auto fields() const {
    return std::tie(router_id, script_user, control_socket, control_group, log_level);
  }
};

enum class Ownership : std::uint8_t { Owned, Exclusive };
enum class OnExit : std::uint8_t { Keep, Remove };

struct IpvsTimeouts {
  std::chrono::seconds tcp{0};  // 0: leave the kernel's value
  std::chrono::seconds tcp_fin{0};
  std::chrono::seconds udp{0};
  bool operator==(const IpvsTimeouts&) const = default;
  auto fields() const { return std::tie(tcp, tcp_fin, udp); }
};

enum class SyncRole : std::uint8_t { Master, Backup };

struct SyncDaemon {
  SyncRole role = SyncRole::Master;
  std::string interface;
  std::uint8_t sync_id = 0;
  // 0 or unset: the kernel's choice (maxlen from the MTU, 224.0.0.81, port 8848, TTL 1).
  std::uint16_t max_len = 0;
  std::optional<IpAddress> group;
  std::uint16_t port = 0;
  std::uint8_t ttl = 0;
  bool operator==(const SyncDaemon&) const = default;
  auto fields() const { return std::tie(role, interface, sync_id, max_len, group, port, ttl); }
};

struct IpvsSettings {
  Ownership manage = Ownership::Owned;
  Millis reconcile_interval{5000};
  OnExit on_exit = OnExit::Keep;
  IpvsTimeouts timeouts;
  std::vector<SyncDaemon> sync_daemons;
  bool operator==(const IpvsSettings&) const = default;
  auto fields() const {
    return std::tie(manage, reconcile_interval, on_exit, timeouts, sync_daemons);
  }
};

struct VrrpSettings {
  std::string notify_fifo;  // empty: none
  bool operator==(const VrrpSettings&) const = default;
  auto fields() const { return std::tie(notify_fifo); }
};

struct Desired {
  Globals globals;
  IpvsSettings ipvs;
  std::vector<VirtualServer> virtual_servers;
  VrrpSettings vrrp;
  std::vector<VrrpInstance> vrrp_instances;
  std::vector<SyncGroup> sync_groups;

  bool operator==(const Desired&) const = default;
  auto fields() const {
    return std::tie(globals, ipvs, virtual_servers, vrrp, vrrp_instances, sync_groups);
  }
};

}  // namespace lvsd::model
