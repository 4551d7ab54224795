// The reconciler on the in-memory kernel: first apply, drift undone and logged, reloads,
// restarts that send nothing, removal on exit, and a kernel that cannot be read.
#include "lvsd/daemon/reconciler.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../config/load_helpers.hpp"
#include "lvsd/ipvs/memory_backend.hpp"

namespace lvsd::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const char* kFarm = R"(
[[virtual_server]]
address = "192.0.2.10:80"
  [[virtual_server.real_server]]
  address = "10.0.0.[11-12]:80"
[[virtual_server]]
address = "192.0.2.10:443"
  [[virtual_server.real_server]]
  address = "10.0.0.11:443"
)";

model::Desired farm(const std::string& extra = "") {
  return config::test::load_valid(std::string(kFarm) + extra, "farm.toml");
}

struct Fixture : ::testing::Test {
  ipvs::MemoryBackend kernel;
  std::vector<std::string> log;
  Reconciler reconciler{kernel, [this](const std::string& line) { log.push_back(line); }};
};

TEST_F(Fixture, FirstPassBuildsTheTableAndASecondSendsNothing) {
  reconciler.set_goal(farm());
  EXPECT_EQ(reconciler.pass(false).applied.size(), 5u);  // 2 services + 3 destinations
  EXPECT_EQ(kernel.table(), goal_of(farm()));
  log.clear();
  const auto before = kernel.operations_applied();
  EXPECT_THAT(reconciler.pass(true).applied, IsEmpty());
  EXPECT_EQ(kernel.operations_applied(), before);
  EXPECT_THAT(log, IsEmpty());
}

TEST_F(Fixture, RestartWithAnUnchangedConfigSendsNoWriteRequest) {
  reconciler.set_goal(farm());
  reconciler.pass(false);
  const auto calls = kernel.apply_calls();
  Reconciler restarted(kernel, [](const std::string&) {});
  restarted.set_goal(farm());
  EXPECT_THAT(restarted.pass(false).applied, IsEmpty());
  EXPECT_EQ(kernel.apply_calls(), calls);
}

TEST_F(Fixture, DriftIsUndoneAndLoggedAsDrift) {
  reconciler.set_goal(farm());
  reconciler.pass(false);
  // Someone edits a weight by hand and deletes a service (ipvsadm -e ... -w 9; ipvsadm -D ...).
  const model::ServiceKey http = goal_of(farm())[0].service.key;
  const model::ServiceKey https = goal_of(farm())[1].service.key;
  auto edited = goal_of(farm())[0].destinations[1];
  edited.weight = 9;
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::EditDestination{http, edited},
                                                        ipvs::DeleteService{https}}),
              IsEmpty());
  log.clear();
  const auto report = reconciler.pass(true);
  EXPECT_EQ(report.applied.size(), 3u);
  EXPECT_THAT(log, ElementsAre("drift: add service TCP 192.0.2.10:443 (wlc)",
                               "drift: add destination 10.0.0.11:443 masq weight 1 to TCP 192.0.2.10:443",
                               "drift: edit destination 10.0.0.12:80 masq weight 1 of TCP 192.0.2.10:80"));
  EXPECT_EQ(kernel.table()[0], goal_of(farm())[0]);
}

TEST_F(Fixture, ServicesLvsdDoesNotOwnAreLeftAlone) {
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::AddService{ipvs::Service{
                  .key = {.protocol = model::Protocol::Udp,
                          .endpoint = model::Endpoint::parse("198.51.100.1:53", true).value()}}}}),
              IsEmpty());
  reconciler.set_goal(farm());
  reconciler.pass(false);
  EXPECT_EQ(kernel.table().size(), 3u);
  EXPECT_THAT(reconciler.remove_owned().failures, IsEmpty());
  ASSERT_EQ(kernel.table().size(), 1u);
  EXPECT_EQ(kernel.table()[0].service.key.to_string(), "UDP 198.51.100.1:53");
}

TEST_F(Fixture, ExclusiveRemovesForeignServices) {
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::AddService{ipvs::Service{
                  .key = {.protocol = model::Protocol::Udp,
                          .endpoint = model::Endpoint::parse("198.51.100.1:53", true).value()}}}}),
              IsEmpty());
  reconciler.set_goal(config::test::load_valid(std::string("[ipvs]\nmanage = \"exclusive\"\n") + kFarm, "x.toml"));
  reconciler.pass(false);
  EXPECT_EQ(kernel.table(), goal_of(farm()));
}

TEST_F(Fixture, AReloadThatDropsAServiceDeletesIt) {
  reconciler.set_goal(farm());
  reconciler.pass(false);
  reconciler.set_goal(config::test::load_valid(R"(
[[virtual_server]]
address = "192.0.2.10:80"
  [[virtual_server.real_server]]
  address = "10.0.0.[11-12]:80"
  weight = 2
)", "reload.toml"));
  log.clear();
  reconciler.pass(false);
  EXPECT_THAT(log, ElementsAre("apply: edit destination 10.0.0.11:80 masq weight 2 of TCP 192.0.2.10:80",
                               "apply: edit destination 10.0.0.12:80 masq weight 2 of TCP 192.0.2.10:80",
                               "apply: delete service TCP 192.0.2.10:443"));
  EXPECT_EQ(kernel.table().size(), 1u);
}

TEST_F(Fixture, RefusedOperationsAreReportedWithTheirOperation) {
  model::Desired d = farm();
  d.virtual_servers[0].real_servers[0].upper_threshold = 5;
  d.virtual_servers[0].real_servers[0].lower_threshold = 10;  // the kernel refuses l > u
  reconciler.set_goal(d);
  const auto report = reconciler.pass(false);
  EXPECT_THAT(report.failures,
              ElementsAre("add destination 10.0.0.11:80 masq weight 1 thresholds 10-5 to TCP 192.0.2.10:80: "
                          "Invalid argument"));
  EXPECT_EQ(kernel.table().size(), 2u);  // the rest went through
}

// ---- timeouts and sync daemons ----

const char* kTimeouts = R"(
[ipvs]
timeouts = { tcp = 3600, tcp_fin = 60, udp = 120 }
)";

const char* kMaster = R"(
[[ipvs.sync_daemon]]
role = "master"
interface = "eth1"
sync_id = 7
)";

const char* kBackup = R"(
[[ipvs.sync_daemon]]
role = "backup"
interface = "eth2"
sync_id = 7
port = 9000
)";

ipvs::SyncDaemon started(ipvs::SyncState state, std::string interface) {
  return ipvs::SyncDaemon{.state = state, .interface = std::move(interface)};
}

std::vector<ipvs::SyncState> states(const ipvs::MemoryBackend& kernel) {
  std::vector<ipvs::SyncState> out;
  for (const auto& d : kernel.settings().daemons) out.push_back(d.state);
  return out;
}

TEST_F(Fixture, TimeoutsAndDaemonsAreAppliedAndASecondPassSendsNothing) {
  reconciler.set_goal(farm(std::string(kTimeouts) + kMaster + kBackup));
  EXPECT_EQ(reconciler.goal_settings(), settings_of(farm(std::string(kTimeouts) + kMaster + kBackup)));
  const auto first = reconciler.pass(false);
  EXPECT_THAT(first.failures, IsEmpty());
  EXPECT_EQ(first.applied.size(), 8u);  // 5 for the table, the timeouts, two daemons
  ASSERT_GE(log.size(), 3u);
  EXPECT_THAT(std::vector<std::string>(log.end() - 3, log.end()),
              ElementsAre("apply: set timeouts tcp 3600 s, tcp_fin 60 s, udp 120 s",
                          "apply: start master sync daemon on eth1 (sync_id 7)",
                          "apply: start backup sync daemon on eth2 (sync_id 7, port 9000)"));
  EXPECT_EQ(kernel.settings().timeouts, (ipvs::Timeouts{3600, 60, 120}));
  EXPECT_THAT(states(kernel), ElementsAre(ipvs::SyncState::Master, ipvs::SyncState::Backup));
  log.clear();
  const auto before = kernel.operations_applied();
  EXPECT_THAT(reconciler.pass(true).applied, IsEmpty());  // the kernel's defaults satisfy the goal
  EXPECT_EQ(kernel.operations_applied(), before);
  EXPECT_THAT(log, IsEmpty());
}

TEST_F(Fixture, AStoppedDaemonIsRestartedAndLoggedAsDrift) {
  reconciler.set_goal(farm(std::string(kTimeouts) + kMaster + kBackup));
  reconciler.pass(false);
  // Someone stops the backup daemon and lowers a timeout by hand (ipvsadm --stop-daemon backup; --set).
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StopDaemon{ipvs::SyncState::Backup},
                                                        ipvs::SetTimeouts{{0, 0, 5}}}),
              IsEmpty());
  log.clear();
  const auto report = reconciler.pass(true);
  EXPECT_THAT(report.failures, IsEmpty());
  EXPECT_EQ(report.applied.size(), 2u);
  EXPECT_THAT(log, ElementsAre("drift: set timeouts udp 120 s",
                               "drift: start backup sync daemon on eth2 (sync_id 7, port 9000)"));
  EXPECT_EQ(kernel.settings().timeouts, (ipvs::Timeouts{3600, 60, 120}));
  EXPECT_THAT(states(kernel), ElementsAre(ipvs::SyncState::Master, ipvs::SyncState::Backup));
}

TEST_F(Fixture, ADaemonRestartedWithOtherSettingsIsReplaced) {
  reconciler.set_goal(farm(kMaster));
  reconciler.pass(false);
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StopDaemon{ipvs::SyncState::Master},
                                                        ipvs::StartDaemon{started(ipvs::SyncState::Master, "eth9")}}),
              IsEmpty());
  log.clear();
  reconciler.pass(true);
  EXPECT_THAT(log, ElementsAre("drift: stop master sync daemon",
                               "drift: start master sync daemon on eth1 (sync_id 7)"));
  ASSERT_EQ(kernel.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel.settings().daemons[0].interface, "eth1");
}

TEST_F(Fixture, AReloadWithoutADaemonStopsIt) {
  reconciler.set_goal(farm(std::string(kMaster) + kBackup));
  reconciler.pass(false);
  reconciler.set_goal(farm(kMaster));
  reconciler.set_goal(farm(std::string(kTimeouts) + kMaster));  // a second reload before the pass
  log.clear();
  EXPECT_THAT(reconciler.pass(false).failures, IsEmpty());
  EXPECT_THAT(log, ElementsAre("apply: set timeouts tcp 3600 s, tcp_fin 60 s, udp 120 s",
                               "apply: stop backup sync daemon"));
  EXPECT_THAT(states(kernel), ElementsAre(ipvs::SyncState::Master));
  // Once stopped it is no longer lvsd's: one started by hand afterwards is left alone.
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StartDaemon{started(ipvs::SyncState::Backup, "eth2")}}),
              IsEmpty());
  log.clear();
  EXPECT_THAT(reconciler.pass(true).applied, IsEmpty());
  EXPECT_THAT(log, IsEmpty());
}

TEST_F(Fixture, RemoveOwnedStopsTheDeclaredDaemonsAndLeavesTheTimeouts) {
  // A backup daemon lvsd does not declare, started before it.
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StartDaemon{started(ipvs::SyncState::Backup, "eth5")}}),
              IsEmpty());
  reconciler.set_goal(farm(std::string(kTimeouts) + kMaster));
  reconciler.pass(false);
  ASSERT_THAT(states(kernel), UnorderedElementsAre(ipvs::SyncState::Master, ipvs::SyncState::Backup));
  log.clear();
  EXPECT_THAT(reconciler.remove_owned().failures, IsEmpty());
  EXPECT_THAT(log, ElementsAre("exit: delete service TCP 192.0.2.10:80", "exit: delete service TCP 192.0.2.10:443",
                               "exit: stop master sync daemon"));
  EXPECT_THAT(kernel.table(), IsEmpty());
  ASSERT_EQ(kernel.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel.settings().daemons[0].interface, "eth5");
  EXPECT_EQ(kernel.settings().timeouts, (ipvs::Timeouts{3600, 60, 120}));
}

TEST_F(Fixture, RemoveOwnedLeavesADaemonOfTheSameRoleThatIsNotTheDeclaredOne) {
  reconciler.set_goal(farm(std::string(kTimeouts) + kMaster));
  reconciler.pass(false);
  // Someone replaces lvsd's master with their own before lvsd stops.
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StopDaemon{ipvs::SyncState::Master},
                                                        ipvs::StartDaemon{started(ipvs::SyncState::Master, "eth9")}}),
              IsEmpty());
  EXPECT_THAT(reconciler.remove_owned().failures, IsEmpty());
  ASSERT_EQ(kernel.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel.settings().daemons[0].interface, "eth9");
}

TEST_F(Fixture, AForeignDaemonIsLeftAloneWhenOwned) {
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StartDaemon{started(ipvs::SyncState::Master, "eth9")}}),
              IsEmpty());
  reconciler.set_goal(farm());
  EXPECT_EQ(reconciler.pass(false).applied.size(), 5u);  // the table only
  EXPECT_EQ(reconciler.pass(true).applied.size(), 0u);
  EXPECT_THAT(reconciler.remove_owned().failures, IsEmpty());
  ASSERT_EQ(kernel.settings().daemons.size(), 1u);
  EXPECT_EQ(kernel.settings().daemons[0].interface, "eth9");
  EXPECT_EQ(kernel.settings().timeouts, (ipvs::Timeouts{900, 120, 300}));
}

TEST_F(Fixture, ExclusiveStopsForeignDaemons) {
  ASSERT_THAT(kernel.apply(std::vector<ipvs::Operation>{ipvs::StartDaemon{started(ipvs::SyncState::Backup, "eth9")}}),
              IsEmpty());
  reconciler.set_goal(config::test::load_valid(std::string("[ipvs]\nmanage = \"exclusive\"\n") + kMaster + kFarm,
                                               "x.toml"));
  log.clear();
  reconciler.pass(false);
  ASSERT_GE(log.size(), 2u);
  EXPECT_THAT(std::vector<std::string>(log.end() - 2, log.end()),
              ElementsAre("apply: start master sync daemon on eth1 (sync_id 7)", "apply: stop backup sync daemon"));
  EXPECT_THAT(states(kernel), ElementsAre(ipvs::SyncState::Master));
}

TEST(Reconciler, SettingsOfTheDeclaredState) {
  model::Desired d = farm(std::string(kTimeouts) + kBackup);
  d.ipvs.sync_daemons[0].max_len = 1400;
  d.ipvs.sync_daemons[0].group = model::IpAddress::parse("239.1.2.3").value();
  d.ipvs.sync_daemons[0].ttl = 3;
  EXPECT_EQ(settings_of(d), (ipvs::Settings{ipvs::Timeouts{3600, 60, 120},
                                            {ipvs::SyncDaemon{.state = ipvs::SyncState::Backup,
                                                              .interface = "eth2",
                                                              .sync_id = 7,
                                                              .max_len = 1400,
                                                              .group = model::IpAddress::parse("239.1.2.3").value(),
                                                              .port = 9000,
                                                              .ttl = 3}}}));
  EXPECT_EQ(settings_of(farm()), ipvs::Settings{});
}

class UnreadableKernel final : public ipvs::Backend {
 public:
  boost::system::result<ipvs::Table> dump() override {
    return boost::system::errc::make_error_code(boost::system::errc::no_buffer_space);
  }
  boost::system::result<ipvs::Settings> dump_settings() override { return ipvs::Settings{}; }
  std::vector<ipvs::Failure> apply(std::span<const ipvs::Operation>) override {
    ADD_FAILURE() << "nothing may be written when the table cannot be read";
    return {};
  }
};

TEST(Reconciler, AnUnreadableKernelChangesNothing) {
  UnreadableKernel kernel;
  std::vector<std::string> log;
  Reconciler r(kernel, [&](const std::string& line) { log.push_back(line); });
  r.set_goal(farm());
  const auto report = r.pass(false);
  EXPECT_TRUE(report.read_failed);
  EXPECT_THAT(log, ElementsAre("cannot read the IPVS table: No buffer space available; nothing changed"));
}

// The table reads, the timeouts and daemons do not.
class UnreadableSettings final : public ipvs::Backend {
 public:
  boost::system::result<ipvs::Table> dump() override { return ipvs::Table{}; }
  boost::system::result<ipvs::Settings> dump_settings() override {
    return boost::system::errc::make_error_code(boost::system::errc::operation_not_permitted);
  }
  std::vector<ipvs::Failure> apply(std::span<const ipvs::Operation>) override {
    ADD_FAILURE() << "nothing may be written when the settings cannot be read";
    return {};
  }
};

TEST(Reconciler, UnreadableSettingsChangeNothing) {
  UnreadableSettings kernel;
  std::vector<std::string> log;
  Reconciler r(kernel, [&](const std::string& line) { log.push_back(line); });
  r.set_goal(farm(kMaster));
  EXPECT_TRUE(r.pass(false).read_failed);
  EXPECT_TRUE(r.remove_owned().read_failed);
  EXPECT_THAT(log, ElementsAre("cannot read the IPVS settings: Operation not permitted; nothing changed",
                               "cannot read the IPVS settings: Operation not permitted; nothing removed"));
}

}  // namespace
}  // namespace lvsd::daemon
