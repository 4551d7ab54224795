// AddressManager and LinkMonitor against a real kernel, each test in a network namespace of its
// own; checked both through the class and through what `ip` prints.
#include "lvsd/vrrp/addresses.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/netns.hpp"

namespace lvsd::vrrp {
namespace {

using namespace std::chrono_literals;
using lvsd::testing::NetnsScope;
namespace errc = boost::system::errc;

model::Prefix prefix(const char* text) { return *model::Prefix::parse(text); }
model::IpAddress address(const char* text) { return *model::IpAddress::parse(text); }

// What a shell command prints.
std::string output_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0;) out.append(buf, n);
  return out;
}

// The lines of `text` that contain `needle`, without the interface index that `ip -o` puts
// first (it depends on what else the namespace holds) and without the " valid_lft ..." tail.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) == std::string::npos) continue;
    if (const auto tail = line.find("\\"); tail != std::string::npos) line.erase(tail);
    if (const auto colon = line.find(": "); colon != std::string::npos &&
        line.find_first_not_of("0123456789") == colon)
      line.erase(0, colon + 2);
    out.push_back(line);
  }
  return out;
}

// An interface that is up (IFF_UP and IFF_RUNNING): a dummy, or where the kernel has no dummy
// driver one end of a veth pair whose peer ("<name>p") is up too. A veth's operational state
// (and with it IFF_RUNNING) turns up in the kernel's link watch, a moment after it is set up,
// later on a busy machine: waited for, so that what a test sees next does not depend on when.
bool make_link(const std::string& name, bool up = true) {
  const std::string set_up = up ? " && ip link set " + name + " up" : "";
  if (NetnsScope::run("ip link add " + name + " type dummy 2>/dev/null" + set_up)) return true;
  if (!NetnsScope::run("ip link add " + name + " type veth peer name " + name + "p && ip link set " + name + "p up" +
                       set_up))
    return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (up && output_of("ip -o link show dev " + name).find(" state UP ") == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The test's thread in a fresh network namespace with an interface d0 that is up; skipped
// where namespaces or interfaces cannot be made.
class AddressManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok()) GTEST_SKIP() << "needs root (network namespaces)";
    if (!make_link("d0")) GTEST_SKIP() << "cannot create interface d0";
    auto opened = AddressManager::open();
    ASSERT_TRUE(opened) << opened.error();
    manager_ = std::make_unique<AddressManager>(std::move(*opened));
  }

  std::vector<std::string> addresses_on(const std::string& device, const std::string& needle) {
    return lines_with(output_of("ip -o addr show dev " + device), needle);
  }

  NetnsScope ns_;
  std::unique_ptr<AddressManager> manager_;  // its socket made inside the namespace
};

TEST_F(AddressManagerTest, AddsAnIpv4AddressWithLabelAndPrefix) {
  const model::VirtualIp vip{.prefix = prefix("192.0.2.10/24"), .label = "d0:vip"};
  auto added = manager_->add(vip, "d0");
  ASSERT_TRUE(added) << added.error();
  auto held = manager_->has(vip, "d0");
  ASSERT_TRUE(held) << held.error();
  EXPECT_TRUE(*held);
  // Another prefix length is another address.
  EXPECT_EQ(manager_->has({.prefix = prefix("192.0.2.10/32")}, "d0").value(), false);
  EXPECT_EQ(addresses_on("d0", "192.0.2.10"),
            std::vector<std::string>{"d0    inet 192.0.2.10/24 scope global d0:vip"});
}

TEST_F(AddressManagerTest, AddingTwiceSucceedsAndLeavesOneAddress) {
  const model::VirtualIp vip{.prefix = prefix("192.0.2.10/24"), .label = "d0:vip"};
  ASSERT_TRUE(manager_->add(vip, "d0"));
  auto again = manager_->add(vip, "d0");
  EXPECT_TRUE(again) << again.error();
  EXPECT_EQ(addresses_on("d0", "192.0.2.10").size(), 1u);
}

TEST_F(AddressManagerTest, RemovesAndRemovingAnAbsentAddressSucceeds) {
  const model::VirtualIp vip{.prefix = prefix("192.0.2.10/24"), .label = "d0:vip"};
  ASSERT_TRUE(manager_->add(vip, "d0"));
  auto removed = manager_->remove(vip, "d0");
  ASSERT_TRUE(removed) << removed.error();
  EXPECT_EQ(manager_->has(vip, "d0").value(), false);
  EXPECT_EQ(addresses_on("d0", "192.0.2.10"), std::vector<std::string>{});
  auto again = manager_->remove(vip, "d0");
  EXPECT_TRUE(again) << again.error();
}

TEST_F(AddressManagerTest, RemoveLeavesTheSameAddressWithAnotherPrefixAlone) {
  ASSERT_TRUE(NetnsScope::run("ip addr add 192.0.2.10/24 dev d0"));
  EXPECT_TRUE(manager_->remove({.prefix = prefix("192.0.2.10/32")}, "d0"));
  EXPECT_EQ(addresses_on("d0", "192.0.2.10"), std::vector<std::string>{"d0    inet 192.0.2.10/24 scope global d0"});
}

TEST_F(AddressManagerTest, SetsTheScope) {
  const model::VirtualIp vip{.prefix = prefix("192.0.2.20/32"), .scope = model::AddressScope::Link};
  ASSERT_TRUE(manager_->add(vip, "d0"));
  EXPECT_EQ(addresses_on("d0", "192.0.2.20"), std::vector<std::string>{"d0    inet 192.0.2.20/32 scope link d0"});
}

TEST_F(AddressManagerTest, TheVipsOwnDeviceWinsOverTheDefault) {
  if (!make_link("d1")) GTEST_SKIP() << "cannot create interface d1";
  const model::VirtualIp vip{.prefix = prefix("192.0.2.10/24"), .device = "d1"};
  ASSERT_TRUE(manager_->add(vip, "d0"));
  EXPECT_EQ(addresses_on("d0", "192.0.2.10").size(), 0u);
  EXPECT_EQ(addresses_on("d1", "192.0.2.10").size(), 1u);
  EXPECT_EQ(manager_->has(vip, "d0").value(), true);  // its device, not the default
}

TEST_F(AddressManagerTest, AddsAnIpv6AddressUsableAtOnce) {
  const model::VirtualIp vip{.prefix = prefix("2001:db8::10/64")};
  auto added = manager_->add(vip, "d0");
  ASSERT_TRUE(added) << added.error();
  EXPECT_EQ(manager_->has(vip, "d0").value(), true);
  // nodad: not "tentative" while duplicate address detection would run.
  EXPECT_EQ(lines_with(output_of("ip -6 -o addr show dev d0"), "2001:db8::10"),
            std::vector<std::string>{"d0    inet6 2001:db8::10/64 scope global nodad "});
  EXPECT_TRUE(manager_->add(vip, "d0"));
  EXPECT_TRUE(manager_->remove(vip, "d0"));
  EXPECT_EQ(manager_->has(vip, "d0").value(), false);
  EXPECT_TRUE(manager_->remove(vip, "d0"));
}

TEST_F(AddressManagerTest, AnIpv6AddressThereWithAnotherPrefixIsAnError) {
  ASSERT_TRUE(manager_->add({.prefix = prefix("2001:db8::10/64")}, "d0"));
  auto added = manager_->add({.prefix = prefix("2001:db8::10/128")}, "d0");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, errc::make_error_code(errc::file_exists));
  EXPECT_EQ(added.error().text, "cannot add 2001:db8::10/128 on d0: File exists (it is there with another prefix length)");
}

TEST_F(AddressManagerTest, AnUnknownDeviceIsAnErrorToAddAndNothingToRemove) {
  const model::VirtualIp vip{.prefix = prefix("192.0.2.10/24")};
  auto added = manager_->add(vip, "eth9");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().code, errc::make_error_code(errc::no_such_device));
  EXPECT_EQ(added.error().text, "cannot add 192.0.2.10/24 on eth9: No such device");
  EXPECT_TRUE(manager_->remove(vip, "eth9"));
  EXPECT_EQ(manager_->has(vip, "eth9").value(), false);
}

TEST_F(AddressManagerTest, AKernelRefusalIsAnErrorNotAnException) {
  // A label longer than an interface name.
  auto added = manager_->add({.prefix = prefix("192.0.2.10/24"), .label = "d0:much-too-long-a-label"}, "d0");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().text,
            "cannot add 192.0.2.10/24 on d0 (label d0:much-too-long-a-label): Numerical result out of range");
}

TEST_F(AddressManagerTest, AddsAndRemovesARouteThroughAGateway) {
  ASSERT_TRUE(NetnsScope::run("ip addr add 192.0.2.1/24 dev d0"));
  const model::VirtualRoute route{
      .destination = prefix("198.51.100.0/24"), .via = address("192.0.2.254"), .metric = 5, .table = 100};
  auto added = manager_->add_route(route, "d0");
  ASSERT_TRUE(added) << added.error();
  EXPECT_EQ(manager_->has_route(route, "d0").value(), true);
  EXPECT_EQ(output_of("ip route show table 100"), "198.51.100.0/24 via 192.0.2.254 dev d0 proto static metric 5 \n");
  auto again = manager_->add_route(route, "d0");
  EXPECT_TRUE(again) << again.error();
  EXPECT_EQ(output_of("ip route show table 100"), "198.51.100.0/24 via 192.0.2.254 dev d0 proto static metric 5 \n");

  auto removed = manager_->remove_route(route, "d0");
  ASSERT_TRUE(removed) << removed.error();
  EXPECT_EQ(manager_->has_route(route, "d0").value(), false);
  EXPECT_EQ(output_of("ip route show table 100 2>/dev/null"), "");
  auto absent = manager_->remove_route(route, "d0");
  EXPECT_TRUE(absent) << absent.error();
}

TEST_F(AddressManagerTest, AddsADeviceRouteToTheMainTable) {
  const model::VirtualRoute route{.destination = prefix("203.0.113.0/24")};
  ASSERT_TRUE(manager_->add_route(route, "d0"));
  EXPECT_EQ(lines_with(output_of("ip route show"), "203.0.113.0"),
            std::vector<std::string>{"203.0.113.0/24 dev d0 proto static scope link "});
  EXPECT_TRUE(manager_->add_route(route, "d0"));
  EXPECT_TRUE(manager_->remove_route(route, "d0"));
  EXPECT_EQ(lines_with(output_of("ip route show"), "203.0.113.0"), std::vector<std::string>{});
}

TEST_F(AddressManagerTest, AddsAnIpv6RouteWithTheKernelsDefaultMetric) {
  const model::VirtualRoute route{.destination = prefix("2001:db8:1::/64")};
  ASSERT_TRUE(manager_->add_route(route, "d0"));
  EXPECT_EQ(manager_->has_route(route, "d0").value(), true);
  EXPECT_EQ(lines_with(output_of("ip -6 route show"), "2001:db8:1::"),
            std::vector<std::string>{"2001:db8:1::/64 dev d0 proto static metric 1024 pref medium"});
  EXPECT_TRUE(manager_->add_route(route, "d0"));
  EXPECT_TRUE(manager_->remove_route(route, "d0"));
  EXPECT_EQ(manager_->has_route(route, "d0").value(), false);
}

TEST_F(AddressManagerTest, ARouteInTheWayIsAnError) {
  ASSERT_TRUE(NetnsScope::run("ip addr add 192.0.2.1/24 dev d0"));
  model::VirtualRoute route{
      .destination = prefix("198.51.100.0/24"), .via = address("192.0.2.254"), .metric = 5, .table = 100};
  ASSERT_TRUE(manager_->add_route(route, "d0"));
  route.via = address("192.0.2.253");
  auto added = manager_->add_route(route, "d0");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().text,
            "cannot add route 198.51.100.0/24 via 192.0.2.253 dev d0 table 100 metric 5: File exists "
            "(another route has that destination and metric)");
}

TEST_F(AddressManagerTest, ARouteOnAnUnknownDeviceIsAnErrorToAddAndNothingToRemove) {
  const model::VirtualRoute route{.destination = prefix("203.0.113.0/24")};
  auto added = manager_->add_route(route, "eth9");
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().text, "cannot add route 203.0.113.0/24 dev eth9: No such device");
  EXPECT_TRUE(manager_->remove_route(route, "eth9"));
}

// ---------------------------------------------------------------------------------------
// VMAC interfaces

// The word after `key` in `text` ("" when `key` is not there): what `ip -d link` says of a
// setting.
std::string word_after(const std::string& text, const std::string& key) {
  auto at = text.find(key);
  if (at == std::string::npos) return {};
  at = text.find_first_not_of(' ', at + key.size());
  if (at == std::string::npos) return {};
  return text.substr(at, text.find_first_of(" \\\n", at) - at);
}

// A setting from /proc/sys/net/<ip>/conf/<interface>/<key>, as the test's namespace has it
// (-1: unreadable).
int conf(const std::string& ip, const std::string& interface, const std::string& key) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(
      std::fopen(("/proc/sys/net/" + ip + "/conf/" + interface + "/" + key).c_str(), "r"), &std::fclose);
  int value = -1;
  if (!file || std::fscanf(file.get(), "%d", &value) != 1) return -1;
  return value;
}

bool set_conf(const std::string& ip, const std::string& interface, const std::string& key, int value) {
  return NetnsScope::run("echo " + std::to_string(value) + " > /proc/sys/net/" + ip + "/conf/" + interface + "/" + key);
}

// What `ip -o -d link show` says of a link.
struct LinkFacts {
  std::string line;  // ip -o -d link show
  std::string flags() const { return word_after(line, "<").substr(0, word_after(line, "<").find('>')); }
  std::string parent() const { return word_after(line, "@").substr(0, word_after(line, "@").find(':')); }
  std::string mac() const { return word_after(line, "link/ether"); }
  std::string macvlan_mode() const { return word_after(line, "macvlan mode"); }
  std::string group() const { return word_after(line, " group"); }
  std::string addrgenmode() const { return word_after(line, "addrgenmode"); }
  std::string index() const { return line.substr(0, line.find(':')); }
};
LinkFacts link_facts(const std::string& name) { return {output_of("ip -o -d link show dev " + name + " 2>/dev/null")}; }

class VmacTest : public AddressManagerTest {
 protected:
  const Vmac v4_{.name = "vrrp.51", .parent = "d0", .vrid = 51};
  const Vmac v6_{.name = "vrrp.51", .parent = "d0", .vrid = 51, .family = model::Family::V6};
};

TEST_F(VmacTest, CreatesAnIpv4VmacUpInPrivateModeWithTheVirtualMac) {
  ASSERT_TRUE(NetnsScope::run("ip link set d0 group 7"));
  auto made = manager_->ensure_vmac(v4_);
  ASSERT_TRUE(made) << made.error();
  EXPECT_EQ(*made, VmacOutcome::Created);
  const auto facts = link_facts("vrrp.51");
  EXPECT_EQ(facts.parent(), "d0");
  EXPECT_EQ(facts.mac(), "00:00:5e:00:01:33");
  EXPECT_EQ(facts.macvlan_mode(), "private");
  EXPECT_EQ(facts.flags(), "BROADCAST,MULTICAST,UP,LOWER_UP");
  EXPECT_EQ(facts.group(), "7");
  EXPECT_EQ(facts.addrgenmode(), "none");
  // No address of its own; IPv6 off on an IPv4 instance's vmac.
  EXPECT_EQ(output_of("ip -o addr show dev vrrp.51"), "");
  EXPECT_EQ(conf("ipv6", "vrrp.51", "disable_ipv6"), 1);
  EXPECT_EQ(conf("ipv4", "vrrp.51", "arp_ignore"), 1);
  EXPECT_EQ(conf("ipv4", "vrrp.51", "accept_local"), 1);
  EXPECT_EQ(conf("ipv4", "vrrp.51", "rp_filter"), 0);
  EXPECT_EQ(conf("ipv4", "vrrp.51", "promote_secondaries"), 1);
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 1);
  EXPECT_EQ(conf("ipv4", "d0", "arp_filter"), 1);
}

TEST_F(VmacTest, SetsRpFilterToZeroWhereItCountsWithoutLooseningAnyOtherInterface) {
  if (!make_link("d1")) GTEST_SKIP() << "cannot create interface d1";
  ASSERT_TRUE(set_conf("ipv4", "all", "rp_filter", 1));
  ASSERT_TRUE(set_conf("ipv4", "default", "rp_filter", 0));
  ASSERT_TRUE(set_conf("ipv4", "d0", "rp_filter", 0));
  ASSERT_TRUE(set_conf("ipv4", "d1", "rp_filter", 2));
  ASSERT_TRUE(manager_->ensure_vmac(v4_));
  EXPECT_EQ(conf("ipv4", "all", "rp_filter"), 0);
  EXPECT_EQ(conf("ipv4", "default", "rp_filter"), 1);
  EXPECT_EQ(conf("ipv4", "d0", "rp_filter"), 1);
  EXPECT_EQ(conf("ipv4", "d1", "rp_filter"), 2);  // stricter than all already: left alone
  EXPECT_EQ(conf("ipv4", "vrrp.51", "rp_filter"), 0);

  ASSERT_TRUE(manager_->remove_vmac("vrrp.51"));
  EXPECT_EQ(conf("ipv4", "all", "rp_filter"), 1);
  EXPECT_EQ(conf("ipv4", "default", "rp_filter"), 0);
  EXPECT_EQ(conf("ipv4", "d0", "rp_filter"), 0);
  EXPECT_EQ(conf("ipv4", "d1", "rp_filter"), 2);
}

TEST_F(VmacTest, ASecondCallReusesItAndChangesNothing) {
  ASSERT_TRUE(manager_->ensure_vmac(v4_));
  const auto before = link_facts("vrrp.51");
  auto again = manager_->ensure_vmac(v4_);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, VmacOutcome::Reused);
  EXPECT_EQ(link_facts("vrrp.51").line, before.line);
}

TEST_F(VmacTest, ReusesAMacvlanLeftBehindAndSetsItUp) {
  ASSERT_TRUE(NetnsScope::run("ip link add link d0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode bridge"));
  const auto index = link_facts("vrrp.51").index();
  auto reused = manager_->ensure_vmac(v4_);
  ASSERT_TRUE(reused) << reused.error();
  EXPECT_EQ(*reused, VmacOutcome::Reused);
  const auto facts = link_facts("vrrp.51");
  EXPECT_EQ(facts.index(), index);
  EXPECT_EQ(facts.macvlan_mode(), "private");
  EXPECT_EQ(facts.flags(), "BROADCAST,MULTICAST,UP,LOWER_UP");
  EXPECT_EQ(facts.addrgenmode(), "none");
  EXPECT_EQ(conf("ipv4", "vrrp.51", "arp_ignore"), 1);
  EXPECT_EQ(conf("ipv4", "d0", "arp_filter"), 1);
}

TEST_F(VmacTest, OnAMacvlanParentItGoesOnTheLowerInterface) {
  ASSERT_TRUE(NetnsScope::run("ip link add link d0 name m0 type macvlan mode bridge && ip link set m0 up"));
  const Vmac vmac{.name = "vrrp.51", .parent = "m0", .vrid = 51};
  ASSERT_TRUE(manager_->ensure_vmac(vmac));
  EXPECT_EQ(link_facts("vrrp.51").parent(), "d0");
  auto again = manager_->ensure_vmac(vmac);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, VmacOutcome::Reused);
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 1);
}

TEST_F(VmacTest, AnotherLinkOfThatNameIsRefusedAndLeftAlone) {
  ASSERT_TRUE(NetnsScope::run("ip link add vrrp.51 type veth peer name vrrp.51p"));
  const auto before = link_facts("vrrp.51");
  auto made = manager_->ensure_vmac(v4_);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, errc::make_error_code(errc::file_exists));
  EXPECT_EQ(made.error().text, "vrrp.51 exists and is not a macvlan of d0 with 00:00:5e:00:01:33 (it is a veth)");
  EXPECT_EQ(link_facts("vrrp.51").line, before.line);
}

TEST_F(VmacTest, AMacvlanWithAnotherMacOrParentIsRefused) {
  ASSERT_TRUE(NetnsScope::run("ip link add link d0 name vrrp.51 address 00:00:5e:00:01:34 type macvlan mode private"));
  auto made = manager_->ensure_vmac(v4_);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().text,
            "vrrp.51 exists and is not a macvlan of d0 with 00:00:5e:00:01:33 (its MAC is 00:00:5e:00:01:34)");
  EXPECT_EQ(link_facts("vrrp.51").mac(), "00:00:5e:00:01:34");

  if (!make_link("d1")) GTEST_SKIP() << "cannot create interface d1";
  ASSERT_TRUE(NetnsScope::run("ip link del vrrp.51 && ip link add link d1 name vrrp.51 address 00:00:5e:00:01:33 "
                              "type macvlan mode private"));
  made = manager_->ensure_vmac(v4_);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().text, "vrrp.51 exists and is not a macvlan of d0 with 00:00:5e:00:01:33 (it is a macvlan of d1)");
}

TEST_F(VmacTest, AMissingParentIsAnError) {
  auto made = manager_->ensure_vmac({.name = "vrrp.51", .parent = "eth9", .vrid = 51});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, errc::make_error_code(errc::no_such_device));
  EXPECT_EQ(made.error().text, "cannot create vrrp.51 on eth9: No such device");
  EXPECT_EQ(link_facts("vrrp.51").line, "");
}

// The link-local addresses of an interface, as `ip -6 -o addr` prints them.
std::vector<std::string> link_locals(const std::string& device) {
  return lines_with(output_of("ip -6 -o addr show scope link dev " + device), "inet6");
}

// d0 with only the link-local address fe80::d0, or none: the kernel adds none of its own to it
// from now on (which it would do when the veth gets its carrier, at a time of its choosing).
bool only_link_local(const std::string& address) {
  return NetnsScope::run("ip link set d0 addrgenmode none && ip -6 addr flush dev d0" +
                         (address.empty() ? "" : " && ip -6 addr add " + address + " dev d0 nodad"));
}

TEST_F(VmacTest, AnIpv6VmacGetsTheParentsLinkLocalAddressWithoutDad) {
  ASSERT_TRUE(only_link_local("fe80::d0/64"));
  auto made = manager_->ensure_vmac(v6_);
  ASSERT_TRUE(made) << made.error();
  const auto facts = link_facts("vrrp.51");
  EXPECT_EQ(facts.mac(), "00:00:5e:00:02:33");
  EXPECT_EQ(facts.macvlan_mode(), "private");
  EXPECT_EQ(facts.addrgenmode(), "none");
  // That one alone (none made from the VMAC), usable at once.
  EXPECT_EQ(link_locals("vrrp.51"), std::vector<std::string>{"vrrp.51    inet6 fe80::d0/64 scope link nodad "});
  EXPECT_EQ(conf("ipv6", "vrrp.51", "disable_ipv6"), 0);
  EXPECT_EQ(conf("ipv4", "vrrp.51", "arp_ignore"), 1);
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 0);  // no IPv4 VIPs on it: the parent keeps answering ARP
  EXPECT_EQ(*manager_->ensure_vmac(v6_), VmacOutcome::Reused);
  EXPECT_EQ(link_locals("vrrp.51").size(), 1u);
}

TEST_F(VmacTest, WithoutOneOnTheParentTheLinkLocalAddressComesFromTheParentsMac) {
  ASSERT_TRUE(only_link_local(""));
  ASSERT_TRUE(NetnsScope::run("ip link set d0 address 02:11:22:33:44:55"));
  ASSERT_TRUE(manager_->ensure_vmac(v6_));
  EXPECT_EQ(link_locals("vrrp.51"),
            std::vector<std::string>{"vrrp.51    inet6 fe80::11:22ff:fe33:4455/64 scope link nodad "});
}

TEST_F(VmacTest, TheLinkLocalAddressAskedForReplacesAnotherOne) {
  ASSERT_TRUE(only_link_local("fe80::d0/64"));
  ASSERT_TRUE(manager_->ensure_vmac(v6_));
  ASSERT_EQ(link_locals("vrrp.51"), std::vector<std::string>{"vrrp.51    inet6 fe80::d0/64 scope link nodad "});
  Vmac vmac = v6_;
  vmac.link_local = address("fe80::51");
  ASSERT_TRUE(manager_->ensure_vmac(vmac));
  EXPECT_EQ(link_locals("vrrp.51"), std::vector<std::string>{"vrrp.51    inet6 fe80::51/64 scope link nodad "});
}

TEST_F(VmacTest, RemovesItAndPutsTheParentsArpSettingsBack) {
  ASSERT_TRUE(set_conf("ipv4", "d0", "arp_filter", 1));  // already as the vmac needs: stays
  ASSERT_TRUE(manager_->ensure_vmac(v4_));
  auto removed = manager_->remove_vmac("vrrp.51");
  ASSERT_TRUE(removed) << removed.error();
  EXPECT_EQ(link_facts("vrrp.51").line, "");
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 0);
  EXPECT_EQ(conf("ipv4", "d0", "arp_filter"), 1);
  auto again = manager_->remove_vmac("vrrp.51");
  EXPECT_TRUE(again) << again.error();
}

TEST_F(VmacTest, TheParentKeepsItsArpSettingsWhileAnotherVmacIsOnIt) {
  ASSERT_TRUE(manager_->ensure_vmac(v4_));
  ASSERT_TRUE(manager_->ensure_vmac({.name = "vrrp.52", .parent = "d0", .vrid = 52}));
  ASSERT_TRUE(manager_->remove_vmac("vrrp.51"));
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 1);
  ASSERT_TRUE(manager_->remove_vmac("vrrp.52"));
  EXPECT_EQ(conf("ipv4", "d0", "arp_ignore"), 0);
}

TEST_F(VmacTest, RemoveLeavesAnInterfaceThatIsNotAMacvlan) {
  auto removed = manager_->remove_vmac("d0");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().text, "will not remove d0: it is a veth, not a macvlan");
  EXPECT_NE(link_facts("d0").line, "");
}

TEST(VmacOf, NamesItAfterTheVridUnlessToldAndTakesALinkLocalSource) {
  model::VrrpInstance instance{.name = "vi", .interface = "eth0", .vrid = 51};
  EXPECT_EQ(vmac_of(instance), (Vmac{.name = "vrrp.51", .parent = "eth0", .vrid = 51}));
  instance.vmac_name = "vmac0";
  instance.family = model::Family::V6;
  instance.unicast_source = address("2001:db8::1");  // not link-local: not for the vmac
  EXPECT_EQ(vmac_of(instance),
            (Vmac{.name = "vmac0", .parent = "eth0", .vrid = 51, .family = model::Family::V6}));
  instance.unicast_source = address("fe80::1");
  EXPECT_EQ(vmac_of(instance).link_local, address("fe80::1"));
}

// ---------------------------------------------------------------------------------------

// Runs the loop until `done` or the deadline; false at the deadline.
template <class Done>
bool run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io.run_one_for(deadline - now);
    if (io.stopped()) io.restart();
  }
  return true;
}

class LinkMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.ok()) GTEST_SKIP() << "needs root (network namespaces)";
    if (!make_link("d0")) GTEST_SKIP() << "cannot create interface d0";
  }

  void open() {
    auto opened = LinkMonitor::open(io_.get_executor(), [this](const LinkEvent& e) {
      // Only the test's interfaces: a namespace may also hold the fallback tunnels
      // (tunl0, sit0, ...) of whatever modules the host has loaded, and veth peers.
      static const std::set<std::string> ours{"lo", "d0", "d1", "d2", "v0"};
      if (ours.contains(e.name)) events_.push_back(e);
    });
    ASSERT_TRUE(opened) << opened.error();
    monitor_ = std::make_unique<LinkMonitor>(std::move(*opened));
    ASSERT_TRUE(run_until(io_, [&] { return monitor_->synced(); }));
  }

  // Waits for an event about `name`; returns the events since the last call.
  std::vector<LinkEvent> after(const std::string& command, const LinkEvent& last) {
    events_.clear();
    EXPECT_TRUE(NetnsScope::run(command));
    EXPECT_TRUE(run_until(io_, [&] { return std::find(events_.begin(), events_.end(), last) != events_.end(); }))
        << "no " << last << " after " << command;
    return events_;
  }

  NetnsScope ns_;
  boost::asio::io_context io_;
  std::vector<LinkEvent> events_;
  std::unique_ptr<LinkMonitor> monitor_;  // destroyed before the loop, inside the namespace
};

TEST_F(LinkMonitorTest, TheInitialDumpReportsEveryInterface) {
  if (!make_link("d1", false)) GTEST_SKIP() << "cannot create interface d1";
  open();
  std::sort(events_.begin(), events_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  EXPECT_EQ(events_, (std::vector<LinkEvent>{{"d0", true, true}, {"d1", false, true}, {"lo", true, true}}));
  EXPECT_EQ(monitor_->is_up("d0"), true);
  EXPECT_EQ(monitor_->is_up("d1"), false);
  EXPECT_EQ(monitor_->is_up("eth9"), std::nullopt);
  EXPECT_EQ(monitor_->resyncs(), 0u);
}

TEST_F(LinkMonitorTest, ReportsDownAndUp) {
  open();
  EXPECT_EQ(after("ip link set d0 down", {"d0", false, true}), (std::vector<LinkEvent>{{"d0", false, true}}));
  EXPECT_EQ(monitor_->is_up("d0"), false);
  EXPECT_EQ(after("ip link set d0 up", {"d0", true, true}), (std::vector<LinkEvent>{{"d0", true, true}}));
  EXPECT_EQ(monitor_->is_up("d0"), true);
}

TEST_F(LinkMonitorTest, UpMeansRunningNotOnlyAdministrativelyUp) {
  // A veth end is IFF_UP at once but IFF_RUNNING only once its peer is up.
  ASSERT_TRUE(NetnsScope::run("ip link add v0 type veth peer name v1"));
  open();
  // No event for v0: d0's, which comes after it, shows that v0's change was read.
  EXPECT_EQ(after("ip link set v0 up && ip link set d0 down", {"d0", false, true}),
            (std::vector<LinkEvent>{{"d0", false, true}}));
  EXPECT_EQ(monitor_->is_up("v0"), false);
  EXPECT_EQ(after("ip link set v1 up", {"v0", true, true}), (std::vector<LinkEvent>{{"v0", true, true}}));
}

TEST_F(LinkMonitorTest, ReportsAnInterfaceDeleted) {
  open();
  const auto events = after("ip link del d0", {"d0", false, false});
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), (LinkEvent{"d0", false, false}));
  EXPECT_EQ(monitor_->is_up("d0"), std::nullopt);
}

TEST_F(LinkMonitorTest, ReportsARenameAsTheOldNameGoneAndTheNewOneThere) {
  open();
  ASSERT_TRUE(NetnsScope::run("ip link set d0 down"));
  ASSERT_TRUE(run_until(io_, [&] { return monitor_->is_up("d0") == false; }));
  EXPECT_EQ(after("ip link set d0 name d2", {"d2", false, true}),
            (std::vector<LinkEvent>{{"d0", false, false}, {"d2", false, true}}));
  EXPECT_EQ(monitor_->is_up("d0"), std::nullopt);
  EXPECT_EQ(monitor_->is_up("d2"), false);
}

TEST_F(LinkMonitorTest, NoCallbackOnceDestroyed) {
  open();
  events_.clear();
  ASSERT_TRUE(NetnsScope::run("ip link set d0 down"));
  monitor_.reset();  // the event is queued on the socket, unread
  io_.run_for(100ms);  // returns at once: the cancelled wait is the last work
  EXPECT_EQ(events_, std::vector<LinkEvent>{});
}

}  // namespace
}  // namespace lvsd::vrrp
