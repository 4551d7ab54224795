// The --check-config report: exact text for pools, sorry servers, VRRP and sync groups.
#include <gtest/gtest.h>

#include "lvsd/config/config.hpp"
#include "lvsd/daemon/check_report.hpp"
#include "../config/load_helpers.hpp"

namespace lvsd::daemon {
namespace {

model::Desired load(const std::string& text) { return config::test::load_valid(text, "t.toml"); }

TEST(CheckReport, PoolsInIpvsadmLayoutWithChecks) {
  const auto d = load(R"(
[[virtual_server]]
address = "192.0.2.10:80"
scheduler = "sh"
scheduler_flags = ["sh-port"]
persistence_timeout = 300
persistence_netmask = "255.255.255.0"
sorry_server = "10.0.0.99:80"
  [[virtual_server.check]]
  type = "http"
  path = ["/", "/health"]
  status = ["200-299"]
  [[virtual_server.real_server]]
  address = "10.0.0.[11-12]:8080"
  weight = 3

[[virtual_server]]
fwmark = 7
family = "inet6"
forward = "dr"
one_packet = true
  [[virtual_server.real_server]]
  address = "2001:db8::11"
)");
  EXPECT_EQ(check_report("t.toml", d),
            "t.toml: configuration is valid: 2 virtual servers, 3 real servers, 0 VRRP instances\n"
            "\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight Checks\n"
            "TCP  192.0.2.10:80 sh (sh-port) persistent 300 mask /24\n"
            "  -> 10.0.0.11:8080               Masq    3      http GET /=200-299 /health=200-299 every 3s rise 2 fall 3\n"
            "  -> 10.0.0.12:8080               Masq    3      http GET /=200-299 /health=200-299 every 3s rise 2 fall 3\n"
            "  => 10.0.0.99:80                 Masq    1      none (always up)\n"
            "FWM  7 IPv6 wlc ops\n"
            "  -> [2001:db8::11]:0             Route   1      none (always up)\n");
}

TEST(CheckReport, VrrpInstancesTrackersAndSyncGroups) {
  const auto d = load(R"(
[[vrrp_instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = 150
advert_int = "100ms"
state = "master"
virtual_ipaddress = ["192.0.2.10/24", "192.0.2.11/24"]
track_interface = ["eth1"]
track_ping = [{ address = "192.0.2.1", weight = -20 }]
track_http = [{ url = "http://127.0.0.1:8080/health" }]

[[vrrp_instance]]
name = "VI_2"
interface = "eth1"
vrid = 52
version = 2
advert_int = 2
virtual_ipaddress = ["10.0.0.1/24"]
track_script = [{ command = "pgrep haproxy", weight = 10 }]

[[vrrp_sync_group]]
name = "g"
instances = ["VI_1", "VI_2"]
)");
  EXPECT_EQ(check_report("t.toml", d),
            "t.toml: configuration is valid: 0 virtual servers, 0 real servers, 2 VRRP instances\n"
            "\n"
            "VRRP instance    Interface  VRID Prio Ver Advert State    Virtual addresses\n"
            "VI_1             eth0         51  150   3  100ms master   192.0.2.10/24 192.0.2.11/24\n"
            "  tracks interface eth1 (fault)\n"
            "  tracks icmp 192.0.2.1 (weight -20)\n"
            "  tracks http 127.0.0.1:8080 (fault)\n"
            "VI_2             eth1         52  100   2     2s backup   10.0.0.1/24\n"
            "  tracks script pgrep haproxy (weight +10)\n"
            "sync group g: VI_1, VI_2\n");
}

}  // namespace
}  // namespace lvsd::daemon
