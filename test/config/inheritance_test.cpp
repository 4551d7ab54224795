// Tests for inheritance ([defaults] → virtual → real server), address ranges and includes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/config/config.hpp"
#include "load_helpers.hpp"

namespace lvsd::config {
namespace {

using namespace lvsd::config::test;

using namespace std::chrono_literals;
namespace fs = std::filesystem;

model::Desired load(std::string_view text) { return load_valid(text, "inherit.toml"); }


model::RealServer rs(std::string_view endpoint) { return {.endpoint = ep(endpoint)}; }

// The real servers of the only virtual server.
std::vector<model::RealServer> real_servers(std::string_view text) {
  const auto d = load(text);
  EXPECT_EQ(d.virtual_servers.size(), 1u);
  return d.virtual_servers.empty() ? std::vector<model::RealServer>{} : d.virtual_servers[0].real_servers;
}

const model::CheckSpec kTcp{.type = model::CheckType::Tcp};
const model::CheckSpec kIcmp{.type = model::CheckType::Icmp, .detail = model::IcmpCheck{}};
const model::CheckSpec kHttp{.type = model::CheckType::Http, .detail = model::HttpCheck{}};

// --- [defaults] → virtual servers ---------------------------------------------------------

TEST(DefaultsInheritanceTest, InheritedByEveryVirtualServer) {
  const auto d = load(R"(
[defaults]
scheduler = "rr"
persistence_timeout = 60
quorum = 2
initial_health = "down"
weight = 3
forward = "dr"

[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.11" }]

[[virtual_server]]
address = "[2001:db8::10]:443"
protocol = "udp"
real_server = [{ address = "2001:db8::11" }]

[[virtual_server]]
fwmark = 9
real_server = [{ address = "10.0.0.21" }]
)");
  auto expected = [](std::string name, model::ServiceKey key, std::uint8_t prefix_length,
                     std::string_view real) {
    return model::VirtualServer{
        .name = std::move(name),
        .key = key,
        .scheduler = model::Scheduler::Rr,
        .persistence = model::Persistence{.timeout = 60s, .prefix_length = prefix_length},
        .real_servers = {{.endpoint = ep(real), .weight = 3, .forwarding = {.method = model::ForwardMethod::Dr}}},
        .quorum = {.minimum = 2},
        .initial_health = model::InitialHealth::Down};
  };
  EXPECT_EQ(d.virtual_servers,
            (std::vector<model::VirtualServer>{
                expected("TCP 192.0.2.10:80", {.endpoint = ep("192.0.2.10:80")}, 32, "10.0.0.11:80"),
                expected("UDP [2001:db8::10]:443",
                         {.family = model::Family::V6, .protocol = model::Protocol::Udp,
                          .endpoint = ep("[2001:db8::10]:443")},
                         128, "[2001:db8::11]:443"),
                expected("FWM 9", {.fwmark = 9}, 32, "10.0.0.21:0")}));
}

TEST(DefaultsInheritanceTest, VirtualServerOverridesDefaults) {
  const auto d = load(R"(
[defaults]
protocol = "udp"
scheduler = "rr"
one_packet = true
inhibit_on_failure = true

[[virtual_server]]
address = "192.0.2.10:53"

[[virtual_server]]
address = "192.0.2.11:80"
protocol = "tcp"
scheduler = "lc"
one_packet = false
inhibit_on_failure = false
)");
  EXPECT_EQ(d.virtual_servers,
            (std::vector<model::VirtualServer>{
                {.name = "UDP 192.0.2.10:53",
                 .key = {.protocol = model::Protocol::Udp, .endpoint = ep("192.0.2.10:53")},
                 .scheduler = model::Scheduler::Rr,
                 .one_packet = true,
                 .inhibit_on_failure = true},
                {.name = "TCP 192.0.2.11:80",
                 .key = {.protocol = model::Protocol::Tcp, .endpoint = ep("192.0.2.11:80")},
                 .scheduler = model::Scheduler::Lc}}));
}

TEST(DefaultsInheritanceTest, PersistencePartsComeFromWhereverTheyAreSet) {
  // The timeout from [defaults], the netmask from the virtual server.
  const auto d = load(R"(
[defaults]
persistence_timeout = "5m"
persistence_netmask = 24

[[virtual_server]]
address = "192.0.2.10:80"

[[virtual_server]]
address = "192.0.2.11:80"
persistence_netmask = "255.255.0.0"

[[virtual_server]]
address = "192.0.2.12:80"
persistence_timeout = 30
)");
  ASSERT_EQ(d.virtual_servers.size(), 3u);
  EXPECT_EQ(d.virtual_servers[0].persistence, (model::Persistence{.timeout = 300s, .prefix_length = 24}));
  EXPECT_EQ(d.virtual_servers[1].persistence, (model::Persistence{.timeout = 300s, .prefix_length = 16}));
  EXPECT_EQ(d.virtual_servers[2].persistence, (model::Persistence{.timeout = 30s, .prefix_length = 24}));
}

TEST(DefaultsInheritanceTest, QuorumPartsAreInheritedOneByOne) {
  const auto d = load(R"(
[defaults]
quorum = 4
hysteresis = 1
quorum_up = "/bin/up"

[[virtual_server]]
address = "192.0.2.10:80"
quorum = 2
quorum_down = "/bin/down"
)");
  ASSERT_EQ(d.virtual_servers.size(), 1u);
  EXPECT_EQ(d.virtual_servers[0].quorum,
            (model::Quorum{.minimum = 2, .hysteresis = 1, .up_command = "/bin/up", .down_command = "/bin/down"}));
}

TEST(DefaultsInheritanceTest, SorryServerInheritsThroughTheVirtualServer) {
  const auto d = load(R"(
[defaults]
weight = 2
upper_threshold = 9

[[virtual_server]]
address = "192.0.2.10:80"
forward = "dr"
sorry_server = "10.0.0.99"

[[virtual_server]]
address = "192.0.2.11:80"
sorry_server = { address = "10.0.0.98:8080", weight = 5 }
)");
  ASSERT_EQ(d.virtual_servers.size(), 2u);
  EXPECT_EQ(d.virtual_servers[0].sorry_server,
            (model::RealServer{.endpoint = ep("10.0.0.99:80"), .weight = 2,
                               .forwarding = {.method = model::ForwardMethod::Dr}, .upper_threshold = 9}));
  EXPECT_EQ(d.virtual_servers[1].sorry_server,
            (model::RealServer{.endpoint = ep("10.0.0.98:8080"), .weight = 5, .upper_threshold = 9}));
}

// --- virtual server → real servers --------------------------------------------------------

TEST(RealServerInheritanceTest, VirtualServerSettingsReachEveryRealServer) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
weight = 5
forward = "dr"
upper_threshold = 100
lower_threshold = 10
[[virtual_server.real_server]]
address = "10.0.0.11"
[[virtual_server.real_server]]
address = "10.0.0.12:80"
)");
  const model::RealServer proto{.weight = 5,
                                .forwarding = {.method = model::ForwardMethod::Dr},
                                .upper_threshold = 100,
                                .lower_threshold = 10};
  auto at = [&](std::string_view endpoint) {
    auto r = proto;
    r.endpoint = ep(endpoint);
    return r;
  };
  EXPECT_EQ(got, (std::vector<model::RealServer>{at("10.0.0.11:80"), at("10.0.0.12:80")}));
}

TEST(RealServerInheritanceTest, RealServerOverridesTheVirtualServer) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
weight = 5
forward = "dr"
upper_threshold = 100
[[virtual_server.real_server]]
address = "10.0.0.11:8080"
weight = 1
forward = "nat"
upper_threshold = 0
[[virtual_server.real_server]]
address = "10.0.0.12"
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{
                     {.endpoint = ep("10.0.0.11:8080"), .weight = 1, .upper_threshold = 0},
                     {.endpoint = ep("10.0.0.12:80"), .weight = 5,
                      .forwarding = {.method = model::ForwardMethod::Dr}, .upper_threshold = 100}}));
}

TEST(RealServerInheritanceTest, ClosestLevelWinsKeyByKey) {
  const auto got = real_servers(R"(
[defaults]
weight = 2
upper_threshold = 300
lower_threshold = 30

[[virtual_server]]
address = "192.0.2.10:80"
weight = 3
upper_threshold = 200
[[virtual_server.real_server]]
address = "10.0.0.11"
weight = 4
[[virtual_server.real_server]]
address = "10.0.0.12"
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{
                     {.endpoint = ep("10.0.0.11:80"), .weight = 4, .upper_threshold = 200, .lower_threshold = 30},
                     {.endpoint = ep("10.0.0.12:80"), .weight = 3, .upper_threshold = 200, .lower_threshold = 30}}));
}

TEST(RealServerInheritanceTest, TunnelSettingsFromEveryLevel) {
  const auto d = load(R"(
[defaults]
forward = "tun"
tunnel_type = "gue"
tunnel_port = 6080
tunnel_checksum = "csum"

[[virtual_server]]
address = "192.0.2.10:80"
tunnel_port = 7000
[[virtual_server.real_server]]
address = "10.0.0.11"
tunnel_checksum = "remcsum"
[[virtual_server.real_server]]
address = "10.0.0.12"

[[virtual_server]]
address = "192.0.2.11:80"
[[virtual_server.real_server]]
address = "10.0.0.21"
tunnel_type = "gre"
[[virtual_server.real_server]]
address = "10.0.0.22:8080"
forward = "nat"

[[virtual_server]]
address = "192.0.2.12:80"
tunnel_type = "ipip"
real_server = [{ address = "10.0.0.31" }]
)");
  ASSERT_EQ(d.virtual_servers.size(), 3u);
  const model::Forwarding gue{.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gue,
                              .tunnel_port = 7000, .tunnel_checksum = model::TunnelChecksum::Csum};
  EXPECT_EQ(d.virtual_servers[0].real_servers,
            (std::vector<model::RealServer>{
                {.endpoint = ep("10.0.0.11:80"),
                 .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gue,
                                .tunnel_port = 7000, .tunnel_checksum = model::TunnelChecksum::RemCsum}},
                {.endpoint = ep("10.0.0.12:80"), .forwarding = gue}}));
  EXPECT_EQ(d.virtual_servers[1].real_servers,
            (std::vector<model::RealServer>{
                // A gre tunnel ignores the gue port of [defaults] and takes its checksum.
                {.endpoint = ep("10.0.0.21:80"),
                 .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gre,
                                .tunnel_port = 0, .tunnel_checksum = model::TunnelChecksum::Csum}},
                // NAT ignores every tunnel setting of [defaults].
                {.endpoint = ep("10.0.0.22:8080")}}));
  EXPECT_EQ(d.virtual_servers[2].real_servers,
            (std::vector<model::RealServer>{
                // ipip ignores both the port and the checksum of [defaults].
                {.endpoint = ep("10.0.0.31:80"),
                 .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Ipip,
                                .tunnel_port = 0, .tunnel_checksum = model::TunnelChecksum::NoCsum}}}));
}

TEST(RealServerInheritanceTest, UnusedTunnelSettingsOfDefaultsAreStillChecked) {
  const auto r = load_string(R"(
[defaults]
forward = "tun"
tunnel_type = "gre"
tunnel_port = 0
[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.11" }]
)",
                             "inherit.toml", "/nonexistent");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(errors_of(r),
            "inherit.toml:5:15: defaults.tunnel_port: 0 is out of range; expected an integer from 1 to 65535\n");
}

// --- checks --------------------------------------------------------------------------------

TEST(CheckInheritanceTest, ChecksFromDefaultsReachEveryRealServer) {
  const auto d = load(R"(
[defaults]
check = [{ type = "tcp" }, { type = "icmp" }]

[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.11" }, { address = "10.0.0.12" }]

[[virtual_server]]
address = "192.0.2.11:443"
real_server = [{ address = "10.0.0.21" }]
)");
  ASSERT_EQ(d.virtual_servers.size(), 2u);
  const std::vector<model::CheckSpec> both{kTcp, kIcmp};
  EXPECT_EQ(d.virtual_servers[0].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = both},
                                            {.endpoint = ep("10.0.0.12:80"), .checks = both}}));
  EXPECT_EQ(d.virtual_servers[1].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.21:443"), .checks = both}}));
  EXPECT_EQ(d.virtual_servers[0].sorry_server, std::nullopt);
}

TEST(CheckInheritanceTest, VirtualServerChecksReplaceTheDefaults) {
  const auto d = load(R"(
[defaults]
check = [{ type = "tcp" }, { type = "icmp" }]

[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.11" }]
  [[virtual_server.check]]
  type = "http"

[[virtual_server]]
address = "192.0.2.11:80"
real_server = [{ address = "10.0.0.21" }]
)");
  ASSERT_EQ(d.virtual_servers.size(), 2u);
  EXPECT_EQ(d.virtual_servers[0].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = {kHttp}}}))
      << "the list replaces the inherited one; it is not merged";
  EXPECT_EQ(d.virtual_servers[1].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.21:80"), .checks = {kTcp, kIcmp}}}));
}

TEST(CheckInheritanceTest, VirtualServerChecksReachEveryRealServer) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
[[virtual_server.check]]
type = "http"
path = "/health"
interval = 5
[[virtual_server.real_server]]
address = "10.0.0.11"
[[virtual_server.real_server]]
address = "10.0.0.12"
)");
  const model::CheckSpec health{.type = model::CheckType::Http,
                                .timing = {.interval = 5s},
                                .detail = model::HttpCheck{.urls = {{.path = "/health"}}}};
  EXPECT_EQ(got, (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = {health}},
                                                 {.endpoint = ep("10.0.0.12:80"), .checks = {health}}}));
}

TEST(CheckInheritanceTest, EmptyCheckListOnARealServerMeansNoChecks) {
  const auto d = load(R"(
[defaults]
check = [{ type = "icmp" }]

[[virtual_server]]
address = "192.0.2.10:80"
check = [{ type = "tcp" }]
real_server = [{ address = "10.0.0.11" }, { address = "10.0.0.12", check = [] }]

[[virtual_server]]
address = "192.0.2.11:80"
real_server = [{ address = "10.0.0.21", check = [] }, { address = "10.0.0.22" }]
)");
  ASSERT_EQ(d.virtual_servers.size(), 2u);
  EXPECT_EQ(d.virtual_servers[0].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = {kTcp}},
                                            {.endpoint = ep("10.0.0.12:80"), .checks = {}}}));
  EXPECT_EQ(d.virtual_servers[1].real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.21:80"), .checks = {}},
                                            {.endpoint = ep("10.0.0.22:80"), .checks = {kIcmp}}}));
}

TEST(CheckInheritanceTest, EmptyCheckListOnAVirtualServerMeansNoChecks) {
  const auto got = real_servers(R"(
[defaults]
check = [{ type = "icmp" }]
[[virtual_server]]
address = "192.0.2.10:80"
check = []
real_server = [{ address = "10.0.0.11" }, { address = "10.0.0.12", check = [{ type = "tcp" }] }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = {}},
                                                 {.endpoint = ep("10.0.0.12:80"), .checks = {kTcp}}}));
}

TEST(CheckInheritanceTest, RealServerChecksReplaceInheritedOnes) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
check = [{ type = "tcp" }, { type = "icmp" }]
[[virtual_server.real_server]]
address = "10.0.0.11"
  [[virtual_server.real_server.check]]
  type = "http"
[[virtual_server.real_server]]
address = "10.0.0.12"
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.11:80"), .checks = {kHttp}},
                                                 {.endpoint = ep("10.0.0.12:80"), .checks = {kTcp, kIcmp}}}));
}

// --- address ranges ------------------------------------------------------------------------

TEST(RangeTest, Ipv4RangeWithPort) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
[[virtual_server.real_server]]
address = "10.0.0.[10-40]:80"
weight = 2
check = [{ type = "tcp" }]
)");
  ASSERT_EQ(got.size(), 31u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i], (model::RealServer{.endpoint = {.address = model::IpAddress::v4(0x0A00000Au + i), .port = 80},
                                         .weight = 2,
                                         .checks = {kTcp}}));
  }
  EXPECT_EQ(got.front().endpoint.to_string(), "10.0.0.10:80");
  EXPECT_EQ(got[1].endpoint.to_string(), "10.0.0.11:80");
  EXPECT_EQ(got.back().endpoint.to_string(), "10.0.0.40:80");
}

TEST(RangeTest, Ipv4RangeWithOtherPort) {
  const auto got = real_servers(
      "[[virtual_server]]\naddress = \"192.0.2.10:80\"\nreal_server = [{ address = \"10.0.0.[8-10]:8080\" }]\n");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("10.0.0.8:8080"), rs("10.0.0.9:8080"), rs("10.0.0.10:8080")}));
}

TEST(RangeTest, Ipv6RangeIsHexadecimal) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "[2001:db8::10]:80"
real_server = [{ address = "[2001:db8::[a-c]]:80" }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("[2001:db8::a]:80"), rs("[2001:db8::b]:80"),
                                                 rs("[2001:db8::c]:80")}));
}

TEST(RangeTest, Ipv6RangeCrossesFromDigitsToLetters) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "[2001:db8::10]:443"
real_server = [{ address = "[2001:db8::1:[9-b]]:8443" }, { address = "[2001:db8::[fe-101]]" }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{
                     rs("[2001:db8::1:9]:8443"), rs("[2001:db8::1:a]:8443"), rs("[2001:db8::1:b]:8443"),
                     rs("[2001:db8::fe]:443"), rs("[2001:db8::ff]:443"), rs("[2001:db8::100]:443"),
                     rs("[2001:db8::101]:443")}));
}

TEST(RangeTest, BareAddressesTakeTheVirtualServersPort) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:8080"
real_server = [{ address = "10.0.0.[1-3]" }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("10.0.0.1:8080"), rs("10.0.0.2:8080"), rs("10.0.0.3:8080")}));
}

TEST(RangeTest, BareIpv6AddressesTakeTheVirtualServersPort) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "[2001:db8::10]:8080"
real_server = [{ address = "2001:db8::[a-b]" }, { address = "[2001:db8::[c-d]]" }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("[2001:db8::a]:8080"), rs("[2001:db8::b]:8080"),
                                                 rs("[2001:db8::c]:8080"), rs("[2001:db8::d]:8080")}));
}

TEST(RangeTest, DirectRoutingRangeKeepsTheServicePort) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:443"
forward = "dr"
real_server = [{ address = "10.0.0.[1-2]" }]
)");
  const model::Forwarding dr{.method = model::ForwardMethod::Dr};
  EXPECT_EQ(got, (std::vector<model::RealServer>{{.endpoint = ep("10.0.0.1:443"), .forwarding = dr},
                                                 {.endpoint = ep("10.0.0.2:443"), .forwarding = dr}}));
}

TEST(RangeTest, FwmarkRangeHasNoPort) {
  const auto got = real_servers("[[virtual_server]]\nfwmark = 3\nreal_server = [{ address = \"10.0.0.[1-2]\" }]\n");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("10.0.0.1:0"), rs("10.0.0.2:0")}));
}

TEST(RangeTest, SingleElementAndEdgeRanges) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.[5-5]" }, { address = "10.0.1.[254-255]" }, { address = "10.0.2.[0-1]" }]
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("10.0.0.5:80"), rs("10.0.1.254:80"), rs("10.0.1.255:80"),
                                                 rs("10.0.2.0:80"), rs("10.0.2.1:80")}));
}

TEST(RangeTest, RangesAndSingleServersKeepDeclarationOrder) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "192.0.2.10:80"
[[virtual_server.real_server]]
address = "10.0.0.50"
[[virtual_server.real_server]]
address = "10.0.0.[2-3]"
weight = 7
[[virtual_server.real_server]]
address = "10.0.0.1"
)");
  EXPECT_EQ(got, (std::vector<model::RealServer>{rs("10.0.0.50:80"),
                                                 {.endpoint = ep("10.0.0.2:80"), .weight = 7},
                                                 {.endpoint = ep("10.0.0.3:80"), .weight = 7},
                                                 rs("10.0.0.1:80")}));
}

TEST(RangeTest, LargeRange) {
  const auto got = real_servers(R"(
[[virtual_server]]
address = "[2001:db8::10]:80"
real_server = [{ address = "2001:db8::1:[0-ffff]" }]
)");
  ASSERT_EQ(got.size(), 65536u);
  EXPECT_EQ(got.front(), rs("[2001:db8::1:0]:80"));
  EXPECT_EQ(got[0x1234], rs("[2001:db8::1:1234]:80"));
  EXPECT_EQ(got.back(), rs("[2001:db8::1:ffff]:80"));
}

// --- includes ------------------------------------------------------------------------------

// A fresh directory under the system temp directory, removed with everything in it.
class IncludeTest : public ::testing::Test {
 protected:
  IncludeTest() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("lvsd-include-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~IncludeTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes `text` to `relative` under the directory, creating parent directories.
  std::string write(const std::string& relative, std::string_view text) {
    const auto path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    EXPECT_TRUE(out.good()) << path;
    return path.string();
  }

  std::string path(const std::string& relative) const { return (dir_ / relative).string(); }
  const fs::path& dir() const { return dir_; }

  model::Desired load_ok(const std::string& relative) {
    const auto r = load_file(path(relative));
    EXPECT_TRUE(r.ok()) << errors_of(r);
    return r.desired.value_or(model::Desired{});
  }

 private:
  fs::path dir_;
};

std::string vs_text(std::string_view address) {
  return "[[virtual_server]]\naddress = \"" + std::string(address) + "\"\n";
}

std::string instance_text(std::string_view name, int vrid) {
  return "[[vrrp_instance]]\nname = \"" + std::string(name) + "\"\ninterface = \"eth0\"\nvrid = " +
         std::to_string(vrid) + "\nvirtual_ipaddress = [\"192.0.2." + std::to_string(vrid) + "\"]\n";
}

std::vector<std::string> names_of(const std::vector<model::VirtualServer>& servers) {
  std::vector<std::string> out;
  for (const auto& vs : servers) out.push_back(vs.name);
  return out;
}

std::vector<std::string> names_of(const std::vector<model::VrrpInstance>& instances) {
  std::vector<std::string> out;
  for (const auto& vi : instances) out.push_back(vi.name);
  return out;
}

TEST_F(IncludeTest, GlobIsRelativeToTheIncludingFile) {
  write("lvsd.toml", "include = [\"conf.d/*.toml\"]\n" + vs_text("192.0.2.1:80"));
  write("conf.d/10-web.toml", vs_text("192.0.2.10:80") + vs_text("192.0.2.10:443"));
  write("conf.d/20-dns.toml", vs_text("192.0.2.20:53"));
  write("conf.d/30-vrrp.toml", instance_text("VI_1", 1) + instance_text("VI_2", 2));
  write("conf.d/README", "not toml, not matched");
  // The working directory is not the config's: only the including file's place counts.
  ASSERT_NE(fs::current_path(), dir());
  const auto d = load_ok("lvsd.toml");
  // Included files come first, in glob order, then the including file's own sections.
  EXPECT_EQ(names_of(d.virtual_servers),
            (std::vector<std::string>{"TCP 192.0.2.10:80", "TCP 192.0.2.10:443", "TCP 192.0.2.20:53",
                                      "TCP 192.0.2.1:80"}));
  EXPECT_EQ(names_of(d.vrrp_instances), (std::vector<std::string>{"VI_1", "VI_2"}));
}

TEST_F(IncludeTest, LoadStringIncludesRelativeToBaseDir) {
  write("conf.d/web.toml", vs_text("192.0.2.10:80"));
  const auto r = load_string("include = \"conf.d/web.toml\"\n", "memory.toml", dir().string());
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(names_of(r.desired->virtual_servers), std::vector<std::string>{"TCP 192.0.2.10:80"});
}

TEST_F(IncludeTest, AbsolutePattern) {
  write("elsewhere/web.toml", vs_text("192.0.2.10:80"));
  write("etc/lvsd.toml", "include = [\"" + path("elsewhere") + "/*.toml\"]\n");
  const auto d = load_ok("etc/lvsd.toml");
  EXPECT_EQ(names_of(d.virtual_servers), std::vector<std::string>{"TCP 192.0.2.10:80"});
}

TEST_F(IncludeTest, IncludedVirtualServersGetTheMainFilesDefaults) {
  write("lvsd.toml", R"(include = ["conf.d/*.toml"]
[defaults]
scheduler = "rr"
weight = 4
check = [{ type = "tcp" }]
)");
  write("conf.d/web.toml", R"(
[[virtual_server]]
address = "192.0.2.10:80"
weight = 6
real_server = [{ address = "10.0.0.11" }, { address = "10.0.0.12", weight = 8 }]
)");
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(d.virtual_servers,
            (std::vector<model::VirtualServer>{
                {.name = "TCP 192.0.2.10:80",
                 .key = {.endpoint = ep("192.0.2.10:80")},
                 .scheduler = model::Scheduler::Rr,
                 .real_servers = {{.endpoint = ep("10.0.0.11:80"), .weight = 6, .checks = {kTcp}},
                                  {.endpoint = ep("10.0.0.12:80"), .weight = 8, .checks = {kTcp}}}}}));
}

TEST_F(IncludeTest, VirtualServersInstancesAndGroupsFromIncludedFiles) {
  write("lvsd.toml", R"(include = ["services/*.toml", "vrrp/*.toml"]
[global]
router_id = "lb-a"
)");
  write("services/web.toml", vs_text("192.0.2.10:80"));
  write("vrrp/a.toml", instance_text("VI_A", 10));
  write("vrrp/b.toml", instance_text("VI_B", 11) +
                           "[[vrrp_sync_group]]\nname = \"G\"\ninstances = [\"VI_A\", \"VI_B\"]\n");
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(d.globals.router_id, "lb-a");
  EXPECT_EQ(names_of(d.virtual_servers), std::vector<std::string>{"TCP 192.0.2.10:80"});
  ASSERT_EQ(d.vrrp_instances.size(), 2u);
  EXPECT_EQ(d.vrrp_instances[0], (model::VrrpInstance{.name = "VI_A", .interface = "eth0", .vrid = 10,
                                                      .virtual_ips = {{.prefix = {ip("192.0.2.10"), 32}}}}));
  EXPECT_EQ(d.vrrp_instances[1].name, "VI_B");
  EXPECT_EQ(d.sync_groups, (std::vector<model::SyncGroup>{{.name = "G", .instances = {"VI_A", "VI_B"}}}));
}

TEST_F(IncludeTest, NestedIncludesAreRelativeToEachIncludingFile) {
  write("lvsd.toml", "include = [\"a/a.toml\"]\n" + vs_text("192.0.2.1:80"));
  write("a/a.toml", "include = [\"b/*.toml\"]\n" + vs_text("192.0.2.2:80"));
  write("a/b/b.toml", "include = \"../../c.toml\"\n" + vs_text("192.0.2.3:80") + instance_text("VI_B", 3));
  write("c.toml", vs_text("192.0.2.4:80"));
  const auto d = load_ok("lvsd.toml");
  // Each file's includes come before its own sections.
  EXPECT_EQ(names_of(d.virtual_servers),
            (std::vector<std::string>{"TCP 192.0.2.4:80", "TCP 192.0.2.3:80", "TCP 192.0.2.2:80",
                                      "TCP 192.0.2.1:80"}));
  EXPECT_EQ(names_of(d.vrrp_instances), std::vector<std::string>{"VI_B"});
}

TEST_F(IncludeTest, FileIncludedTwiceIsReadOnce) {
  // Named twice in one list, reached by two paths, and through a diamond: each file once, or
  // its virtual servers would be duplicates.
  write("lvsd.toml", R"(include = ["conf.d/*.toml", "conf.d/web.toml", "./conf.d/../conf.d/web.toml", "left.toml", "right.toml"])");
  write("conf.d/web.toml", vs_text("192.0.2.10:80"));
  write("left.toml", "include = [\"shared.toml\"]\n" + vs_text("192.0.2.11:80"));
  write("right.toml", "include = [\"shared.toml\"]\n" + vs_text("192.0.2.12:80"));
  write("shared.toml", vs_text("192.0.2.13:80") + instance_text("VI_S", 5));
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(names_of(d.virtual_servers),
            (std::vector<std::string>{"TCP 192.0.2.10:80", "TCP 192.0.2.13:80", "TCP 192.0.2.11:80",
                                      "TCP 192.0.2.12:80"}));
  EXPECT_EQ(names_of(d.vrrp_instances), std::vector<std::string>{"VI_S"});
}

TEST_F(IncludeTest, MainFileMatchedByItsOwnGlobIsNotReadAgain) {
  write("lvsd.toml", "include = [\"*.toml\"]\n" + vs_text("192.0.2.1:80"));
  write("other.toml", "include = [\"lvsd.toml\"]\n" + vs_text("192.0.2.2:80"));
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(names_of(d.virtual_servers), (std::vector<std::string>{"TCP 192.0.2.2:80", "TCP 192.0.2.1:80"}));
}

TEST_F(IncludeTest, SymlinkToAnIncludedFileIsReadOnce) {
  write("conf.d/web.toml", vs_text("192.0.2.10:80"));
  fs::create_symlink(path("conf.d/web.toml"), path("web-link.toml"));
  write("lvsd.toml", "include = [\"conf.d/web.toml\", \"web-link.toml\"]\n");
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(names_of(d.virtual_servers), std::vector<std::string>{"TCP 192.0.2.10:80"});
}

TEST_F(IncludeTest, ErrorInAnIncludedFileNamesThatFile) {
  write("lvsd.toml", "include = [\"conf.d/*.toml\"]\n" + vs_text("192.0.2.1:80"));
  write("conf.d/good.toml", vs_text("192.0.2.2:80"));
  const auto bad = write("conf.d/bad.toml", R"(
[[virtual_server]]
address = "192.0.2.3:80"
  [[virtual_server.real_server]]
  address = "10.0.0.11"
  weight = 70000
)");
  const auto r = load_file(path("lvsd.toml"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.desired, std::nullopt) << "a config with an error never half-applies";
  EXPECT_EQ(r.errors, (std::vector<Error>{{.file = bad,
                                           .line = 6,
                                           .column = 12,
                                           .key = "virtual_server[0].real_server[0].weight",
                                           .message = "70000 is out of range; expected an integer from 0 to 65535"}}));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            bad + ":6:12: virtual_server[0].real_server[0].weight: 70000 is out of range; expected an integer "
                  "from 0 to 65535");
}

TEST_F(IncludeTest, ErrorInANestedIncludeNamesThatFile) {
  write("lvsd.toml", "include = [\"a/a.toml\"]\n");
  write("a/a.toml", "include = [\"b.toml\"]\n");
  const auto bad = write("a/b.toml", "[[vrrp_instance]]\nname = \"VI_1\"\n");
  const auto r = load_file(path("lvsd.toml"));
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty());
  for (const auto& e : r.errors) EXPECT_EQ(e.file, bad) << e.to_string();
  EXPECT_EQ(r.errors[0].to_string(), bad + ":1:1: vrrp_instance[0]: missing key \"interface\"");
}

TEST_F(IncludeTest, SyntaxErrorInAnIncludedFileNamesThatFile) {
  write("lvsd.toml", "include = [\"conf.d/*.toml\"]\n");
  const auto bad = write("conf.d/broken.toml", "[[virtual_server]]\naddress = \"192.0.2.3:80\nweight = 1\n");
  const auto r = load_file(path("lvsd.toml"));
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].file, bad);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[0].message.rfind("syntax error: ", 0), 0u) << r.errors[0].message;
}

TEST_F(IncludeTest, MainOnlySectionInAnIncludedFileNamesThatFile) {
  write("lvsd.toml", "include = [\"conf.d/*.toml\"]\n");
  const auto bad = write("conf.d/global.toml", "[global]\nrouter_id = \"x\"\n");
  const auto r = load_file(path("lvsd.toml"));
  ASSERT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty()) << errors_of(r);
  for (const auto& e : r.errors) EXPECT_EQ(e.file, bad) << e.to_string();
  EXPECT_NE(errors_of(r).find("global: may only be set in the main file, not in an included file"),
            std::string::npos)
      << errors_of(r);
}

TEST_F(IncludeTest, IncludedFileOrderIsTheGlobsSortedOrder) {
  write("lvsd.toml", "include = [\"conf.d/*.toml\"]\n");
  write("conf.d/b.toml", vs_text("192.0.2.2:80"));
  write("conf.d/c.toml", vs_text("192.0.2.3:80"));
  write("conf.d/a.toml", vs_text("192.0.2.1:80"));
  const auto d = load_ok("lvsd.toml");
  EXPECT_EQ(names_of(d.virtual_servers),
            (std::vector<std::string>{"TCP 192.0.2.1:80", "TCP 192.0.2.2:80", "TCP 192.0.2.3:80"}));
}

}  // namespace
}  // namespace lvsd::config
