// The kernel's IPVS table as values: services, their destinations, counters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/pool.hpp"

namespace lvsd::ipvs {

using model::ServiceKey;

// Service flags the kernel accepts from user space (IP_VS_SVC_F_*); HASHED is the kernel's own.
inline constexpr std::uint32_t kFlagPersistent = 0x0001;
inline constexpr std::uint32_t kFlagHashed = 0x0002;
inline constexpr std::uint32_t kFlagOnePacket = 0x0004;
inline constexpr std::uint32_t kFlagSched1 = 0x0008;  // sh-fallback, mh-fallback
inline constexpr std::uint32_t kFlagSched2 = 0x0010;  // sh-port, mh-port
inline constexpr std::uint32_t kFlagSched3 = 0x0020;
inline constexpr std::uint32_t kSettableFlags =
    kFlagPersistent | kFlagOnePacket | kFlagSched1 | kFlagSched2 | kFlagSched3;

// Forwarding method as the kernel reports it (IP_VS_CONN_F_* & FWD_MASK): Local and Bypass
// are set by the kernel, never by lvsd.
enum class Forward : std::uint8_t { Masq = 0, Local = 1, Tunnel = 2, Route = 3, Bypass = 4 };

struct Stats {
  std::uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
  std::uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
  bool operator==(const Stats&) const = default;
};

struct Service {
  ServiceKey key;
  std::string scheduler = "wlc";
  std::uint32_t flags = 0;        // settable IP_VS_SVC_F_* bits
  std::uint32_t timeout = 0;      // persistence timeout in seconds
  std::uint8_t prefix_length = 32;  // persistence netmask as a prefix (IPv4 /32, IPv6 /128)
  std::string pe_name;            // persistence engine, "" for none
  Stats stats;                    // dumps only; never compared

  // What a user can set: the fields an edit changes.
  auto settable() const { return std::tie(scheduler, flags, timeout, prefix_length, pe_name); }
  bool same_settings(const Service& o) const { return settable() == o.settable(); }
  bool operator==(const Service&) const = default;
};

struct Destination {
  model::Endpoint endpoint;  // its family may differ from the service's (tunnels)
  Forward forward = Forward::Masq;
  std::uint32_t weight = 1;
  std::uint32_t upper_threshold = 0;
  std::uint32_t lower_threshold = 0;
  model::TunnelType tunnel_type = model::TunnelType::Ipip;
  std::uint16_t tunnel_port = 0;
  model::TunnelChecksum tunnel_checksum = model::TunnelChecksum::NoCsum;
  // dumps only; never compared
  std::uint32_t active_conns = 0;
  std::uint32_t inactive_conns = 0;
  std::uint32_t persistent_conns = 0;
  Stats stats;

  auto settable() const {
    return std::tie(forward, weight, upper_threshold, lower_threshold, tunnel_type, tunnel_port,
                    tunnel_checksum);
  }
  bool same_settings(const Destination& o) const { return settable() == o.settable(); }
  bool operator==(const Destination&) const = default;
};

struct ServiceEntry {
  Service service;
  std::vector<Destination> destinations;
  bool operator==(const ServiceEntry&) const = default;
};

// Services in the kernel's dump order (or, for a goal, the config's order).
using Table = std::vector<ServiceEntry>;

// IPVS_CMD_GET_INFO: the module's version (0x010201 is 1.2.1) and connection table size.
struct Info {
  std::uint32_t version = 0;
  std::uint32_t connection_table_size = 0;
  bool operator==(const Info&) const = default;
};

// IPVS_CMD_GET_CONFIG: connection timeouts in seconds.
struct Timeouts {
  std::uint32_t tcp = 0;
  std::uint32_t tcp_fin = 0;
  std::uint32_t udp = 0;
  bool operator==(const Timeouts&) const = default;
};

// A connection-synchronisation daemon (IPVS_CMD_NEW_DAEMON / GET_DAEMON). The kernel runs at
// most one master (sends the connection table) and one backup (receives it).
enum class SyncState : std::uint8_t { Master = 1, Backup = 2 };  // IP_VS_STATE_*

struct SyncDaemon {
  SyncState state = SyncState::Master;
  std::string interface;                   // the multicast interface
  std::uint32_t sync_id = 0;
  // Zero or unset: the kernel's default, which a dump reports as the value it chose
  // (maxlen from the interface's MTU, group 224.0.0.81, port 8848, TTL 1).
  std::uint16_t max_len = 0;
  std::optional<model::IpAddress> group;
  std::uint16_t port = 0;
  std::uint8_t ttl = 0;

  // Whether a running daemon (from a dump) is what this one asks for: the fields this one
  // leaves to the kernel match anything, as do those the kernel does not report.
  bool satisfied_by(const SyncDaemon& running) const;
  bool operator==(const SyncDaemon&) const = default;
};

// The settings of the IPVS module beside its table.
struct Settings {
  Timeouts timeouts;                 // 0: leave the kernel's value
  std::vector<SyncDaemon> daemons;  // at most one per state
  bool operator==(const Settings&) const = default;
};

// The kernel form of a declared virtual server, every real server at its declared weight.
ServiceEntry to_kernel(const model::VirtualServer& vs);
Service to_kernel_service(const model::VirtualServer& vs);
Destination to_kernel_destination(const model::RealServer& rs);

}  // namespace lvsd::ipvs
