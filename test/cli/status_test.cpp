// lvsctl status's printer, fed what the VRRP process answers (daemon::vrrp_status_json of
// statuses built here): conflicts with and without a signature, FAULT with its reason,
// trackers, an instance not yet open, counters.
#include "../../src/cli/status.hpp"

#include <gtest/gtest.h>

#include "lvsd/daemon/vrrp_status.hpp"

namespace lvsd::cli {
namespace {

model::IpAddress ip(std::string_view text) { return *model::IpAddress::parse(text); }

vrrp::InstanceStatus master() {
  vrrp::InstanceStatus s{.name = "VI_1", .interface = "eth0", .vrid = 51, .state = vrrp::State::Master,
                         .priority = 200, .running = true};
  s.counters.adverts_sent = 1200;
  s.counters.adverts_received = 3;
  s.counters.became_master = 1;
  s.counters.dropped[static_cast<std::size_t>(vrrp::Drop::BadVrid)] = 7;
  s.counters.dropped[static_cast<std::size_t>(vrrp::Drop::BadAuth)] = 2;
  s.edge_counters.conflicts = 2;
  return s;
}

TEST(StatusPrinter, ConflictsWithAndWithoutASignature) {
  auto s = master();
  s.conflicts = {
      vrrp::Holder{.mac = {2, 0, 0, 0, 0, 2},
                   .vip = ip("10.9.0.100"),
                   .signature = vrrp::Signature{.vrid = 51, .priority = 100, .primary = ip("10.9.0.2")}},
      vrrp::Holder{.mac = {2, 0, 0, 0, 0, 9}, .vip = ip("10.9.0.100"), .unanswered = 2},
  };
  const auto reply = daemon::vrrp_status_json({s}, vrrp::NotifierCounters{.commands_run = 3, .fifo_lines = 4});
  EXPECT_EQ(render_vrrp_status(reply),
            "VI_1  interface eth0  VRID 51  MASTER  priority 200\n"
            "  conflict: 02:00:00:00:00:02 also answers for 10.9.0.100 (lvsd: VRID 51, priority 100, primary 10.9.0.2)\n"
            "  conflict: 02:00:00:00:00:09 also answers for 10.9.0.100; silent for 2 probe rounds: no lvsd signature; "
            "another director without lvsd, or a DR real server answering ARP for the VIP (the classic ARP problem: "
            "arp_ignore=1, arp_announce=2 on the real servers)\n"
            "  adverts sent 1200, received 3; dropped: authentication failed 2; other VRIDs' adverts 7; became master 1; "
            "conflicts seen 2, yielded 0\n"
            "\n"
            "notify commands run 3, failed 0; FIFO lines 4, dropped 0\n");
}

TEST(StatusPrinter, AFaultWithItsReasonTrackersAndAYield) {
  vrrp::InstanceStatus s{.name = "VI_2", .interface = "eth1", .vrid = 52, .state = vrrp::State::Fault,
                         .priority = 90, .fault = true,
                         .reason = "track_ping 10.0.0.1: timeout after 1 s", .running = true};
  s.trackers = {
      vrrp::TrackerReport{.name = "track_ping 10.0.0.1",
                          .status = {.up = false, .known = true, .reason = "timeout after 1 s"}},
      vrrp::TrackerReport{.name = "track_file /run/weight",
                          .status = {.up = true, .number = 5, .known = true, .reason = "value 5"}},
      vrrp::TrackerReport{.name = "track_interface eth2", .status = {}},
  };
  auto b = master();
  b.name = "VI_3";
  b.state = vrrp::State::Backup;
  b.yielded = true;
  b.edge_counters = {.send_errors = 1, .conflicts = 1, .conflict_yields = 1};
  b.counters = {};
  EXPECT_EQ(render_vrrp_status(daemon::vrrp_status_json({s, b}, {})),
            "VI_2  interface eth1  VRID 52  FAULT  priority 90\n"
            "  FAULT: track_ping 10.0.0.1: timeout after 1 s\n"
            "  trackers:\n"
            "    track_ping 10.0.0.1: down (timeout after 1 s)\n"
            "    track_file /run/weight: up, number 5 (value 5)\n"
            "    track_interface eth2: no result yet\n"
            "  adverts sent 0, received 0; became master 0; conflicts seen 0, yielded 0\n"
            "\n"
            "VI_3  interface eth0  VRID 51  BACKUP  priority 200\n"
            "  yielded: backup after losing a conflict for its VIPs; back to the election when the winner goes\n"
            "  adverts sent 0, received 0; became master 0; conflicts seen 1, yielded 1\n"
            "  errors: adverts not sent 1\n"
            "\n"
            "notify commands run 0, failed 0; FIFO lines 0, dropped 0\n");
}

TEST(StatusPrinter, AnInstanceNotYetOpenSaysWhy) {
  vrrp::InstanceStatus s{.name = "VI_4", .interface = "eth9", .vrid = 9, .priority = 100,
                         .reason = "VI_4: interface eth9: no such interface", .running = false};
  const auto text = render_vrrp_status(daemon::vrrp_status_json({s}, {}));
  EXPECT_EQ(text.substr(0, text.find("  adverts")),
            "VI_4  interface eth9  VRID 9  INIT  priority 100\n"
            "  not running: VI_4: interface eth9: no such interface\n");
}

TEST(StatusPrinter, NoInstances) {
  EXPECT_EQ(render_vrrp_status(daemon::vrrp_status_json({}, {})),
            "No VRRP instances in the configuration.\n"
            "\n"
            "notify commands run 0, failed 0; FIFO lines 0, dropped 0\n");
}

TEST(StatusJson, CarriesTheSignatureOrNull) {
  auto s = master();
  s.conflicts = {vrrp::Holder{.mac = {2, 0, 0, 0, 0, 9}, .vip = ip("10.9.0.100")}};
  const auto reply = daemon::vrrp_status_json({s}, {});
  const auto& i = reply.at("instances").at(0);
  EXPECT_EQ(i.at("state"), "MASTER");
  EXPECT_EQ(i.at("priority"), 200);
  EXPECT_TRUE(i.at("conflicts").at(0).at("signature").is_null());
  EXPECT_EQ(i.at("counters").at("dropped"), (nlohmann::json{{"authentication failed", 2}}));
  EXPECT_EQ(i.at("counters").at("other_vrid"), 7);
}

}  // namespace
}  // namespace lvsd::cli
