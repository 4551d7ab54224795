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

class UnreadableKernel final : public ipvs::Backend {
 public:
  boost::system::result<ipvs::Table> dump() override {
    return boost::system::errc::make_error_code(boost::system::errc::no_buffer_space);
  }
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

}  // namespace
}  // namespace lvsd::daemon
