// lvsctl: the operator's command line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "lvsd/control/client.hpp"
#include "lvsd/ipvs/netlink_backend.hpp"
#include "lvsd/ipvs/render.hpp"
#include "probe.hpp"
#include "status.hpp"

namespace {

using lvsd::ipvs::ListView;

// -t/-u/--sctp-service ADDR:PORT or -f MARK [-6] → the key ipvsadm's filter names.
std::optional<lvsd::model::ServiceKey> service_filter(const std::string& tcp, const std::string& udp,
                                                      const std::string& sctp, std::uint32_t fwmark, bool ipv6,
                                                      std::string& error) {
  lvsd::model::ServiceKey key;
  const std::string* text = nullptr;
  if (!tcp.empty()) text = &tcp, key.protocol = lvsd::model::Protocol::Tcp;
  if (!udp.empty()) text = &udp, key.protocol = lvsd::model::Protocol::Udp;
  if (!sctp.empty()) text = &sctp, key.protocol = lvsd::model::Protocol::Sctp;
  if (fwmark != 0) {
    key.fwmark = fwmark;
    key.family = ipv6 ? lvsd::model::Family::V6 : lvsd::model::Family::V4;
    return key;
  }
  if (!text) return std::nullopt;
  auto ep = lvsd::model::Endpoint::parse(*text, true);
  if (!ep) {
    error = fmt::format("\"{}\" is not ADDR:PORT (\"192.0.2.10:80\", \"[2001:db8::10]:80\")", *text);
    return std::nullopt;
  }
  key.endpoint = *ep;
  key.family = ep->address.family();
  return key;
}

// Opens the kernel's IPVS table, or says in one line why not.
std::unique_ptr<lvsd::ipvs::NetlinkBackend> open_kernel() {
  auto kernel = lvsd::ipvs::NetlinkBackend::open();
  if (kernel) return std::move(*kernel);
  fmt::print(stderr, "lvsctl: {}\n", lvsd::ipvs::open_error_text(kernel.error()));
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lvsctl: inspect and steer an LVS director run by lvsd"};
  app.set_version_flag("-V,--version", "lvsctl " LVSD_VERSION);
  app.require_subcommand(1);

  // list: ipvsadm -L's listing options, read from the kernel (works with or without lvsd).
  auto* list = app.add_subcommand("list", "Print the kernel's IPVS table as ipvsadm -Ln does");
  bool numeric = false, stats = false, rate = false, thresholds = false, persistent = false, tun_info = false;
  bool exact = false, sort = false, nosort = false, ipv6 = false;
  std::string tcp, udp, sctp;
  std::uint32_t fwmark = 0;
  list->add_flag("-n,--numeric", numeric, "Addresses and ports as numbers (always the case)");
  list->add_flag("--stats", stats, "Counters: connections, packets, bytes");
  list->add_flag("--rate", rate, "Rates: connections, packets and bytes per second");
  list->add_flag("--thresholds", thresholds, "Upper and lower connection thresholds");
  list->add_flag("--persistent-conn", persistent, "Persistent connections");
  list->add_flag("--tun-info", tun_info, "Tunnel type, port and checksum");
  list->add_flag("--exact", exact, "Counters in full, without K/M/G scaling");
  list->add_flag("--sort", sort, "Sort services and real servers (the default)");
  list->add_flag("--nosort", nosort, "The kernel's order");
  list->add_option("-t,--tcp-service", tcp, "Only this TCP service")->type_name("ADDR:PORT");
  list->add_option("-u,--udp-service", udp, "Only this UDP service")->type_name("ADDR:PORT");
  list->add_option("--sctp-service", sctp, "Only this SCTP service")->type_name("ADDR:PORT");
  list->add_option("-f,--fwmark-service", fwmark, "Only this firewall-mark service")->type_name("MARK");
  list->add_flag("-6,--ipv6", ipv6, "With -f: the IPv6 fwmark service");
  bool timeout = false, daemon = false;
  list->add_flag("--timeout", timeout, "The TCP, TCP FIN and UDP connection timeouts instead of the table");
  list->add_flag("--daemon", daemon, "The running sync daemons instead of the table");

  // probe: one check now, as lvsd would run it (and genhash's digests for an HTTP body).
  auto* probe = app.add_subcommand("probe", "Run one check now against a URL, tcp://host:port or icmp://host");
  std::string probe_target;
  std::uint32_t probe_timeout_ms = 3000;
  probe->add_option("target", probe_target, "http[s]://host[:port]/path, tcp://host:port or icmp://host")->required();
  probe->add_option("--timeout", probe_timeout_ms, "Milliseconds before the attempt is abandoned (default 3000)")
      ->check(CLI::Range(1u, 3600000u));
  std::vector<std::string> probe_status;
  std::string probe_digest;
  probe->add_option("--status", probe_status, "HTTP status codes or ranges that mean up (default 200): 200,300-399")
      ->delimiter(',');
  probe->add_option("--digest", probe_digest, "The body's expected MD5 (32 hex digits) or sha256:HEX");

  auto* save = app.add_subcommand("save", "Print the table as ipvsadm -S -n does (ipvsadm -R restores it)");
  bool save_numeric = false;
  save->add_flag("-n,--numeric", save_numeric, "Addresses and ports as numbers (always the case)");

  // status: what the VRRP process says of its instances, through its control socket.
  auto* status = app.add_subcommand("status", "Print the VRRP instances' state, trackers and conflicts");
  std::string status_socket = "/run/lvsd/lvsd.sock";
  bool status_json = false;
  status
      ->add_option("-s,--socket", status_socket,
                   "The control_socket of lvsd.toml (default /run/lvsd/lvsd.sock); the VRRP process's is beside it")
      ->type_name("PATH");
  status->add_flag("--json", status_json, "The reply as it came, one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (probe->parsed()) {
    std::string error;
    auto target = lvsd::cli::parse_probe_target(probe_target, error);
    if (!target) {
      fmt::print(stderr, "lvsctl: {}\n", error);
      return 2;
    }
    const bool http = target->type == lvsd::model::CheckType::Http || target->type == lvsd::model::CheckType::Https;
    if (!http && (!probe_status.empty() || !probe_digest.empty())) {
      fmt::print(stderr, "lvsctl: --status and --digest are for http and https targets\n");
      return 2;
    }
    if (!probe_status.empty()) target->status.clear();
    for (const auto& text : probe_status) {
      const auto range = lvsd::model::parse_status_range(text);
      if (!range) {
        fmt::print(stderr, "lvsctl: \"{}\" is not a status code (100 to 599) or range (200-299)\n", text);
        return 2;
      }
      target->status.push_back(*range);
    }
    if (!probe_digest.empty() && !(target->digest = lvsd::model::parse_digest(probe_digest))) {
      fmt::print(stderr, "lvsctl: \"{}\" is not a digest: 32 hex digits (MD5) or sha256: and 64\n", probe_digest);
      return 2;
    }
    return lvsd::cli::run_probe(*target, lvsd::model::Millis{probe_timeout_ms});
  }
  if (status->parsed()) {
    const auto reply = lvsd::control::request(lvsd::control::vrrp_socket_path(status_socket),
                                              nlohmann::json{{"command", "status"}}, std::chrono::seconds(5));
    if (!reply) {
      fmt::print(stderr, "lvsctl: {}\n", reply.error());
      return 1;
    }
    if (status_json) {
      fmt::print("{}\n", reply->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return 0;
    }
    try {
      fmt::print("{}", lvsd::cli::render_vrrp_status(*reply));
    } catch (const nlohmann::json::exception& e) {
      fmt::print(stderr, "lvsctl: the VRRP process's reply is not what this lvsctl reads: {}\n", e.what());
      return 1;
    }
    return 0;
  }
  if (list->parsed()) {
    lvsd::ipvs::ListOptions options;
    // ipvsadm shows the first of these that was given, in this order.
    options.view = stats ? ListView::Stats
                   : rate ? ListView::Rate
                   : thresholds ? ListView::Thresholds
                   : persistent ? ListView::PersistentConn
                   : tun_info ? ListView::TunnelInfo
                              : ListView::Plain;
    options.exact = exact;
    options.nosort = nosort && !sort;
    std::string error;
    options.service = service_filter(tcp, udp, sctp, fwmark, ipv6, error);
    if (!error.empty()) {
      fmt::print(stderr, "lvsctl: {}\n", error);
      return 2;
    }
    auto kernel = open_kernel();
    if (!kernel) return 1;
    if (timeout && daemon) {
      fmt::print(stderr, "lvsctl: --timeout and --daemon cannot be listed together (as with ipvsadm)\n");
      return 2;
    }
    if ((timeout || daemon) && (stats || rate || thresholds || persistent || tun_info || exact || !tcp.empty() ||
                                !udp.empty() || !sctp.empty() || fwmark != 0)) {
      fmt::print(stderr, "lvsctl: --{} lists no services, so it takes no listing option or service\n",
                 timeout ? "timeout" : "daemon");
      return 2;
    }
    if (timeout || daemon) {
      // As ipvsadm: either replaces the table.
      auto settings = kernel->dump_settings();
      if (!settings) {
        fmt::print(stderr, "lvsctl: cannot read the IPVS settings: {}\n", settings.error().message());
        return 1;
      }
      fmt::print("{}", timeout ? lvsd::ipvs::render_timeouts(settings->timeouts)
                               : lvsd::ipvs::render_daemons(settings->daemons));
      return 0;
    }
    auto info = kernel->info();
    auto table = kernel->dump();
    if (!info || !table) {
      fmt::print(stderr, "lvsctl: cannot read the IPVS table: {}\n",
                 (!info ? info.error() : table.error()).message());
      return 1;
    }
    auto text = lvsd::ipvs::render_list(*info, *table, options);
    if (!text) {
      fmt::print(stderr, "{}\n", lvsd::ipvs::kNoSuchService);
      return 1;
    }
    fmt::print("{}", *text);
    return 0;
  }
  auto kernel = open_kernel();
  if (!kernel) return 1;
  auto table = kernel->dump();
  if (!table) {
    fmt::print(stderr, "lvsctl: cannot read the IPVS table: {}\n", table.error().message());
    return 1;
  }
  fmt::print("{}", lvsd::ipvs::render_save(*table));
  return 0;
}
