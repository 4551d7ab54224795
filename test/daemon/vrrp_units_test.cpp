// The VRRP part of a config cut into units, and what a reload restarts.
#include "lvsd/daemon/vrrp_units.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lvsd::daemon {
namespace {

model::VrrpInstance instance(std::string name, std::uint8_t vrid, std::uint8_t priority = 100) {
  model::VrrpInstance i;
  i.name = std::move(name);
  i.interface = "eth0";
  i.vrid = vrid;
  i.priority = priority;
  return i;
}

// web (alone), then db1 and db2 in sync group "db", then mail (alone); and the pools and
// globals a VRRP node never reads.
model::Desired config() {
  model::Desired d;
  d.globals.script_user = "nobody";
  d.globals.control_socket = "/run/ops/lvsd.sock";
  d.vrrp.notify_fifo = "/run/lvsd/notify";
  d.vrrp_instances = {instance("web", 1), instance("db1", 2), instance("db2", 3), instance("mail", 4)};
  model::SyncGroup g;
  g.name = "db";
  g.instances = {"db2", "db1"};
  d.sync_groups.push_back(g);
  d.virtual_servers.emplace_back();
  return d;
}

std::vector<std::string> keys(const std::vector<VrrpUnit>& units) {
  std::vector<std::string> out;
  for (const auto& u : units) out.push_back(u.key);
  return out;
}

std::vector<std::string> names(const model::Desired& d) {
  std::vector<std::string> out;
  for (const auto& i : d.vrrp_instances) out.push_back(i.name);
  return out;
}

TEST(VrrpUnits, AGroupWhereItsFirstInstanceIsAndEachLoneInstanceByItself) {
  const auto units = vrrp_units(config());
  EXPECT_EQ(keys(units), (std::vector<std::string>{"instance web", "sync group db", "instance mail"}));
  // The group's instances in config order, with the group; the lone ones without any.
  EXPECT_EQ(names(units[1].desired), (std::vector<std::string>{"db1", "db2"}));
  ASSERT_EQ(units[1].desired.sync_groups.size(), 1u);
  EXPECT_EQ(units[1].desired.sync_groups[0].name, "db");
  EXPECT_TRUE(units[0].desired.sync_groups.empty());
  EXPECT_EQ(names(units[0].desired), (std::vector<std::string>{"web"}));
}

TEST(VrrpUnits, EachUnitHasWhatANodeReadsAndNothingOfThePools) {
  for (const auto& u : vrrp_units(config())) {
    EXPECT_EQ(u.desired.globals.script_user, "nobody") << u.key;
    EXPECT_EQ(u.desired.vrrp.notify_fifo, "/run/lvsd/notify") << u.key;
    EXPECT_TRUE(u.desired.virtual_servers.empty()) << u.key;
    EXPECT_NE(u.desired.globals.control_socket, "/run/ops/lvsd.sock") << u.key;
  }
}

TEST(VrrpUnits, NoInstancesNoUnits) { EXPECT_TRUE(vrrp_units(model::Desired{}).empty()); }

TEST(VrrpReloadPlan, TheSameConfigKeepsEverything) {
  const auto units = vrrp_units(config());
  const auto plan = plan_vrrp_reload(units, units);
  EXPECT_TRUE(plan.stop.empty());
  EXPECT_TRUE(plan.start.empty());
  EXPECT_EQ(plan.kept, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 1}, {2, 2}}));
}

TEST(VrrpReloadPlan, OnlyTheChangedInstanceIsRestarted) {
  auto next = config();
  next.vrrp_instances[3].priority = 200;             // mail
  next.globals.control_socket = "/run/other.sock";   // no unit reads it
  next.virtual_servers.clear();                      // nor the pools
  const auto plan = plan_vrrp_reload(vrrp_units(config()), vrrp_units(next));
  EXPECT_EQ(plan.stop, (std::vector<std::size_t>{2}));
  EXPECT_EQ(plan.start, (std::vector<std::size_t>{2}));
  EXPECT_EQ(plan.kept, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 1}}));
}

TEST(VrrpReloadPlan, AChangeToOneGroupMemberRestartsTheWholeGroupOnly) {
  auto next = config();
  next.vrrp_instances[2].preempt = false;  // db2
  const auto plan = plan_vrrp_reload(vrrp_units(config()), vrrp_units(next));
  EXPECT_EQ(plan.stop, (std::vector<std::size_t>{1}));
  EXPECT_EQ(plan.start, (std::vector<std::size_t>{1}));
  EXPECT_EQ(plan.kept, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {2, 2}}));
}

TEST(VrrpReloadPlan, AddedStartedRemovedStoppedTheRestKeptAcrossMoves) {
  auto next = config();
  next.vrrp_instances.erase(next.vrrp_instances.begin());  // web gone
  next.vrrp_instances.insert(next.vrrp_instances.begin(), instance("api", 9));  // api new, first
  const auto running = vrrp_units(config());
  const auto units = vrrp_units(next);
  ASSERT_EQ(keys(units), (std::vector<std::string>{"instance api", "sync group db", "instance mail"}));
  const auto plan = plan_vrrp_reload(running, units);
  EXPECT_EQ(plan.stop, (std::vector<std::size_t>{0}));   // web, in `running`
  EXPECT_EQ(plan.start, (std::vector<std::size_t>{0}));  // api, in `units`
  EXPECT_EQ(plan.kept, (std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {2, 2}}));
}

TEST(VrrpReloadPlan, AnInstanceJoiningAGroupMovesToTheGroupsUnit) {
  auto next = config();
  next.sync_groups[0].instances.push_back("mail");
  const auto plan = plan_vrrp_reload(vrrp_units(config()), vrrp_units(next));
  // The group changed (it has mail now) and "instance mail" is gone.
  EXPECT_EQ(plan.stop, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(plan.start, (std::vector<std::size_t>{1}));
  EXPECT_EQ(plan.kept, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}}));
}

TEST(VrrpReloadPlan, TheVrrpSettingsOrTheScriptUserChangeEveryUnit) {
  auto fifo = config();
  fifo.vrrp.notify_fifo = "/run/elsewhere";
  auto user = config();
  user.globals.script_user = "lvsd";
  for (const auto& next : {fifo, user}) {
    const auto plan = plan_vrrp_reload(vrrp_units(config()), vrrp_units(next));
    EXPECT_EQ(plan.stop.size(), 3u);
    EXPECT_EQ(plan.start.size(), 3u);
    EXPECT_TRUE(plan.kept.empty());
  }
}

}  // namespace
}  // namespace lvsd::daemon
