// Virtual servers and their real servers, as the operator declared them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::model {

enum class Protocol : std::uint8_t { Tcp, Udp, Sctp };

enum class Scheduler : std::uint8_t { Rr, Wrr, Lc, Wlc, Lblc, Lblcr, Dh, Sh, Sed, Nq, Fo, Ovf, Mh };

// The scheduler flags ipvsadm knows; sh-* go with sh, mh-* with mh.
struct SchedulerFlags {
  bool sh_fallback = false;
  bool sh_port = false;
  bool mh_fallback = false;
  bool mh_port = false;
  bool operator==(const SchedulerFlags&) const = default;
  auto fields() const { return std::tie(sh_fallback, sh_port, mh_fallback, mh_port); }
};

struct Persistence {
  std::chrono::seconds timeout{300};
  std::uint8_t prefix_length = 32;  // netmask as a prefix; 32 (IPv4) or 128 (IPv6): per client
  std::string engine;              // persistence engine, e.g. "sip"; empty: none
  bool operator==(const Persistence&) const = default;
  auto fields() const { return std::tie(timeout, prefix_length, engine); }
};

enum class ForwardMethod : std::uint8_t { Nat, Dr, Tun };
enum class TunnelType : std::uint8_t { Ipip, Gue, Gre };
enum class TunnelChecksum : std::uint8_t { NoCsum, Csum, RemCsum };

struct Forwarding {
  ForwardMethod method = ForwardMethod::Nat;
  TunnelType tunnel_type = TunnelType::Ipip;       // tun only
  std::uint16_t tunnel_port = 0;                   // gue only
  TunnelChecksum tunnel_checksum = TunnelChecksum::NoCsum;  // gue and gre
  bool operator==(const Forwarding&) const = default;
  auto fields() const { return std::tie(method, tunnel_type, tunnel_port, tunnel_checksum); }
};

struct RealServer {
  Endpoint endpoint;
  std::uint32_t weight = 1;
  Forwarding forwarding;
  std::uint32_t upper_threshold = 0;  // 0: no limit
  std::uint32_t lower_threshold = 0;
  std::vector<CheckSpec> checks;  // empty: always healthy
  bool operator==(const RealServer&) const = default;
  auto fields() const {
    return std::tie(endpoint, weight, forwarding, upper_threshold, lower_threshold, checks);
  }
};

// What identifies a service in the kernel: protocol + address + port, or a firewall mark.
struct ServiceKey {
  Family family = Family::V4;
  Protocol protocol = Protocol::Tcp;
  Endpoint endpoint;       // unset for fwmark services
  std::uint32_t fwmark = 0;  // non-zero: a fwmark service

  bool is_fwmark() const { return fwmark != 0; }
  std::string to_string() const;  // "TCP 192.0.2.10:80", "FWM 7", "FWM 7 IPv6"
  auto operator<=>(const ServiceKey&) const = default;
  auto fields() const { return std::tie(family, protocol, endpoint, fwmark); }
};

// Minimum live weight for the service to count as up (keepalived's quorum), with commands
// run when it is gained and lost.
struct Quorum {
  std::uint32_t minimum = 1;
  std::uint32_t hysteresis = 0;
  std::string up_command;
  std::string down_command;
  bool operator==(const Quorum&) const = default;
  auto fields() const { return std::tie(minimum, hysteresis, up_command, down_command); }
};

enum class InitialHealth : std::uint8_t { Up, Down };

struct VirtualServer {
  std::string name;  // for logs and lvsctl; defaults to the key's text
  ServiceKey key;
  Scheduler scheduler = Scheduler::Wlc;
  SchedulerFlags scheduler_flags;
  bool one_packet = false;
  std::optional<Persistence> persistence;
  std::vector<RealServer> real_servers;
  std::optional<RealServer> sorry_server;  // in the table while no real server is healthy
  Quorum quorum;
  bool inhibit_on_failure = false;  // a failed server keeps its entry with weight 0
  InitialHealth initial_health = InitialHealth::Up;

  bool operator==(const VirtualServer&) const = default;
  auto fields() const {
    return std::tie(name, key, scheduler, scheduler_flags, one_packet, persistence, real_servers,
                    sorry_server, quorum, inhibit_on_failure, initial_health);
  }
};

}  // namespace lvsd::model
