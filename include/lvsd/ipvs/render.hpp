// ipvsadm-compatible text of the kernel table: `ipvsadm -L -n [...]` and `ipvsadm -S -n`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lvsd/ipvs/table.hpp"

namespace lvsd::ipvs {

// The column set of a listing. ipvsadm accepts several of --stats, --rate, --thresholds,
// --persistent-conn and --tun-info together and then shows the first of them in that order
// (print_title and print_service_entry test the format bits in that order); a caller that
// takes ipvsadm's options picks the first one given in that order.
enum class ListView : std::uint8_t {
  Plain,           // Forward Weight ActiveConn InActConn
  Stats,           // --stats: Conns InPkts OutPkts InBytes OutBytes
  Rate,            // --rate: CPS InPPS OutPPS InBPS OutBPS
  Thresholds,      // --thresholds: Uthreshold Lthreshold ActiveConn InActConn
  PersistentConn,  // --persistent-conn: Weight PersistConn ActiveConn InActConn
  TunnelInfo,      // --tun-info: Forward TunnelInfo Weight ActiveConn InActConn
};

// The options of `ipvsadm -L` that change what it prints. There is no `numeric`: the text is
// always -n's, since names would need DNS and /etc/services, which a pure renderer does not
// reach.
struct ListOptions {
  ListView view = ListView::Plain;
  bool exact = false;   // --exact: counters in full, no K/M/G/T scaling
  bool nosort = false;  // --nosort: the kernel's order. (--sort is ipvsadm's default, a no-op.)
  // -t/-u/--sctp-service ADDR:PORT or -f MARK [-6]: list only that service. A fwmark key
  // matches on mark and family alone, as the kernel's lookup does.
  std::optional<ServiceKey> service;
};

// What ipvsadm prints on stderr (and exits 1) when the service named by -t/-u/-f is absent.
inline constexpr std::string_view kNoSuchService = "No such service";

// `ipvsadm -L -n` with the given options; nullopt when options.service names no service in
// the table (ipvsadm then prints nothing on stdout).
std::optional<std::string> render_list(const Info& info, const Table& table,
                                       const ListOptions& options = {});

// `ipvsadm -S -n`: the -A/-a lines that rebuild the table.
std::string render_save(const Table& table);

// `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): 900 120 300".
std::string render_timeouts(const Timeouts& timeouts);

// `ipvsadm -L --daemon`: one line per running sync daemon, master first.
std::string render_daemons(const std::vector<SyncDaemon>& daemons);

}  // namespace lvsd::ipvs
