// diff(goal, actual): the exact operations for every kind of change, and convergence.
#include "lvsd/ipvs/diff.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lvsd/ipvs/memory_backend.hpp"

namespace lvsd::ipvs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

model::Endpoint ep(std::string_view text) { return model::Endpoint::parse(text, true).value(); }

ServiceKey tcp(std::string_view text) {
  return ServiceKey{.family = model::Family::V4, .protocol = model::Protocol::Tcp, .endpoint = ep(text)};
}

ServiceKey fwm(std::uint32_t mark, model::Protocol protocol = model::Protocol::Tcp) {
  return ServiceKey{.family = model::Family::V4, .protocol = protocol, .fwmark = mark};
}

Service svc(ServiceKey key, std::string scheduler = "wlc") {
  return Service{.key = key, .scheduler = std::move(scheduler)};
}

Destination dest(std::string_view text, std::uint32_t weight = 1) {
  return Destination{.endpoint = ep(text), .forward = Forward::Masq, .weight = weight};
}

Table web_farm() {
  return {{svc(tcp("192.0.2.10:80")), {dest("10.0.0.11:80"), dest("10.0.0.12:80")}},
          {svc(tcp("192.0.2.10:443")), {dest("10.0.0.11:443"), dest("10.0.0.12:443")}}};
}

TEST(Diff, UnchangedTableGivesNoOperation) {
  EXPECT_THAT(diff(web_farm(), web_farm()), IsEmpty());
}

TEST(Diff, CountersInTheKernelAreNotChanges) {
  Table actual = web_farm();
  actual[0].service.stats.conns = 1234;
  actual[0].destinations[1].active_conns = 17;
  actual[0].destinations[1].stats.inbytes = 99;
  EXPECT_THAT(diff(web_farm(), actual), IsEmpty());
}

TEST(Diff, WeightChangeIsOneEdit) {
  Table goal = web_farm();
  goal[1].destinations[0].weight = 5;
  EXPECT_THAT(diff(goal, web_farm()),
              ElementsAre(Operation{EditDestination{tcp("192.0.2.10:443"), dest("10.0.0.11:443", 5)}}));
}

TEST(Diff, SchedulerChangeIsAnEditNeverDeleteAndAdd) {
  Table goal = web_farm();
  goal[0].service.scheduler = "rr";
  EXPECT_THAT(diff(goal, web_farm()), ElementsAre(Operation{EditService{svc(tcp("192.0.2.10:80"), "rr")}}));
}

TEST(Diff, PersistenceAndFlagChangesAreEdits) {
  Table goal = web_farm();
  goal[0].service.flags = kFlagPersistent | kFlagSched2;
  goal[0].service.timeout = 300;
  goal[0].service.prefix_length = 24;
  Service expected = svc(tcp("192.0.2.10:80"));
  expected.flags = kFlagPersistent | kFlagSched2;
  expected.timeout = 300;
  expected.prefix_length = 24;
  EXPECT_THAT(diff(goal, web_farm()), ElementsAre(Operation{EditService{expected}}));
}

TEST(Diff, ForwardingAndThresholdChangesAreDestinationEdits) {
  Table goal = web_farm();
  goal[0].destinations[0].upper_threshold = 100;
  goal[0].destinations[1].forward = Forward::Route;
  Destination a = dest("10.0.0.11:80");
  a.upper_threshold = 100;
  Destination b = dest("10.0.0.12:80");
  b.forward = Forward::Route;
  EXPECT_THAT(diff(goal, web_farm()), ElementsAre(Operation{EditDestination{tcp("192.0.2.10:80"), a}},
                                                  Operation{EditDestination{tcp("192.0.2.10:80"), b}}));
}

TEST(Diff, ALocalDestinationIsNotDrift) {
  Table actual = web_farm();
  actual[0].destinations[0].forward = Forward::Local;  // the kernel's view of a local address
  EXPECT_THAT(diff(web_farm(), actual), IsEmpty());
  actual[0].destinations[0].weight = 4;
  EXPECT_THAT(diff(web_farm(), actual),
              ElementsAre(Operation{EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.11:80")}}));
}

TEST(Diff, NewServiceThenItsDestinations) {
  Table goal = web_farm();
  goal.push_back({svc(tcp("192.0.2.11:80")), {dest("10.0.0.21:80"), dest("10.0.0.22:80", 2)}});
  EXPECT_THAT(diff(goal, web_farm()),
              ElementsAre(Operation{AddService{svc(tcp("192.0.2.11:80"))}},
                          Operation{AddDestination{tcp("192.0.2.11:80"), dest("10.0.0.21:80")}},
                          Operation{AddDestination{tcp("192.0.2.11:80"), dest("10.0.0.22:80", 2)}}));
}

TEST(Diff, ReplacedRealServerIsAddedBeforeTheOldOneIsDeleted) {
  Table goal = web_farm();
  goal[0].destinations[1] = dest("10.0.0.13:80");
  EXPECT_THAT(diff(goal, web_farm()),
              ElementsAre(Operation{AddDestination{tcp("192.0.2.10:80"), dest("10.0.0.13:80")}},
                          Operation{DeleteDestination{tcp("192.0.2.10:80"), ep("10.0.0.12:80")}}));
}

TEST(Diff, ServicesNotOwnedAreLeftAlone) {
  Table actual = web_farm();
  actual.push_back({svc(tcp("198.51.100.1:25")), {dest("10.9.9.9:25")}});
  EXPECT_THAT(diff(web_farm(), actual), IsEmpty());
}

TEST(Diff, ExclusiveDeletesEveryServiceNotInTheGoal) {
  Table actual = web_farm();
  actual.push_back({svc(tcp("198.51.100.1:25")), {dest("10.9.9.9:25")}});
  EXPECT_THAT(diff(web_farm(), actual, {.manage = model::Ownership::Exclusive}),
              ElementsAre(Operation{DeleteService{tcp("198.51.100.1:25")}}));
}

TEST(Diff, RetiredServicesAreDeletedLastAfterEverythingElse) {
  Table goal = web_farm();
  goal.erase(goal.begin() + 1);  // the :443 service leaves the config
  goal[0].destinations[0].weight = 3;
  EXPECT_THAT(diff(goal, web_farm(), {.retired = {tcp("192.0.2.10:443")}}),
              ElementsAre(Operation{EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.11:80", 3)}},
                          Operation{DeleteService{tcp("192.0.2.10:443")}}));
}

TEST(Diff, FwmarkServicesAreFoundByMarkAndFamily) {
  const Table goal{{svc(fwm(7, model::Protocol::Tcp)), {dest("10.0.0.11:80")}}};
  const Table actual{{svc(fwm(7, model::Protocol::Udp)), {dest("10.0.0.11:80")}}};
  EXPECT_THAT(diff(goal, actual), IsEmpty());
}

TEST(Diff, AppliedToTheKernelItConverges) {
  MemoryBackend kernel({{svc(tcp("192.0.2.10:80"), "rr"), {dest("10.0.0.11:80"), dest("10.0.0.99:80")}},
                        {svc(tcp("192.0.2.99:80")), {}}});
  Table goal = web_farm();
  goal.push_back({svc(fwm(3)), {dest("10.0.0.31:0", 4)}});
  const auto ops = diff(goal, kernel.dump().value(), {.retired = {tcp("192.0.2.99:80")}});
  EXPECT_THAT(kernel.apply(ops), IsEmpty());
  EXPECT_THAT(diff(goal, kernel.dump().value()), IsEmpty());
  EXPECT_EQ(kernel.dump().value().size(), 3u);
}

TEST(Diff, FromTheDeclaredModel) {
  model::VirtualServer vs{.key = tcp("192.0.2.10:80"),
                          .scheduler = model::Scheduler::Sh,
                          .scheduler_flags = {.sh_fallback = true, .sh_port = true},
                          .persistence = model::Persistence{.timeout = std::chrono::seconds(600), .prefix_length = 24}};
  vs.real_servers.push_back({.endpoint = ep("10.0.0.11:80"), .weight = 7});
  vs.real_servers.push_back(
      {.endpoint = ep("10.0.0.12:80"),
       .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gue,
                      .tunnel_port = 6080, .tunnel_checksum = model::TunnelChecksum::RemCsum}});
  const ServiceEntry e = to_kernel(vs);
  EXPECT_EQ(e.service.scheduler, "sh");
  EXPECT_EQ(e.service.flags, kFlagPersistent | kFlagSched1 | kFlagSched2);
  EXPECT_EQ(e.service.timeout, 600u);
  EXPECT_EQ(e.service.prefix_length, 24);
  EXPECT_EQ(e.destinations[0], dest("10.0.0.11:80", 7));
  EXPECT_EQ(e.destinations[1].forward, Forward::Tunnel);
  EXPECT_EQ(e.destinations[1].tunnel_type, model::TunnelType::Gue);
  EXPECT_EQ(e.destinations[1].tunnel_port, 6080);
  EXPECT_EQ(e.destinations[1].tunnel_checksum, model::TunnelChecksum::RemCsum);
}

TEST(Diff, DescribesEachOperationForTheLog) {
  EXPECT_EQ(describe(EditDestination{tcp("192.0.2.10:80"), dest("10.0.0.11:80", 5)}),
            "edit destination 10.0.0.11:80 masq weight 5 of TCP 192.0.2.10:80");
  Service s = svc(tcp("192.0.2.10:80"), "sh");
  s.flags = kFlagPersistent | kFlagSched2;
  s.timeout = 300;
  s.prefix_length = 24;
  EXPECT_EQ(describe(AddService{s}), "add service TCP 192.0.2.10:80 (sh, persistent 300s /24, flags 0x10)");
  EXPECT_EQ(describe(DeleteDestination{fwm(7), ep("10.0.0.11:80")}), "delete destination 10.0.0.11:80 from FWM 7");
}

// ---- diff_settings: timeouts and sync daemons ----

SyncDaemon master(std::string interface = "eth1", std::uint32_t sync_id = 7) {
  return SyncDaemon{.state = SyncState::Master, .interface = std::move(interface), .sync_id = sync_id};
}
SyncDaemon backup(std::string interface = "eth2", std::uint32_t sync_id = 7) {
  return SyncDaemon{.state = SyncState::Backup, .interface = std::move(interface), .sync_id = sync_id};
}
// As a dump reports a daemon started with `d`: the kernel's defaults in what it left open.
SyncDaemon running(SyncDaemon d) {
  if (!d.group) d.group = model::IpAddress::parse("224.0.0.81").value();
  if (d.max_len == 0) d.max_len = 1472;
  if (d.port == 0) d.port = 8848;
  if (d.ttl == 0) d.ttl = 1;
  return d;
}
constexpr Timeouts kKernelDefaults{900, 120, 300};

TEST(DiffSettings, UnchangedGivesNoOperation) {
  const Settings goal{Timeouts{1000, 110, 200}, {master(), backup()}};
  EXPECT_THAT(diff_settings(goal, goal), IsEmpty());
  EXPECT_THAT(diff_settings(Settings{}, Settings{}), IsEmpty());
}

TEST(DiffSettings, OneTimeoutDiffersIsOneSetTimeoutsWithOnlyThatField) {
  EXPECT_THAT(diff_settings({Timeouts{900, 60, 300}, {}}, {kKernelDefaults, {}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{0, 60, 0}}}));
  EXPECT_THAT(diff_settings({Timeouts{3600, 120, 300}, {}}, {kKernelDefaults, {}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{3600, 0, 0}}}));
  EXPECT_THAT(diff_settings({Timeouts{900, 120, 30}, {}}, {kKernelDefaults, {}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{0, 0, 30}}}));
  // Two that differ still go in one operation.
  EXPECT_THAT(diff_settings({Timeouts{1, 120, 2}, {}}, {kKernelDefaults, {}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{1, 0, 2}}}));
}

TEST(DiffSettings, TimeoutsTheGoalLeavesAtZeroAreNeverTouched) {
  EXPECT_THAT(diff_settings({Timeouts{}, {}}, {kKernelDefaults, {}}), IsEmpty());
  EXPECT_THAT(diff_settings({Timeouts{0, 0, 300}, {}}, {Timeouts{5, 6, 300}, {}}), IsEmpty());
  EXPECT_THAT(diff_settings({Timeouts{0, 0, 100}, {}}, {Timeouts{5, 6, 300}, {}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{0, 0, 100}}}));
}

TEST(DiffSettings, DeclaredDaemonAbsentIsStartedMasterFirst) {
  EXPECT_THAT(diff_settings({Timeouts{}, {backup(), master()}}, {kKernelDefaults, {}}),
              ElementsAre(Operation{StartDaemon{master()}}, Operation{StartDaemon{backup()}}));
  SyncDaemon full = master();
  full.max_len = 1000;
  full.group = model::IpAddress::parse("239.1.2.3").value();
  full.port = 9000;
  full.ttl = 3;
  EXPECT_THAT(diff_settings({Timeouts{}, {full}}, {kKernelDefaults, {running(backup())}}),
              ElementsAre(Operation{StartDaemon{full}}));
}

TEST(DiffSettings, KernelFilledDefaultsSatisfyAGoalLeavingThemUnset) {
  const Settings actual{kKernelDefaults, {running(master()), running(backup())}};
  EXPECT_THAT(diff_settings({Timeouts{}, {master(), backup()}}, actual), IsEmpty());
  // Set to the very values the kernel chose: still nothing to do.
  SyncDaemon explicit_defaults = master();
  explicit_defaults.max_len = 1472;
  explicit_defaults.group = model::IpAddress::parse("224.0.0.81").value();
  explicit_defaults.port = 8848;
  explicit_defaults.ttl = 1;
  EXPECT_THAT(diff_settings({Timeouts{}, {explicit_defaults}}, actual), IsEmpty());
}

TEST(DiffSettings, SettingsAnOlderKernelDoesNotReportAreNoReasonToRestart) {
  // Before 4.3 the kernel reports state, interface and sync ID only.
  SyncDaemon reported = master();
  SyncDaemon declared = master();
  declared.max_len = 1200;
  declared.group = model::IpAddress::parse("239.1.2.3").value();
  declared.port = 9000;
  declared.ttl = 2;
  EXPECT_THAT(diff_settings({Timeouts{}, {declared}}, {kKernelDefaults, {reported}}), IsEmpty());
}

TEST(DiffSettings, RunningDaemonThatDiffersIsStoppedThenStarted) {
  struct Case {
    const char* what;
    SyncDaemon goal;
  };
  SyncDaemon other_port = master();
  other_port.port = 9000;
  SyncDaemon other_group = master();
  other_group.group = model::IpAddress::parse("239.1.2.3").value();
  SyncDaemon other_ttl = master();
  other_ttl.ttl = 2;
  SyncDaemon other_max_len = master();
  other_max_len.max_len = 1400;
  for (const auto& c : {Case{"interface", master("eth3")}, Case{"sync_id", master("eth1", 8)},
                        Case{"port", other_port}, Case{"group", other_group}, Case{"ttl", other_ttl},
                        Case{"max_len", other_max_len}}) {
    SCOPED_TRACE(c.what);
    EXPECT_THAT(diff_settings({Timeouts{}, {c.goal}}, {kKernelDefaults, {running(master())}}),
                ElementsAre(Operation{StopDaemon{SyncState::Master}}, Operation{StartDaemon{c.goal}}));
  }
  // Only the daemon that differs is restarted; timeouts come first.
  EXPECT_THAT(diff_settings({Timeouts{0, 60, 0}, {master(), backup("eth9")}},
                            {kKernelDefaults, {running(master()), running(backup())}}),
              ElementsAre(Operation{SetTimeouts{Timeouts{0, 60, 0}}}, Operation{StopDaemon{SyncState::Backup}},
                          Operation{StartDaemon{backup("eth9")}}));
}

TEST(DiffSettings, UndeclaredRunningDaemonIsLeftAloneWhenOwned) {
  const Settings actual{kKernelDefaults, {running(master()), running(backup())}};
  EXPECT_THAT(diff_settings({Timeouts{}, {}}, actual), IsEmpty());
  EXPECT_THAT(diff_settings({Timeouts{}, {master()}}, actual, {.manage = model::Ownership::Owned}), IsEmpty());
}

TEST(DiffSettings, UndeclaredRunningDaemonIsStoppedWhenExclusive) {
  const Settings actual{kKernelDefaults, {running(master()), running(backup())}};
  EXPECT_THAT(diff_settings({Timeouts{}, {master()}}, actual, {.manage = model::Ownership::Exclusive}),
              ElementsAre(Operation{StopDaemon{SyncState::Backup}}));
  EXPECT_THAT(diff_settings({Timeouts{}, {}}, actual, {.manage = model::Ownership::Exclusive}),
              ElementsAre(Operation{StopDaemon{SyncState::Master}}, Operation{StopDaemon{SyncState::Backup}}));
}

TEST(DiffSettings, RetiredDaemonIsStopped) {
  const Settings actual{kKernelDefaults, {running(master()), running(backup())}};
  EXPECT_THAT(diff_settings({Timeouts{}, {}}, actual, {.retired_daemons = {SyncState::Backup}}),
              ElementsAre(Operation{StopDaemon{SyncState::Backup}}));
  // Retired but not running: nothing to stop.
  EXPECT_THAT(diff_settings({Timeouts{}, {}}, {kKernelDefaults, {running(master())}},
                            {.retired_daemons = {SyncState::Backup}}),
              IsEmpty());
}

TEST(DiffSettings, AppliedToTheKernelItConverges) {
  MemoryBackend kernel;
  ASSERT_THAT(kernel.apply(std::vector<Operation>{StartDaemon{master("eth5", 3)}, StartDaemon{backup()}}),
              IsEmpty());
  SyncDaemon goal_backup = backup();
  goal_backup.port = 9000;
  const Settings goal{Timeouts{3600, 0, 60}, {master(), goal_backup}};
  EXPECT_THAT(kernel.apply(diff_settings(goal, kernel.dump_settings().value())), IsEmpty());
  EXPECT_THAT(diff_settings(goal, kernel.dump_settings().value()), IsEmpty());
  EXPECT_EQ(kernel.settings().timeouts, (Timeouts{3600, 120, 60}));
}

TEST(DiffSettings, DescribesEachOperationForTheLog) {
  EXPECT_EQ(describe(SetTimeouts{Timeouts{0, 60, 0}}), "set timeouts tcp_fin 60 s");
  EXPECT_EQ(describe(SetTimeouts{Timeouts{900, 120, 300}}), "set timeouts tcp 900 s, tcp_fin 120 s, udp 300 s");
  EXPECT_EQ(describe(StartDaemon{master()}), "start master sync daemon on eth1 (sync_id 7)");
  SyncDaemon full = backup();
  full.max_len = 1000;
  full.group = model::IpAddress::parse("239.1.2.3").value();
  full.port = 9000;
  full.ttl = 3;
  EXPECT_EQ(describe(StartDaemon{full}),
            "start backup sync daemon on eth2 (sync_id 7, max_len 1000, group 239.1.2.3, port 9000, ttl 3)");
  EXPECT_EQ(describe(StopDaemon{SyncState::Backup}), "stop backup sync daemon");
}

}  // namespace
}  // namespace lvsd::ipvs
