// Tests for src/config/*.cpp: every accepted key reaches the model; absent keys leave defaults.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lvsd/config/config.hpp"
#include "load_helpers.hpp"
#include "lvsd/model/names.hpp"

namespace lvsd::config {
namespace {

using namespace lvsd::config::test;

using namespace std::chrono_literals;
using model::Millis;

// --- helpers -----------------------------------------------------------------------------

model::Desired load(std::string_view text) { return load_valid(text, "keys.toml"); }


// The only virtual server of a config.
model::VirtualServer only_vs(std::string_view text) {
  const auto d = load(text);
  EXPECT_EQ(d.virtual_servers.size(), 1u);
  return d.virtual_servers.empty() ? model::VirtualServer{} : d.virtual_servers.front();
}

// 192.0.2.10:80 with the given keys, and with real servers when `tail` has them.
model::VirtualServer vs_with(std::string_view keys, std::string_view tail = "") {
  return only_vs("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n" + std::string(keys) + "\n" +
                 std::string(tail));
}

// The one real server of 192.0.2.10:80 declared with `keys` (which include its address).
model::RealServer rs_with(std::string_view vs_keys, std::string_view rs_keys) {
  const auto vs = vs_with(vs_keys, "[[virtual_server.real_server]]\n" + std::string(rs_keys));
  EXPECT_EQ(vs.real_servers.size(), 1u);
  return vs.real_servers.empty() ? model::RealServer{} : vs.real_servers.front();
}

// The one check of real server 10.0.0.11:80; `body` holds the check's keys (and may end in
// sub-tables of the check).
model::CheckSpec check(std::string_view body) {
  const auto rs = rs_with("", "address = \"10.0.0.11:80\"\n[[virtual_server.real_server.check]]\n" +
                                  std::string(body));
  EXPECT_EQ(rs.checks.size(), 1u);
  return rs.checks.empty() ? model::CheckSpec{} : rs.checks.front();
}

template <class Detail>
Detail detail_of(const model::CheckSpec& spec) {
  const auto* d = std::get_if<Detail>(&spec.detail);
  EXPECT_NE(d, nullptr) << "detail holds alternative " << spec.detail.index();
  return d ? *d : Detail{};
}

// The only VRRP instance of a config.
model::VrrpInstance only_instance(std::string_view text) {
  const auto d = load(text);
  EXPECT_EQ(d.vrrp_instances.size(), 1u);
  return d.vrrp_instances.empty() ? model::VrrpInstance{} : d.vrrp_instances.front();
}

// VI_1 on eth0, VRID 51, with the virtual addresses `vips` (192.0.2.10/24 unless given) and
// `keys`, which must not repeat the required ones.
model::VrrpInstance instance(std::string_view keys, std::string_view vips = "virtual_ipaddress = [\"192.0.2.10/24\"]") {
  return only_instance("[[vrrp_instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n" +
                       std::string(vips) + "\n" + std::string(keys));
}

model::VrrpInstance base_instance() {
  return {.name = "VI_1",
          .interface = "eth0",
          .vrid = 51,
          .virtual_ips = {model::VirtualIp{.prefix = prefix("192.0.2.10/24")}}};
}

// The only tracker of VI_1.
model::Tracker tracker(std::string_view keys) {
  const auto vi = instance(keys);
  EXPECT_EQ(vi.trackers.size(), 1u);
  return vi.trackers.empty() ? model::Tracker{} : vi.trackers.front();
}

model::VirtualServer base_vs() {
  return {.name = "TCP 192.0.2.10:80",
          .key = {.family = model::Family::V4, .protocol = model::Protocol::Tcp,
                  .endpoint = ep("192.0.2.10:80")}};
}

model::RealServer base_rs(std::string_view endpoint = "10.0.0.11:80") {
  return {.endpoint = ep(endpoint)};
}

// `pattern` with its {} replaced by `value`.
std::string with_value(std::string_view pattern, std::string_view value) {
  std::string out(pattern);
  out.replace(out.find("{}"), 2, value);
  return out;
}

// --- [global] ----------------------------------------------------------------------------

TEST(GlobalKeysTest, EmptyConfigIsTheDefaultModel) {
  EXPECT_EQ(load(""), model::Desired{});
  const auto d = load("# nothing but a comment\n");
  EXPECT_EQ(d.globals, (model::Globals{.router_id = "",
                                       .script_user = "nobody",
                                       .control_socket = "/run/lvsd/lvsd.sock",
                                       .control_group = "",
                                       .log_level = "info"}));
}

TEST(GlobalKeysTest, EveryKeyReachesTheModel) {
  const auto d = load(R"(
[global]
router_id = "lb-a"
script_user = "lvs"
control_socket = "/var/run/lvsd.sock"
control_group = "lvsadm"
log_level = "debug"
)");
  EXPECT_EQ(d.globals, (model::Globals{.router_id = "lb-a",
                                       .script_user = "lvs",
                                       .control_socket = "/var/run/lvsd.sock",
                                       .control_group = "lvsadm",
                                       .log_level = "debug"}));
}

TEST(GlobalKeysTest, EveryLogLevel) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error"}) {
    SCOPED_TRACE(level);
    const auto d = load("[global]\nlog_level = \"" + std::string(level) + "\"\n");
    EXPECT_EQ(d.globals.log_level, level);
  }
}

TEST(GlobalKeysTest, EmptyGlobalTableKeepsDefaults) {
  EXPECT_EQ(load("[global]\n").globals, model::Globals{});
}

// --- [ipvs] ------------------------------------------------------------------------------

TEST(IpvsKeysTest, Defaults) {
  const auto d = load("[ipvs]\n");
  EXPECT_EQ(d.ipvs, (model::IpvsSettings{.manage = model::Ownership::Owned,
                                         .reconcile_interval = 5s,
                                         .on_exit = model::OnExit::Keep,
                                         .timeouts = {.tcp = 0s, .tcp_fin = 0s, .udp = 0s},
                                         .sync_daemons = {}}));
}

TEST(IpvsKeysTest, EveryKeyReachesTheModel) {
  const auto d = load(R"(
[ipvs]
manage = "exclusive"
reconcile_interval = "250ms"
on_exit = "remove"
timeouts = { tcp = "15m", tcp_fin = 120, udp = "1m30s" }

[[ipvs.sync_daemon]]
role = "master"
interface = "eth1"
sync_id = 7
max_len = 1400
group = "239.1.2.3"
port = 9000
ttl = 3

[[ipvs.sync_daemon]]
role = "backup"
interface = "eth2"
)");
  EXPECT_EQ(d.ipvs,
            (model::IpvsSettings{
                .manage = model::Ownership::Exclusive,
                .reconcile_interval = 250ms,
                .on_exit = model::OnExit::Remove,
                .timeouts = {.tcp = 900s, .tcp_fin = 120s, .udp = 90s},
                .sync_daemons = {{.role = model::SyncRole::Master,
                                  .interface = "eth1",
                                  .sync_id = 7,
                                  .max_len = 1400,
                                  .group = ip("239.1.2.3"),
                                  .port = 9000,
                                  .ttl = 3},
                                 {.role = model::SyncRole::Backup, .interface = "eth2", .sync_id = 0}}}));
}

TEST(IpvsKeysTest, ExplicitDefaultNames) {
  const auto d = load("[ipvs]\nmanage = \"owned\"\non_exit = \"keep\"\n");
  EXPECT_EQ(d.ipvs.manage, model::Ownership::Owned);
  EXPECT_EQ(d.ipvs.on_exit, model::OnExit::Keep);
}

TEST(IpvsKeysTest, TimeoutsAsATable) {
  const auto d = load("[ipvs.timeouts]\ntcp = 3600\nudp = \"2h\"\n");
  EXPECT_EQ(d.ipvs.timeouts, (model::IpvsTimeouts{.tcp = 3600s, .tcp_fin = 0s, .udp = 7200s}));
}

TEST(IpvsKeysTest, IpvsTablesAfterVirtualServersJoinTheIpvsTableBefore) {
  // Valid TOML (each header adds to the same [ipvs] table) though the loader parses each
  // [[virtual_server]] and what follows it on its own.
  const auto d = load(R"(
[ipvs]
manage = "exclusive"

[[virtual_server]]
address = "192.0.2.1:80"

[[ipvs.sync_daemon]]
role = "master"
interface = "eth1"

[ipvs.timeouts]
tcp = 100

[[virtual_server]]
address = "192.0.2.2:80"

[[ipvs.sync_daemon]]
role = "backup"
interface = "eth2"
)");
  EXPECT_EQ(d.ipvs.manage, model::Ownership::Exclusive);
  EXPECT_EQ(d.ipvs.timeouts.tcp, 100s);
  EXPECT_EQ(d.ipvs.sync_daemons,
            (std::vector<model::SyncDaemon>{{.role = model::SyncRole::Master, .interface = "eth1"},
                                            {.role = model::SyncRole::Backup, .interface = "eth2"}}));
  EXPECT_EQ(d.virtual_servers.size(), 2u);
}

TEST(IpvsKeysTest, SyncIdLimits) {
  const auto d = load("[[ipvs.sync_daemon]]\nrole = \"backup\"\ninterface = \"eth1\"\nsync_id = 255\n");
  EXPECT_EQ(d.ipvs.sync_daemons,
            (std::vector<model::SyncDaemon>{{.role = model::SyncRole::Backup, .interface = "eth1", .sync_id = 255}}));
}

TEST(IpvsKeysTest, SyncDaemonMulticastSettingsLeftToTheKernel) {
  const auto d = load("[[ipvs.sync_daemon]]\nrole = \"master\"\ninterface = \"eth1\"\n");
  ASSERT_EQ(d.ipvs.sync_daemons.size(), 1u);
  EXPECT_EQ(d.ipvs.sync_daemons[0].max_len, 0);
  EXPECT_EQ(d.ipvs.sync_daemons[0].group, std::nullopt);
  EXPECT_EQ(d.ipvs.sync_daemons[0].port, 0);
  EXPECT_EQ(d.ipvs.sync_daemons[0].ttl, 0);
}

TEST(IpvsKeysTest, SyncDaemonMulticastLimits) {
  const std::string base = "[[ipvs.sync_daemon]]\nrole = \"backup\"\ninterface = \"eth1\"\n";
  // The least max_len: 1 for a master, 1024 for a backup (the kernel's clamp).
  auto low = load("[[ipvs.sync_daemon]]\nrole = \"master\"\ninterface = \"eth1\"\n"
                  "max_len = 1\nport = 1\nttl = 1\ngroup = \"224.0.0.0\"\n").ipvs.sync_daemons;
  EXPECT_EQ(low, (std::vector<model::SyncDaemon>{{.role = model::SyncRole::Master, .interface = "eth1",
                                                  .max_len = 1, .group = ip("224.0.0.0"), .port = 1, .ttl = 1}}));
  auto backup_low = load(base + "max_len = 1024\n").ipvs.sync_daemons;
  ASSERT_EQ(backup_low.size(), 1u);
  EXPECT_EQ(backup_low[0].max_len, 1024);
  auto high = load(base + "max_len = 65507\nport = 65535\nttl = 255\ngroup = \"239.255.255.255\"\n").ipvs.sync_daemons;
  EXPECT_EQ(high, (std::vector<model::SyncDaemon>{{.role = model::SyncRole::Backup, .interface = "eth1",
                                                   .max_len = 65507, .group = ip("239.255.255.255"),
                                                   .port = 65535, .ttl = 255}}));
}

TEST(IpvsKeysTest, SyncDaemonIpv6Group) {
  const auto d = load("[[ipvs.sync_daemon]]\nrole = \"master\"\ninterface = \"eth1\"\ngroup = \"ff02::81\"\n");
  ASSERT_EQ(d.ipvs.sync_daemons.size(), 1u);
  EXPECT_EQ(d.ipvs.sync_daemons[0].group, ip("ff02::81"));
}

// --- durations ---------------------------------------------------------------------------

struct DurationCase {
  std::string_view toml;  // the value as written in the file
  Millis expected;
};

TEST(DurationTest, EveryAcceptedForm) {
  // warmup takes 0 to 24 h and depends on no other key.
  const DurationCase cases[] = {
      {"\"250ms\"", 250ms},   {"\"1.5s\"", 1500ms},     {"\"2m\"", 120s},       {"\"1h\"", 1h},
      {"\"1m30s\"", 90s},     {"\"1h30m\"", 90min},     {"\"2s500ms\"", 2500ms}, {"\"1.5m\"", 90s},
      {"\"0.5h\"", 30min},    {"\"1h0m0s\"", 1h},       {"\"0s\"", 0ms},         {"\"0ms\"", 0ms},
      {"\"24h\"", 24h},       {"\"10ms\"", 10ms},       {"\"0.0015s\"", 2ms},    {"7", 7s},
      {"0", 0ms},             {"0.5", 500ms},           {"1.25", 1250ms},        {"0.001", 1ms},
      {"86400", 24h},         {"2.0", 2s},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.toml);
    const auto spec = check(with_value("type = \"tcp\"\nwarmup = {}\n", c.toml));
    EXPECT_EQ(spec.timing.warmup, c.expected);
  }
}

TEST(DurationTest, SameFormsInEverySection) {
  // [ipvs], a check, a vrrp_instance and a tracker all read durations the same way.
  EXPECT_EQ(load("[ipvs]\nreconcile_interval = \"1m30s\"\n").ipvs.reconcile_interval, 90s);
  EXPECT_EQ(load("[ipvs]\nreconcile_interval = 0.5\n").ipvs.reconcile_interval, 500ms);
  EXPECT_EQ(load("[ipvs]\nreconcile_interval = 3600\n").ipvs.reconcile_interval, 1h);
  EXPECT_EQ(instance("garp_master_delay = \"1.5s\"").garp_master_delay, 1500ms);
  EXPECT_EQ(instance("garp_master_refresh = \"2m\"").garp_master_refresh, 2min);
  EXPECT_EQ(instance("preempt_delay = 2.5").preempt_delay, 2500ms);
  EXPECT_EQ(instance("conflict_probe_interval = \"250ms\"").conflict_probe_interval, 250ms);
  const auto t = tracker("[[vrrp_instance.track_script]]\ncommand = \"true\"\ninterval = \"1h\"\ntimeout = \"1m30s\"\n");
  EXPECT_EQ(std::get<model::TrackScript>(t.what).timing.interval, 1h);
  EXPECT_EQ(std::get<model::TrackScript>(t.what).timing.timeout, 90s);
}

// --- [vrrp] ------------------------------------------------------------------------------

TEST(VrrpSettingsKeysTest, NotifyFifo) {
  EXPECT_EQ(load("[vrrp]\n").vrrp, model::VrrpSettings{});
  EXPECT_EQ(load("[vrrp]\nnotify_fifo = \"/run/lvsd/notify\"\n").vrrp,
            (model::VrrpSettings{.notify_fifo = "/run/lvsd/notify"}));
}

// --- [[virtual_server]] --------------------------------------------------------------------

TEST(VirtualServerKeysTest, MinimalVirtualServerDefaults) {
  const auto vs = vs_with("");
  EXPECT_EQ(vs, base_vs());
  // Spelled out, so that a changed default shows here by name.
  EXPECT_EQ(vs.name, "TCP 192.0.2.10:80");
  EXPECT_EQ(vs.key, (model::ServiceKey{.family = model::Family::V4, .protocol = model::Protocol::Tcp,
                                       .endpoint = ep("192.0.2.10:80"), .fwmark = 0}));
  EXPECT_EQ(vs.scheduler, model::Scheduler::Wlc);
  EXPECT_EQ(vs.scheduler_flags, model::SchedulerFlags{});
  EXPECT_FALSE(vs.one_packet);
  EXPECT_EQ(vs.persistence, std::nullopt);
  EXPECT_TRUE(vs.real_servers.empty());
  EXPECT_EQ(vs.sorry_server, std::nullopt);
  EXPECT_EQ(vs.quorum, (model::Quorum{.minimum = 1, .hysteresis = 0, .up_command = "", .down_command = ""}));
  EXPECT_FALSE(vs.inhibit_on_failure);
  EXPECT_EQ(vs.initial_health, model::InitialHealth::Up);
}

TEST(VirtualServerKeysTest, MinimalRealServerDefaults) {
  const auto rs = rs_with("", "address = \"10.0.0.11:80\"");
  EXPECT_EQ(rs, base_rs());
  EXPECT_EQ(rs.weight, 1u);
  EXPECT_EQ(rs.forwarding, (model::Forwarding{.method = model::ForwardMethod::Nat,
                                              .tunnel_type = model::TunnelType::Ipip,
                                              .tunnel_port = 0,
                                              .tunnel_checksum = model::TunnelChecksum::NoCsum}));
  EXPECT_EQ(rs.upper_threshold, 0u);
  EXPECT_EQ(rs.lower_threshold, 0u);
  EXPECT_TRUE(rs.checks.empty());
}

TEST(VirtualServerKeysTest, Name) {
  auto want = base_vs();
  want.name = "web";
  EXPECT_EQ(vs_with("name = \"web\""), want);
}

TEST(VirtualServerKeysTest, Protocol) {
  auto want = base_vs();
  want.key.protocol = model::Protocol::Udp;
  want.name = "UDP 192.0.2.10:80";
  EXPECT_EQ(vs_with("protocol = \"udp\""), want);
  want.key.protocol = model::Protocol::Sctp;
  want.name = "SCTP 192.0.2.10:80";
  EXPECT_EQ(vs_with("protocol = \"sctp\""), want);
  EXPECT_EQ(vs_with("protocol = \"tcp\""), base_vs());
}

TEST(VirtualServerKeysTest, EveryScheduler) {
  ASSERT_EQ(model::names<model::Scheduler>().size(), 13u);
  for (const auto& [value, name] : model::names<model::Scheduler>()) {
    SCOPED_TRACE(name);
    auto want = base_vs();
    want.scheduler = value;
    EXPECT_EQ(vs_with("scheduler = \"" + std::string(name) + "\""), want);
  }
}

TEST(VirtualServerKeysTest, SchedulerFlags) {
  auto want = base_vs();
  want.scheduler = model::Scheduler::Sh;
  want.scheduler_flags = {.sh_fallback = true, .sh_port = true};
  EXPECT_EQ(vs_with("scheduler = \"sh\"\nscheduler_flags = [\"sh-fallback\", \"sh-port\"]"), want);

  want.scheduler = model::Scheduler::Mh;
  want.scheduler_flags = {.mh_fallback = true, .mh_port = true};
  EXPECT_EQ(vs_with("scheduler = \"mh\"\nscheduler_flags = [\"mh-port\", \"mh-fallback\"]"), want);

  // A single flag may be a string.
  want.scheduler_flags = {.mh_port = true};
  EXPECT_EQ(vs_with("scheduler = \"mh\"\nscheduler_flags = \"mh-port\""), want);

  want.scheduler = model::Scheduler::Sh;
  want.scheduler_flags = {};
  EXPECT_EQ(vs_with("scheduler = \"sh\"\nscheduler_flags = []"), want);
}

TEST(VirtualServerKeysTest, OnePacket) {
  auto want = base_vs();
  want.key.protocol = model::Protocol::Udp;
  want.name = "UDP 192.0.2.10:80";
  want.one_packet = true;
  EXPECT_EQ(vs_with("protocol = \"udp\"\none_packet = true"), want);
  EXPECT_EQ(vs_with("one_packet = false"), base_vs());
}

TEST(VirtualServerKeysTest, PersistenceTimeoutAlone) {
  auto want = base_vs();
  want.persistence = model::Persistence{.timeout = 600s, .prefix_length = 32, .engine = ""};
  EXPECT_EQ(vs_with("persistence_timeout = \"10m\""), want);
  EXPECT_EQ(vs_with("persistence_timeout = 600"), want);
}

TEST(VirtualServerKeysTest, PersistenceNetmask) {
  auto want = base_vs();
  want.persistence = model::Persistence{.timeout = 300s, .prefix_length = 24};
  EXPECT_EQ(vs_with("persistence_timeout = 300\npersistence_netmask = \"255.255.255.0\""), want);
  EXPECT_EQ(vs_with("persistence_timeout = 300\npersistence_netmask = 24"), want);
  want.persistence->prefix_length = 32;
  EXPECT_EQ(vs_with("persistence_timeout = 300\npersistence_netmask = \"255.255.255.255\""), want);
  want.persistence->prefix_length = 1;
  EXPECT_EQ(vs_with("persistence_timeout = 300\npersistence_netmask = \"128.0.0.0\""), want);
}

TEST(VirtualServerKeysTest, PersistenceEngine) {
  auto want = base_vs();
  want.key.protocol = model::Protocol::Udp;
  want.key.endpoint.port = 5060;
  want.name = "UDP 192.0.2.10:5060";
  want.persistence = model::Persistence{.timeout = 60s, .prefix_length = 32, .engine = "sip"};
  EXPECT_EQ(only_vs(R"(
[[virtual_server]]
address = "192.0.2.10:5060"
protocol = "udp"
persistence_timeout = "1m"
persistence_engine = "sip"
)"),
            want);
}

TEST(VirtualServerKeysTest, PersistenceOnIpv6) {
  model::VirtualServer want{.name = "TCP [2001:db8::10]:443",
                            .key = {.family = model::Family::V6, .endpoint = ep("[2001:db8::10]:443")},
                            .persistence = model::Persistence{.timeout = 300s, .prefix_length = 128}};
  EXPECT_EQ(only_vs("[[virtual_server]]\naddress = \"[2001:db8::10]:443\"\npersistence_timeout = 300\n"), want);
  want.persistence->prefix_length = 64;
  EXPECT_EQ(only_vs("[[virtual_server]]\naddress = \"[2001:db8::10]:443\"\npersistence_timeout = 300\n"
                    "persistence_netmask = 64\n"),
            want);
}

TEST(VirtualServerKeysTest, PortZeroWithPersistence) {
  const auto vs = only_vs(R"(
[[virtual_server]]
address = "192.0.2.10:0"
persistence_timeout = 300
real_server = [{ address = "10.0.0.11" }, { address = "10.0.0.12", forward = "dr" }]
)");
  EXPECT_EQ(vs.key.endpoint, ep("192.0.2.10:0"));
  EXPECT_EQ(vs.name, "TCP 192.0.2.10:0");
  EXPECT_EQ(vs.real_servers,
            (std::vector<model::RealServer>{
                {.endpoint = ep("10.0.0.11:0")},
                {.endpoint = ep("10.0.0.12:0"), .forwarding = {.method = model::ForwardMethod::Dr}}}));
}

TEST(VirtualServerKeysTest, Quorum) {
  auto want = base_vs();
  want.quorum = {.minimum = 3, .hysteresis = 1, .up_command = "/usr/local/bin/up web",
                 .down_command = "/usr/local/bin/down web"};
  EXPECT_EQ(vs_with(R"(quorum = 3
hysteresis = 1
quorum_up = "/usr/local/bin/up web"
quorum_down = "/usr/local/bin/down web")"),
            want);
  want.quorum = {.minimum = 0};
  EXPECT_EQ(vs_with("quorum = 0"), want);
}

TEST(VirtualServerKeysTest, InhibitOnFailure) {
  auto want = base_vs();
  want.inhibit_on_failure = true;
  EXPECT_EQ(vs_with("inhibit_on_failure = true"), want);
  EXPECT_EQ(vs_with("inhibit_on_failure = false"), base_vs());
}

TEST(VirtualServerKeysTest, InitialHealth) {
  auto want = base_vs();
  want.initial_health = model::InitialHealth::Down;
  EXPECT_EQ(vs_with("initial_health = \"down\""), want);
  EXPECT_EQ(vs_with("initial_health = \"up\""), base_vs());
}

TEST(VirtualServerKeysTest, RealServerListInOrder) {
  const auto vs = vs_with("", R"(
[[virtual_server.real_server]]
address = "10.0.0.12:80"
[[virtual_server.real_server]]
address = "10.0.0.11:8080"
[[virtual_server.real_server]]
address = "10.0.0.13"
)");
  EXPECT_EQ(vs.real_servers,
            (std::vector<model::RealServer>{base_rs("10.0.0.12:80"), base_rs("10.0.0.11:8080"),
                                            base_rs("10.0.0.13:80")}));
}

TEST(VirtualServerKeysTest, RealServersAsInlineArray) {
  const auto vs = vs_with(R"(real_server = [{ address = "10.0.0.11:80", weight = 2 }, { address = "10.0.0.12" }])");
  EXPECT_EQ(vs.real_servers, (std::vector<model::RealServer>{
                                 {.endpoint = ep("10.0.0.11:80"), .weight = 2}, base_rs("10.0.0.12:80")}));
}

TEST(VirtualServerKeysTest, Ipv6AddressAndRealServerForms) {
  const auto vs = only_vs(R"(
[[virtual_server]]
address = "[2001:db8::10]:443"
[[virtual_server.real_server]]
address = "[2001:db8::11]:8443"
[[virtual_server.real_server]]
address = "[2001:db8::12]"
[[virtual_server.real_server]]
address = "2001:db8::13"
[[virtual_server.real_server]]
address = "[2001:DB8:0:0::14]:443"
)");
  EXPECT_EQ(vs.key, (model::ServiceKey{.family = model::Family::V6, .protocol = model::Protocol::Tcp,
                                       .endpoint = ep("[2001:db8::10]:443")}));
  EXPECT_EQ(vs.name, "TCP [2001:db8::10]:443");
  EXPECT_EQ(vs.real_servers, (std::vector<model::RealServer>{
                                 base_rs("[2001:db8::11]:8443"), base_rs("[2001:db8::12]:443"),
                                 base_rs("[2001:db8::13]:443"), base_rs("[2001:db8::14]:443")}));
}

TEST(VirtualServerKeysTest, FwmarkService) {
  const auto vs = only_vs(R"(
[[virtual_server]]
fwmark = 7
[[virtual_server.real_server]]
address = "10.0.0.11"
[[virtual_server.real_server]]
address = "10.0.0.12:8080"
)");
  EXPECT_EQ(vs, (model::VirtualServer{
                    .name = "FWM 7",
                    .key = {.family = model::Family::V4, .protocol = model::Protocol::Tcp, .endpoint = {}, .fwmark = 7},
                    .real_servers = {base_rs("10.0.0.11:0"), base_rs("10.0.0.12:8080")}}));
}

TEST(VirtualServerKeysTest, FwmarkFamilyInet6) {
  const auto vs = only_vs(R"(
[[virtual_server]]
fwmark = 4294967295
family = "inet6"
[[virtual_server.real_server]]
address = "[2001:db8::11]"
[[virtual_server.real_server]]
address = "2001:db8::12"
[[virtual_server.real_server]]
address = "[2001:db8::13]"
forward = "dr"
[[virtual_server.real_server]]
address = "[2001:db8::14]:8080"
)");
  EXPECT_EQ(vs, (model::VirtualServer{
                    .name = "FWM 4294967295 IPv6",
                    .key = {.family = model::Family::V6, .protocol = model::Protocol::Tcp, .endpoint = {},
                            .fwmark = 4294967295u},
                    .real_servers = {base_rs("[2001:db8::11]:0"), base_rs("[2001:db8::12]:0"),
                                     {.endpoint = ep("[2001:db8::13]:0"),
                                      .forwarding = {.method = model::ForwardMethod::Dr}},
                                     base_rs("[2001:db8::14]:8080")}}));
}

TEST(VirtualServerKeysTest, FwmarkFamilyInetAndProtocol) {
  const auto vs = only_vs("[[virtual_server]]\nfwmark = 1\nfamily = \"inet\"\nprotocol = \"udp\"\n");
  EXPECT_EQ(vs.key, (model::ServiceKey{.family = model::Family::V4, .protocol = model::Protocol::Udp,
                                       .endpoint = {}, .fwmark = 1}));
  EXPECT_EQ(vs.name, "FWM 1");
}

TEST(VirtualServerKeysTest, FwmarkPersistenceUsesTheFamilyPrefix) {
  EXPECT_EQ(only_vs("[[virtual_server]]\nfwmark = 2\nfamily = \"inet6\"\npersistence_timeout = 60\n").persistence,
            (model::Persistence{.timeout = 60s, .prefix_length = 128}));
  EXPECT_EQ(only_vs("[[virtual_server]]\nfwmark = 2\npersistence_timeout = 60\n").persistence,
            (model::Persistence{.timeout = 60s, .prefix_length = 32}));
}

TEST(VirtualServerKeysTest, ServerSettingsOnTheVirtualServerReachItsRealServers) {
  const auto vs = vs_with(R"(weight = 4
forward = "tun"
tunnel_type = "gue"
tunnel_port = 6080
tunnel_checksum = "remcsum"
upper_threshold = 1000
lower_threshold = 100
check = [{ type = "tcp", port = 81 }])",
                          "[[virtual_server.real_server]]\naddress = \"10.0.0.11\"\n");
  const model::RealServer want{
      .endpoint = ep("10.0.0.11:80"),
      .weight = 4,
      .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gue,
                     .tunnel_port = 6080, .tunnel_checksum = model::TunnelChecksum::RemCsum},
      .upper_threshold = 1000,
      .lower_threshold = 100,
      .checks = {model::CheckSpec{.type = model::CheckType::Tcp, .port = 81}}};
  EXPECT_EQ(vs.real_servers, std::vector<model::RealServer>{want});
}

// --- sorry_server ------------------------------------------------------------------------

TEST(SorryServerKeysTest, StringWithPort) {
  auto want = base_vs();
  want.sorry_server = base_rs("10.0.0.99:8080");
  EXPECT_EQ(vs_with("sorry_server = \"10.0.0.99:8080\""), want);
}

TEST(SorryServerKeysTest, StringWithoutPortTakesTheServicePort) {
  auto want = base_vs();
  want.sorry_server = base_rs("10.0.0.99:80");
  EXPECT_EQ(vs_with("sorry_server = \"10.0.0.99\""), want);
}

TEST(SorryServerKeysTest, StringInheritsTheVirtualServersSettings) {
  const auto vs = vs_with("weight = 3\nforward = \"dr\"\nupper_threshold = 10\nsorry_server = \"10.0.0.99\"");
  EXPECT_EQ(vs.sorry_server, (model::RealServer{.endpoint = ep("10.0.0.99:80"),
                                                .weight = 3,
                                                .forwarding = {.method = model::ForwardMethod::Dr},
                                                .upper_threshold = 10}));
}

TEST(SorryServerKeysTest, EveryTableKey) {
  const auto vs = vs_with(R"(sorry_server = { address = "10.0.0.99", weight = 7, forward = "tun", tunnel_type = "gre", tunnel_checksum = "csum", upper_threshold = 50, lower_threshold = 5 })");
  EXPECT_EQ(vs.sorry_server,
            (model::RealServer{.endpoint = ep("10.0.0.99:80"),
                               .weight = 7,
                               .forwarding = {.method = model::ForwardMethod::Tun,
                                              .tunnel_type = model::TunnelType::Gre,
                                              .tunnel_checksum = model::TunnelChecksum::Csum},
                               .upper_threshold = 50,
                               .lower_threshold = 5}));
  EXPECT_TRUE(vs.real_servers.empty());
}

TEST(SorryServerKeysTest, TableGuePort) {
  const auto vs = vs_with(R"(sorry_server = { address = "10.0.0.99:80", forward = "tun", tunnel_type = "gue", tunnel_port = 5555 })");
  EXPECT_EQ(vs.sorry_server,
            (model::RealServer{.endpoint = ep("10.0.0.99:80"),
                               .forwarding = {.method = model::ForwardMethod::Tun,
                                              .tunnel_type = model::TunnelType::Gue,
                                              .tunnel_port = 5555}}));
}

TEST(SorryServerKeysTest, TableOverridesTheVirtualServer) {
  const auto vs = vs_with(R"(weight = 3
sorry_server = { address = "10.0.0.99:8080", weight = 9 })");
  EXPECT_EQ(vs.sorry_server, (model::RealServer{.endpoint = ep("10.0.0.99:8080"), .weight = 9}));
}

TEST(SorryServerKeysTest, Ipv6) {
  const auto vs = only_vs("[[virtual_server]]\naddress = \"[2001:db8::10]:80\"\nsorry_server = \"[2001:db8::99]\"\n");
  EXPECT_EQ(vs.sorry_server, base_rs("[2001:db8::99]:80"));
}

// --- [[virtual_server.real_server]] ------------------------------------------------------

TEST(RealServerKeysTest, EveryKeyReachesTheModel) {
  const auto rs = rs_with("", R"(address = "10.0.0.11:8080"
weight = 65535
forward = "nat"
upper_threshold = 2147483647
lower_threshold = 7
check = [{ type = "tcp" }])");
  EXPECT_EQ(rs, (model::RealServer{.endpoint = ep("10.0.0.11:8080"),
                                   .weight = 65535,
                                   .forwarding = {.method = model::ForwardMethod::Nat},
                                   .upper_threshold = 2147483647u,
                                   .lower_threshold = 7,
                                   .checks = {model::CheckSpec{}}}));
}

TEST(RealServerKeysTest, WeightZero) {
  EXPECT_EQ(rs_with("", "address = \"10.0.0.11:80\"\nweight = 0").weight, 0u);
}

TEST(RealServerKeysTest, ForwardDr) {
  EXPECT_EQ(rs_with("", "address = \"10.0.0.11\"\nforward = \"dr\""),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"), .forwarding = {.method = model::ForwardMethod::Dr}}));
  EXPECT_EQ(rs_with("", "address = \"10.0.0.11:80\"\nforward = \"dr\""),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"), .forwarding = {.method = model::ForwardMethod::Dr}}));
}

TEST(RealServerKeysTest, ForwardTunIpipIsTheDefaultTunnel) {
  EXPECT_EQ(rs_with("", "address = \"10.0.0.11\"\nforward = \"tun\""),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"),
                               .forwarding = {.method = model::ForwardMethod::Tun,
                                              .tunnel_type = model::TunnelType::Ipip}}));
  EXPECT_EQ(rs_with("", "address = \"10.0.0.11\"\nforward = \"tun\"\ntunnel_type = \"ipip\"\ntunnel_checksum = \"nocsum\""),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"),
                               .forwarding = {.method = model::ForwardMethod::Tun}}));
}

TEST(RealServerKeysTest, ForwardTunGue) {
  EXPECT_EQ(rs_with("", R"(address = "10.0.0.11"
forward = "tun"
tunnel_type = "gue"
tunnel_port = 6080
tunnel_checksum = "csum")"),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"),
                               .forwarding = {.method = model::ForwardMethod::Tun,
                                              .tunnel_type = model::TunnelType::Gue,
                                              .tunnel_port = 6080,
                                              .tunnel_checksum = model::TunnelChecksum::Csum}}));
}

TEST(RealServerKeysTest, ForwardTunGre) {
  EXPECT_EQ(rs_with("", R"(address = "10.0.0.11"
forward = "tun"
tunnel_type = "gre"
tunnel_checksum = "csum")"),
            (model::RealServer{.endpoint = ep("10.0.0.11:80"),
                               .forwarding = {.method = model::ForwardMethod::Tun,
                                              .tunnel_type = model::TunnelType::Gre,
                                              .tunnel_checksum = model::TunnelChecksum::Csum}}));
}

TEST(RealServerKeysTest, TunnelCarriesTheOtherFamily) {
  const auto vs = vs_with("", "[[virtual_server.real_server]]\naddress = \"[2001:db8::11]:80\"\nforward = \"tun\"\n");
  EXPECT_EQ(vs.real_servers,
            (std::vector<model::RealServer>{{.endpoint = ep("[2001:db8::11]:80"),
                                             .forwarding = {.method = model::ForwardMethod::Tun}}}));
}

TEST(RealServerKeysTest, CheckArrayOfTables) {
  const auto rs = rs_with("", R"(address = "10.0.0.11:80"
[[virtual_server.real_server.check]]
type = "tcp"
[[virtual_server.real_server.check]]
type = "icmp")");
  EXPECT_EQ(rs.checks, (std::vector<model::CheckSpec>{
                           model::CheckSpec{.type = model::CheckType::Tcp},
                           model::CheckSpec{.type = model::CheckType::Icmp, .detail = model::IcmpCheck{}}}));
}

// --- [defaults] --------------------------------------------------------------------------

TEST(DefaultsKeysTest, EveryKeyReachesEveryVirtualServer) {
  const auto d = load(R"(
[defaults]
protocol = "udp"
scheduler = "sh"
scheduler_flags = ["sh-port"]
one_packet = true
persistence_timeout = "2m"
persistence_netmask = "255.255.0.0"
persistence_engine = "sip"
quorum = 2
hysteresis = 1
quorum_up = "/bin/up"
quorum_down = "/bin/down"
inhibit_on_failure = true
initial_health = "down"
weight = 9
forward = "tun"
tunnel_type = "gue"
tunnel_port = 7777
tunnel_checksum = "remcsum"
upper_threshold = 500
lower_threshold = 50
check = [{ type = "udp", payload = "ping" }]

[[virtual_server]]
address = "192.0.2.10:5060"
real_server = [{ address = "10.0.0.11" }]

[[virtual_server]]
address = "192.0.2.11:5060"
real_server = [{ address = "10.0.0.21" }, { address = "10.0.0.22" }]
)");
  const model::RealServer proto{
      .weight = 9,
      .forwarding = {.method = model::ForwardMethod::Tun, .tunnel_type = model::TunnelType::Gue,
                     .tunnel_port = 7777, .tunnel_checksum = model::TunnelChecksum::RemCsum},
      .upper_threshold = 500,
      .lower_threshold = 50,
      .checks = {model::CheckSpec{.type = model::CheckType::Udp, .detail = model::UdpCheck{.payload = "ping"}}}};
  auto rs = [&](std::string_view endpoint) {
    auto r = proto;
    r.endpoint = ep(endpoint);
    return r;
  };
  auto vs = [&](std::string_view address, std::vector<model::RealServer> real) {
    return model::VirtualServer{
        .name = "UDP " + std::string(address),
        .key = {.family = model::Family::V4, .protocol = model::Protocol::Udp, .endpoint = ep(address)},
        .scheduler = model::Scheduler::Sh,
        .scheduler_flags = {.sh_port = true},
        .one_packet = true,
        .persistence = model::Persistence{.timeout = 120s, .prefix_length = 16, .engine = "sip"},
        .real_servers = std::move(real),
        .quorum = {.minimum = 2, .hysteresis = 1, .up_command = "/bin/up", .down_command = "/bin/down"},
        .inhibit_on_failure = true,
        .initial_health = model::InitialHealth::Down};
  };
  EXPECT_EQ(d.virtual_servers,
            (std::vector<model::VirtualServer>{
                vs("192.0.2.10:5060", {rs("10.0.0.11:5060")}),
                vs("192.0.2.11:5060", {rs("10.0.0.21:5060"), rs("10.0.0.22:5060")})}));
}

TEST(DefaultsKeysTest, EmptyDefaultsChangeNothing) {
  EXPECT_EQ(only_vs("[defaults]\n[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"), base_vs());
}

TEST(DefaultsKeysTest, TunnelSettingsInDefaultsAreIgnoredByNatServers) {
  // [defaults] may carry tunnel settings for the tunnel services; NAT services ignore them.
  const auto vs = only_vs(R"(
[defaults]
tunnel_type = "gre"
tunnel_checksum = "csum"
[[virtual_server]]
address = "192.0.2.10:80"
real_server = [{ address = "10.0.0.11:8080" }]
)");
  EXPECT_EQ(vs.real_servers, std::vector<model::RealServer>{base_rs("10.0.0.11:8080")});
}

// --- checks: common keys -----------------------------------------------------------------

TEST(CheckKeysTest, MinimalTcpCheckDefaults) {
  const auto c = check("type = \"tcp\"");
  EXPECT_EQ(c, (model::CheckSpec{.type = model::CheckType::Tcp,
                                 .timing = {.interval = 3s, .timeout = 2s, .retry = 0,
                                            .delay_before_retry = 1s, .rise = 2, .fall = 3, .warmup = 0s},
                                 .address = std::nullopt,
                                 .port = std::nullopt,
                                 .bind_address = std::nullopt,
                                 .bind_interface = "",
                                 .detail = model::TcpCheck{}}));
}

TEST(CheckKeysTest, EveryCommonKeyReachesTheModel) {
  const auto c = check(R"(type = "tcp"
interval = "10s"
timeout = "1.5s"
retry = 3
delay_before_retry = "250ms"
rise = 5
fall = 7
warmup = "1m"
address = "10.0.0.50"
port = 8080
bind_address = "10.0.0.1"
bind_interface = "eth1")");
  EXPECT_EQ(c, (model::CheckSpec{.type = model::CheckType::Tcp,
                                 .timing = {.interval = 10s, .timeout = 1500ms, .retry = 3,
                                            .delay_before_retry = 250ms, .rise = 5, .fall = 7, .warmup = 1min},
                                 .address = ip("10.0.0.50"),
                                 .port = 8080,
                                 .bind_address = ip("10.0.0.1"),
                                 .bind_interface = "eth1",
                                 .detail = model::TcpCheck{}}));
}

TEST(CheckKeysTest, TimingLimits) {
  const auto c = check(R"(type = "tcp"
interval = "24h"
timeout = "1h"
retry = 100
delay_before_retry = 0
rise = 1000
fall = 1
warmup = "24h")");
  EXPECT_EQ(c.timing, (model::CheckTiming{.interval = 24h, .timeout = 1h, .retry = 100,
                                          .delay_before_retry = 0ms, .rise = 1000, .fall = 1, .warmup = 24h}));
  const auto fast = check("type = \"tcp\"\ninterval = \"10ms\"\ntimeout = \"1ms\"\nrise = 1\n");
  EXPECT_EQ(fast.timing, (model::CheckTiming{.interval = 10ms, .timeout = 1ms, .rise = 1}));
  // timeout equal to interval is allowed.
  EXPECT_EQ(check("type = \"tcp\"\ninterval = 2\n").timing, (model::CheckTiming{.interval = 2s, .timeout = 2s}));
}

TEST(CheckKeysTest, Ipv6Addresses) {
  const auto vs = only_vs(R"(
[[virtual_server]]
address = "[2001:db8::10]:80"
[[virtual_server.real_server]]
address = "[2001:db8::11]:80"
[[virtual_server.real_server.check]]
type = "tcp"
address = "2001:db8::50"
port = 65535
bind_address = "2001:db8::1"
)");
  ASSERT_EQ(vs.real_servers.size(), 1u);
  EXPECT_EQ(vs.real_servers[0].checks,
            (std::vector<model::CheckSpec>{{.type = model::CheckType::Tcp,
                                            .address = ip("2001:db8::50"),
                                            .port = 65535,
                                            .bind_address = ip("2001:db8::1")}}));
}

// --- checks: each type -------------------------------------------------------------------

TEST(CheckKeysTest, IcmpDefaultsAndPayloadSize) {
  EXPECT_EQ(check("type = \"icmp\""),
            (model::CheckSpec{.type = model::CheckType::Icmp, .detail = model::IcmpCheck{.payload_size = 56}}));
  EXPECT_EQ(check("type = \"icmp\"\npayload_size = 1400"),
            (model::CheckSpec{.type = model::CheckType::Icmp, .detail = model::IcmpCheck{.payload_size = 1400}}));
  EXPECT_EQ(detail_of<model::IcmpCheck>(check("type = \"icmp\"\npayload_size = 0")).payload_size, 0);
  EXPECT_EQ(detail_of<model::IcmpCheck>(check("type = \"icmp\"\npayload_size = 65000")).payload_size, 65000);
}

TEST(CheckKeysTest, HttpDefaults) {
  const auto c = check("type = \"http\"");
  EXPECT_EQ(c, (model::CheckSpec{.type = model::CheckType::Http,
                                 .detail = model::HttpCheck{.method = model::HttpMethod::Get,
                                                            .host = "",
                                                            .urls = {model::HttpUrl{.path = "/",
                                                                                    .status = {{200, 200}},
                                                                                    .digest = std::nullopt,
                                                                                    .regex = "",
                                                                                    .regex_bytes = 65536}},
                                                            .max_redirects = 0,
                                                            .tls = {}}}));
}

TEST(CheckKeysTest, HttpEveryKeyReachesTheModel) {
  const auto c = check(R"(type = "http"
method = "HEAD"
host = "www.example.com"
path = "/health"
status = 204
digest = "0123456789ABCDEF0123456789abcdef"
regex = "^ok$"
regex_bytes = 4096
max_redirects = 10)");
  EXPECT_EQ(c, (model::CheckSpec{
                   .type = model::CheckType::Http,
                   .detail = model::HttpCheck{
                       .method = model::HttpMethod::Head,
                       .host = "www.example.com",
                       .urls = {model::HttpUrl{.path = "/health",
                                               .status = {{204, 204}},
                                               .digest = model::Digest{.algorithm = model::DigestAlgorithm::Md5,
                                                                       .hex = "0123456789abcdef0123456789abcdef"},
                                               .regex = "^ok$",
                                               .regex_bytes = 4096}},
                       .max_redirects = 10}}));
}

TEST(CheckKeysTest, HttpPathList) {
  const auto h = detail_of<model::HttpCheck>(check(R"(type = "http"
path = ["/a", "/b"]
status = "200-299"
regex = "up")"));
  EXPECT_EQ(h.urls, (std::vector<model::HttpUrl>{
                        {.path = "/a", .status = {{200, 299}}, .regex = "up"},
                        {.path = "/b", .status = {{200, 299}}, .regex = "up"}}));
}

TEST(CheckKeysTest, HttpStatusForms) {
  auto status = [](std::string_view value) {
    return detail_of<model::HttpCheck>(check("type = \"http\"\nstatus = " + std::string(value))).urls.at(0).status;
  };
  using Ranges = std::vector<model::StatusRange>;
  EXPECT_EQ(status("200"), (Ranges{{200, 200}}));
  EXPECT_EQ(status("599"), (Ranges{{599, 599}}));
  EXPECT_EQ(status("100"), (Ranges{{100, 100}}));
  EXPECT_EQ(status("\"200-299\""), (Ranges{{200, 299}}));
  EXPECT_EQ(status("\"301-301\""), (Ranges{{301, 301}}));
  EXPECT_EQ(status("[200, \"301-302\", 404]"), (Ranges{{200, 200}, {301, 302}, {404, 404}}));
}

TEST(CheckKeysTest, HttpDigestForms) {
  auto digest = [](std::string_view value) {
    return detail_of<model::HttpCheck>(check("type = \"http\"\ndigest = \"" + std::string(value) + "\""))
        .urls.at(0)
        .digest;
  };
  const std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  const std::string sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const model::Digest want_md5{.algorithm = model::DigestAlgorithm::Md5, .hex = md5};
  const model::Digest want_sha{.algorithm = model::DigestAlgorithm::Sha256, .hex = sha};
  EXPECT_EQ(digest(md5), want_md5);
  EXPECT_EQ(digest("md5:" + md5), want_md5);
  EXPECT_EQ(digest("D41D8CD98F00B204E9800998ECF8427E"), want_md5);
  EXPECT_EQ(digest(sha), want_sha);
  EXPECT_EQ(digest("sha256:" + sha), want_sha);
  EXPECT_EQ(digest("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"), want_sha);
}

TEST(CheckKeysTest, HttpUrlTables) {
  const auto h = detail_of<model::HttpCheck>(check(R"(type = "http"
host = "api.example.com"
status = "200-204"
regex_bytes = 100
[[virtual_server.real_server.check.url]]
path = "/health"
status = 200
digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
regex = "ok"
regex_bytes = 16777216
[[virtual_server.real_server.check.url]]
path = "/ready"
)"));
  EXPECT_EQ(h, (model::HttpCheck{
                   .host = "api.example.com",
                   .urls = {{.path = "/health",
                             .status = {{200, 200}},
                             .digest = model::Digest{
                                 .algorithm = model::DigestAlgorithm::Sha256,
                                 .hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                             .regex = "ok",
                             .regex_bytes = 16777216},
                            // Keys the url table leaves out come from the check.
                            {.path = "/ready", .status = {{200, 204}}, .regex_bytes = 100}}}));
}

TEST(CheckKeysTest, HttpUrlInlineTables) {
  const auto h = detail_of<model::HttpCheck>(
      check(R"(type = "http"
url = [{ path = "/a", regex_bytes = 1 }, { path = "/b", status = [200, 404] }])"));
  EXPECT_EQ(h.urls, (std::vector<model::HttpUrl>{{.path = "/a", .regex_bytes = 1},
                                                 {.path = "/b", .status = {{200, 200}, {404, 404}}}}));
}

TEST(CheckKeysTest, HttpsDefaults) {
  EXPECT_EQ(check("type = \"https\""),
            (model::CheckSpec{.type = model::CheckType::Https, .detail = model::HttpCheck{}}));
}

TEST(CheckKeysTest, HttpsEveryTlsKeyReachesTheModel) {
  const auto c = check(R"(type = "https"
port = 443
method = "GET"
path = "/"
sni = "www.example.com"
verify = true
ca_file = "/etc/ssl/ca.pem"
cert_file = "/etc/lvsd/client.pem"
key_file = "/etc/lvsd/client.key")");
  EXPECT_EQ(c, (model::CheckSpec{.type = model::CheckType::Https,
                                 .port = 443,
                                 .detail = model::HttpCheck{.tls = {.sni = "www.example.com",
                                                                    .verify = true,
                                                                    .ca_file = "/etc/ssl/ca.pem",
                                                                    .cert_file = "/etc/lvsd/client.pem",
                                                                    .key_file = "/etc/lvsd/client.key"}}}));
}

TEST(CheckKeysTest, HttpsAlsoTakesEveryHttpKey) {
  const auto h = detail_of<model::HttpCheck>(check(R"(type = "https"
method = "HEAD"
host = "h.example"
max_redirects = 1
url = [{ path = "/x", digest = "md5:d41d8cd98f00b204e9800998ecf8427e", regex = "a", regex_bytes = 2, status = "300-399" }])"));
  EXPECT_EQ(h, (model::HttpCheck{
                   .method = model::HttpMethod::Head,
                   .host = "h.example",
                   .urls = {{.path = "/x",
                             .status = {{300, 399}},
                             .digest = model::Digest{.hex = "d41d8cd98f00b204e9800998ecf8427e"},
                             .regex = "a",
                             .regex_bytes = 2}},
                   .max_redirects = 1}));
}

TEST(CheckKeysTest, Udp) {
  EXPECT_EQ(check("type = \"udp\""), (model::CheckSpec{.type = model::CheckType::Udp, .detail = model::UdpCheck{}}));
  EXPECT_EQ(check("type = \"udp\"\nport = 53\npayload = \"\\u0000\\u0001ping\"\nexpect = \"^pong\"\n"),
            (model::CheckSpec{.type = model::CheckType::Udp,
                              .port = 53,
                              .detail = model::UdpCheck{.payload = std::string("\0\1ping", 6), .expect = "^pong"}}));
}

TEST(CheckKeysTest, DnsDefaults) {
  EXPECT_EQ(check("type = \"dns\""),
            (model::CheckSpec{.type = model::CheckType::Dns,
                              .detail = model::DnsCheck{.name = ".", .type = model::DnsType::Soa, .expect = ""}}));
}

TEST(CheckKeysTest, DnsEveryKeyReachesTheModel) {
  EXPECT_EQ(detail_of<model::DnsCheck>(
                check("type = \"dns\"\nname = \"www.example.com\"\nquery_type = \"AAAA\"\nexpect = \"2001:db8::1\"")),
            (model::DnsCheck{.name = "www.example.com", .type = model::DnsType::Aaaa, .expect = "2001:db8::1"}));
}

TEST(CheckKeysTest, DnsEveryQueryType) {
  ASSERT_EQ(model::names<model::DnsType>().size(), 10u);
  for (const auto& [value, name] : model::names<model::DnsType>()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(detail_of<model::DnsCheck>(check("type = \"dns\"\nquery_type = \"" + std::string(name) + "\"")).type,
              value);
  }
}

TEST(CheckKeysTest, Smtp) {
  EXPECT_EQ(check("type = \"smtp\""),
            (model::CheckSpec{.type = model::CheckType::Smtp, .detail = model::SmtpCheck{.helo_name = "lvsd"}}));
  EXPECT_EQ(check("type = \"smtp\"\nport = 25\nhelo_name = \"lb-a.example.com\""),
            (model::CheckSpec{.type = model::CheckType::Smtp,
                              .port = 25,
                              .detail = model::SmtpCheck{.helo_name = "lb-a.example.com"}}));
}

TEST(CheckKeysTest, ScriptCommandStringRunsUnderShell) {
  EXPECT_EQ(check("type = \"script\"\ncommand = \"/usr/local/bin/check --port 80 || exit 1\""),
            (model::CheckSpec{.type = model::CheckType::Script,
                              .detail = model::ScriptCheck{
                                  .argv = {"/bin/sh", "-c", "/usr/local/bin/check --port 80 || exit 1"},
                                  .user = "",
                                  .dynamic_weight = false}}));
}

TEST(CheckKeysTest, ScriptCommandArrayIsTheArgv) {
  EXPECT_EQ(check("type = \"script\"\ncommand = [\"/usr/local/bin/check\", \"--port\", \"80\"]\nuser = \"lvs\"\n"
                  "dynamic_weight = true"),
            (model::CheckSpec{.type = model::CheckType::Script,
                              .detail = model::ScriptCheck{.argv = {"/usr/local/bin/check", "--port", "80"},
                                                           .user = "lvs",
                                                           .dynamic_weight = true}}));
  EXPECT_EQ(detail_of<model::ScriptCheck>(check("type = \"script\"\ncommand = [\"/bin/true\"]")).argv,
            std::vector<std::string>{"/bin/true"});
}

TEST(CheckKeysTest, File) {
  EXPECT_EQ(check("type = \"file\"\npath = \"/run/lvsd/weight-web1\""),
            (model::CheckSpec{.type = model::CheckType::File,
                              .detail = model::FileCheck{.path = "/run/lvsd/weight-web1"}}));
}

TEST(CheckKeysTest, CommonKeysWorkForEveryType) {
  // The common keys are read the same whatever the type.
  for (std::string_view type : {"tcp", "http", "https", "udp", "dns", "smtp"}) {
    SCOPED_TRACE(type);
    const auto c = check("type = \"" + std::string(type) + "\"\ninterval = 5\ntimeout = 4\nport = 99\n"
                         "address = \"10.0.0.60\"\nbind_interface = \"lo\"");
    EXPECT_EQ(c.timing, (model::CheckTiming{.interval = 5s, .timeout = 4s}));
    EXPECT_EQ(c.port, 99);
    EXPECT_EQ(c.address, ip("10.0.0.60"));
    EXPECT_EQ(c.bind_interface, "lo");
  }
  const auto icmp = check("type = \"icmp\"\nretry = 2\nbind_address = \"10.0.0.1\"");
  EXPECT_EQ(icmp.timing.retry, 2u);
  EXPECT_EQ(icmp.bind_address, ip("10.0.0.1"));
  const auto script = check("type = \"script\"\ncommand = \"true\"\nrise = 4");
  EXPECT_EQ(script.timing.rise, 4u);
  const auto file = check("type = \"file\"\npath = \"/w\"\nfall = 9");
  EXPECT_EQ(file.timing.fall, 9u);
}

// --- [[vrrp_instance]] -------------------------------------------------------------------

TEST(VrrpInstanceKeysTest, MinimalInstanceDefaults) {
  const auto vi = instance("");
  EXPECT_EQ(vi, base_instance());
  EXPECT_EQ(vi, (model::VrrpInstance{.name = "VI_1",
                                     .interface = "eth0",
                                     .vrid = 51,
                                     .priority = 100,
                                     .version = 3,
                                     .family = model::Family::V4,
                                     .advert_interval = 1s,
                                     .initial_state = model::VrrpState::Backup,
                                     .preempt = true,
                                     .preempt_delay = 0s,
                                     .auth_pass = "",
                                     .virtual_ips = {{.prefix = prefix("192.0.2.10/24"),
                                                      .device = "",
                                                      .label = "",
                                                      .scope = model::AddressScope::Global}},
                                     .virtual_routes = {},
                                     .unicast_source = std::nullopt,
                                     .unicast_peers = {},
                                     .use_vmac = false,
                                     .vmac_name = "",
                                     .garp_master_delay = 5s,
                                     .garp_master_repeat = 5,
                                     .garp_master_refresh = 0s,
                                     .conflict_probe_interval = 1s,
                                     .resolve_conflict = true,
                                     .notify = {},
                                     .trackers = {}}));
}

TEST(VrrpInstanceKeysTest, EveryScalarKeyReachesTheModel) {
  const auto vi = instance(R"(priority = 255
version = 3
advert_int = "250ms"
state = "master"
preempt = false
preempt_delay = "30s"
use_vmac = true
vmac_name = "vrrp.web"
garp_master_delay = "1s"
garp_master_repeat = 3
garp_master_refresh = "1m"
conflict_probe_interval = "500ms"
resolve_conflict = false)");
  auto want = base_instance();
  want.priority = 255;
  want.advert_interval = 250ms;
  want.initial_state = model::VrrpState::Master;
  want.preempt = false;
  want.preempt_delay = 30s;
  want.use_vmac = true;
  want.vmac_name = "vrrp.web";
  want.garp_master_delay = 1s;
  want.garp_master_repeat = 3;
  want.garp_master_refresh = 1min;
  want.conflict_probe_interval = 500ms;
  want.resolve_conflict = false;
  EXPECT_EQ(vi, want);
}

TEST(VrrpInstanceKeysTest, RequiredKeyLimits) {
  const auto vi = only_instance(R"(
[[vrrp_instance]]
name = "a-long-instance-name with spaces"
interface = "bond0.100"
vrid = 255
priority = 1
virtual_ipaddress = ["192.0.2.10/24"]
)");
  EXPECT_EQ(vi.name, "a-long-instance-name with spaces");
  EXPECT_EQ(vi.interface, "bond0.100");
  EXPECT_EQ(vi.vrid, 255);
  EXPECT_EQ(vi.priority, 1);
  EXPECT_EQ(only_instance("[[vrrp_instance]]\nname = \"x\"\ninterface = \"eth0\"\nvrid = 1\n"
                          "virtual_ipaddress = [\"192.0.2.10\"]\n")
                .vrid,
            1);
}

TEST(VrrpInstanceKeysTest, StateBackup) {
  EXPECT_EQ(instance("state = \"backup\"").initial_state, model::VrrpState::Backup);
}

TEST(VrrpInstanceKeysTest, Version2WithAuthPass) {
  const auto vi = instance("version = 2\nadvert_int = 3\nauth_pass = \"12345678\"");
  auto want = base_instance();
  want.version = 2;
  want.advert_interval = 3s;
  want.auth_pass = "12345678";
  EXPECT_EQ(vi, want);
  EXPECT_EQ(instance("version = 2\nadvert_int = \"2s\"").advert_interval, 2s);
  EXPECT_EQ(instance("version = 2\nadvert_int = \"255s\"").advert_interval, 255s);
}

TEST(VrrpInstanceKeysTest, Version3AdvertIntForms) {
  EXPECT_EQ(instance("advert_int = \"10ms\"").advert_interval, 10ms);
  EXPECT_EQ(instance("advert_int = 0.05").advert_interval, 50ms);
  EXPECT_EQ(instance("advert_int = \"1.5s\"").advert_interval, 1500ms);
  EXPECT_EQ(instance("advert_int = 2").advert_interval, 2s);
  EXPECT_EQ(instance("advert_int = \"40950ms\"").advert_interval, 40950ms);
}

TEST(VrrpInstanceKeysTest, VirtualIpForms) {
  const auto vi = instance("", R"(virtual_ipaddress = [
  "192.0.2.10/24",
  "192.0.2.11",
  { address = "10.0.0.1/24", device = "eth1", label = "eth1:gw", scope = "link" },
  { address = "198.51.100.1" },
])");
  EXPECT_EQ(vi.family, model::Family::V4);
  EXPECT_EQ(vi.virtual_ips,
            (std::vector<model::VirtualIp>{
                {.prefix = prefix("192.0.2.10/24")},
                {.prefix = prefix("192.0.2.11/32")},
                {.prefix = prefix("10.0.0.1/24"), .device = "eth1", .label = "eth1:gw",
                 .scope = model::AddressScope::Link},
                {.prefix = prefix("198.51.100.1/32")}}));
}

TEST(VrrpInstanceKeysTest, EveryAddressScope) {
  ASSERT_EQ(model::names<model::AddressScope>().size(), 4u);
  for (const auto& [value, name] : model::names<model::AddressScope>()) {
    SCOPED_TRACE(name);
    const auto vi = instance("", "virtual_ipaddress = [{ address = \"192.0.2.10\", scope = \"" + std::string(name) +
                                     "\" }]");
    EXPECT_EQ(vi.virtual_ips, (std::vector<model::VirtualIp>{{.prefix = prefix("192.0.2.10"), .scope = value}}));
  }
}

TEST(VrrpInstanceKeysTest, Ipv6Instance) {
  const auto vi = instance(R"(unicast_src_ip = "2001:db8::2"
unicast_peers = ["2001:db8::3", "2001:db8::4"])",
                           R"(virtual_ipaddress = ["2001:db8::10/64", { address = "fe80::1", device = "eth1", scope = "link" }])");
  auto want = base_instance();
  want.family = model::Family::V6;
  want.virtual_ips = {{.prefix = prefix("2001:db8::10/64")},
                      {.prefix = prefix("fe80::1/128"), .device = "eth1", .scope = model::AddressScope::Link}};
  want.unicast_source = ip("2001:db8::2");
  want.unicast_peers = {ip("2001:db8::3"), ip("2001:db8::4")};
  EXPECT_EQ(vi, want);
}

TEST(VrrpInstanceKeysTest, Unicast) {
  const auto vi = instance("unicast_src_ip = \"192.0.2.2\"\nunicast_peers = [\"192.0.2.3\"]");
  EXPECT_EQ(vi.unicast_source, ip("192.0.2.2"));
  EXPECT_EQ(vi.unicast_peers, std::vector<model::IpAddress>{ip("192.0.2.3")});
  EXPECT_EQ(instance("unicast_peers = []").unicast_peers, std::vector<model::IpAddress>{});
}

TEST(VrrpInstanceKeysTest, VirtualRoutes) {
  const auto vi = instance(R"(virtual_routes = [
  { to = "198.51.100.0/24", via = "192.0.2.1", device = "eth1", metric = 10, table = 100 },
  { to = "203.0.113.0/24" },
  { to = "0.0.0.0/0", via = "192.0.2.254", metric = 4294967295, table = 4294967295 },
  { to = "2001:db8:1::/48", via = "2001:db8::1" },
])");
  EXPECT_EQ(vi.virtual_routes,
            (std::vector<model::VirtualRoute>{
                {.destination = prefix("198.51.100.0/24"), .via = ip("192.0.2.1"), .device = "eth1",
                 .metric = 10, .table = 100},
                {.destination = prefix("203.0.113.0/24"), .via = std::nullopt, .device = "", .metric = 0,
                 .table = 0},
                {.destination = prefix("0.0.0.0/0"), .via = ip("192.0.2.254"), .metric = 4294967295u,
                 .table = 4294967295u},
                {.destination = prefix("2001:db8:1::/48"), .via = ip("2001:db8::1")}}));
}

TEST(VrrpInstanceKeysTest, VirtualRoutesAsArrayOfTables) {
  const auto vi = instance("[[vrrp_instance.virtual_routes]]\nto = \"198.51.100.7\"\n");
  EXPECT_EQ(vi.virtual_routes, (std::vector<model::VirtualRoute>{{.destination = prefix("198.51.100.7/32")}}));
}

TEST(VrrpInstanceKeysTest, NotifyCommands) {
  const auto vi = instance(R"(notify_master = "/etc/lvsd/master.sh"
notify_backup = "/etc/lvsd/backup.sh"
notify_fault = "/etc/lvsd/fault.sh"
notify_stop = "/etc/lvsd/stop.sh"
notify_conflict = "/etc/lvsd/conflict.sh"
notify = "/etc/lvsd/any.sh")");
  EXPECT_EQ(vi.notify, (model::Notify{.master = "/etc/lvsd/master.sh",
                                      .backup = "/etc/lvsd/backup.sh",
                                      .fault = "/etc/lvsd/fault.sh",
                                      .stop = "/etc/lvsd/stop.sh",
                                      .conflict = "/etc/lvsd/conflict.sh",
                                      .any = "/etc/lvsd/any.sh"}));
}

// --- trackers ----------------------------------------------------------------------------

// Timing of a probe tracker left at its defaults: faster than a pool's checks.
constexpr model::CheckTiming kProbeTiming{.interval = std::chrono::seconds(1), .timeout = std::chrono::seconds(1)};

TEST(TrackerKeysTest, TrackInterfaceString) {
  EXPECT_EQ(tracker("track_interface = [\"eth1\"]"),
            (model::Tracker{.what = model::TrackInterface{"eth1"}, .weight = 0}));
}

TEST(TrackerKeysTest, TrackInterfaceTable) {
  EXPECT_EQ(tracker("track_interface = [{ name = \"eth1\", weight = -50 }]"),
            (model::Tracker{.what = model::TrackInterface{"eth1"}, .weight = -50}));
  EXPECT_EQ(tracker("track_interface = [{ name = \"eth1\", weight = 253 }]").weight, 253);
  EXPECT_EQ(tracker("track_interface = [{ name = \"eth1\", weight = -253 }]").weight, -253);
  EXPECT_EQ(tracker("track_interface = [{ name = \"eth1\" }]"),
            (model::Tracker{.what = model::TrackInterface{"eth1"}, .weight = 0}));
}

TEST(TrackerKeysTest, TrackPingMinimal) {
  EXPECT_EQ(tracker("track_ping = [{ address = \"192.0.2.1\" }]"),
            (model::Tracker{.what = model::TrackProbe{.target = ep("192.0.2.1"),
                                                      .check = {.type = model::CheckType::Icmp,
                                                                .timing = kProbeTiming,
                                                                .detail = model::IcmpCheck{}}},
                            .weight = 0}));
}

TEST(TrackerKeysTest, TrackPingEveryKey) {
  EXPECT_EQ(tracker(R"([[vrrp_instance.track_ping]]
address = "2001:db8::1"
weight = -20
interval = "2s"
timeout = "500ms"
retry = 1
delay_before_retry = "100ms"
rise = 4
fall = 5
warmup = "10s"
payload_size = 100)"),
            (model::Tracker{.what = model::TrackProbe{.target = ep("2001:db8::1"),
                                                      .check = {.type = model::CheckType::Icmp,
                                                                .timing = {.interval = 2s, .timeout = 500ms,
                                                                           .retry = 1, .delay_before_retry = 100ms,
                                                                           .rise = 4, .fall = 5, .warmup = 10s},
                                                                .detail = model::IcmpCheck{.payload_size = 100}}},
                            .weight = -20}));
}

TEST(TrackerKeysTest, TrackTcp) {
  EXPECT_EQ(tracker("track_tcp = [{ address = \"127.0.0.1:5432\" }]"),
            (model::Tracker{.what = model::TrackProbe{.target = ep("127.0.0.1:5432"),
                                                      .check = {.type = model::CheckType::Tcp,
                                                                .timing = kProbeTiming,
                                                                .detail = model::TcpCheck{}}}}));
  EXPECT_EQ(tracker(R"(track_tcp = [{ address = "[::1]:5432", weight = 10, interval = 5, timeout = 3, retry = 2, delay_before_retry = 1, rise = 1, fall = 2, warmup = 4 }])"),
            (model::Tracker{.what = model::TrackProbe{.target = ep("[::1]:5432"),
                                                      .check = {.type = model::CheckType::Tcp,
                                                                .timing = {.interval = 5s, .timeout = 3s, .retry = 2,
                                                                           .delay_before_retry = 1s, .rise = 1,
                                                                           .fall = 2, .warmup = 4s},
                                                                .detail = model::TcpCheck{}}},
                            .weight = 10}));
}

TEST(TrackerKeysTest, TrackHttpMinimal) {
  EXPECT_EQ(tracker("track_http = [{ url = \"http://127.0.0.1/health\" }]"),
            (model::Tracker{.what = model::TrackProbe{
                                .target = ep("127.0.0.1:80"),
                                .check = {.type = model::CheckType::Http,
                                          .timing = kProbeTiming,
                                          .detail = model::HttpCheck{.urls = {{.path = "/health"}}}}}}));
}

TEST(TrackerKeysTest, TrackHttpUrlForms) {
  auto probe = [](std::string_view url) {
    const auto t = tracker("track_http = [{ url = \"" + std::string(url) + "\" }]");
    return std::get<model::TrackProbe>(t.what);
  };
  auto path = [](const model::TrackProbe& p) { return std::get<model::HttpCheck>(p.check.detail).urls.at(0).path; };

  const auto plain = probe("http://10.0.0.1");
  EXPECT_EQ(plain.target, ep("10.0.0.1:80"));
  EXPECT_EQ(path(plain), "/");
  EXPECT_EQ(plain.check.type, model::CheckType::Http);

  const auto port = probe("http://10.0.0.1:8080/status?full=1");
  EXPECT_EQ(port.target, ep("10.0.0.1:8080"));
  EXPECT_EQ(path(port), "/status?full=1");

  const auto tls = probe("https://10.0.0.1/");
  EXPECT_EQ(tls.target, ep("10.0.0.1:443"));
  EXPECT_EQ(tls.check.type, model::CheckType::Https);
  EXPECT_EQ(path(tls), "/");

  const auto v6 = probe("https://[::1]:8443/health");
  EXPECT_EQ(v6.target, ep("[::1]:8443"));
  EXPECT_EQ(path(v6), "/health");

  const auto v6_default_port = probe("http://[2001:db8::1]/");
  EXPECT_EQ(v6_default_port.target, ep("[2001:db8::1]:80"));
}

TEST(TrackerKeysTest, TrackHttpEveryKey) {
  EXPECT_EQ(tracker(R"(track_http = [{ url = "https://192.0.2.1:8443/ready", weight = -100, interval = 3, timeout = 2, retry = 1, delay_before_retry = "200ms", rise = 2, fall = 2, warmup = 1, status = 204, host = "director.example", verify = true }])"),
            (model::Tracker{
                .what = model::TrackProbe{
                    .target = ep("192.0.2.1:8443"),
                    .check = {.type = model::CheckType::Https,
                              .timing = {.interval = 3s, .timeout = 2s, .retry = 1,
                                         .delay_before_retry = 200ms, .rise = 2, .fall = 2, .warmup = 1s},
                              .detail = model::HttpCheck{.host = "director.example",
                                                         .urls = {{.path = "/ready", .status = {{204, 204}}}},
                                                         .tls = {.verify = true}}}},
                .weight = -100}));
}

TEST(TrackerKeysTest, TrackFile) {
  EXPECT_EQ(tracker("track_file = [{ path = \"/run/lvsd/prio\" }]"),
            (model::Tracker{.what = model::TrackFile{"/run/lvsd/prio"}, .weight = 0}));
  EXPECT_EQ(tracker("track_file = [{ path = \"/run/lvsd/prio\", weight = 5 }]"),
            (model::Tracker{.what = model::TrackFile{"/run/lvsd/prio"}, .weight = 5}));
}

TEST(TrackerKeysTest, TrackScriptString) {
  EXPECT_EQ(tracker("track_script = [{ command = \"pidof haproxy\" }]"),
            (model::Tracker{.what = model::TrackScript{.script = {.argv = {"/bin/sh", "-c", "pidof haproxy"}},
                                                       .timing = model::CheckTiming{}},
                            .weight = 0}));
}

TEST(TrackerKeysTest, TrackScriptEveryKey) {
  EXPECT_EQ(tracker(R"([[vrrp_instance.track_script]]
command = ["/usr/bin/pidof", "haproxy"]
user = "haproxy"
weight = 30
interval = "5s"
timeout = "5s"
retry = 2
delay_before_retry = "1s"
rise = 3
fall = 1
warmup = "30s")"),
            (model::Tracker{.what = model::TrackScript{.script = {.argv = {"/usr/bin/pidof", "haproxy"},
                                                                  .user = "haproxy"},
                                                       .timing = {.interval = 5s, .timeout = 5s, .retry = 2,
                                                                  .delay_before_retry = 1s, .rise = 3,
                                                                  .fall = 1, .warmup = 30s}},
                            .weight = 30}));
}

TEST(TrackerKeysTest, TrackersKeepTheirOrderByKind) {
  // Trackers are listed kind by kind (interface, ping, tcp, http, file, script), each in its
  // own order.
  const auto vi = instance(R"(track_script = [{ command = "a" }]
track_file = [{ path = "/f" }]
track_interface = ["eth2", "eth1"]
track_ping = [{ address = "192.0.2.1" }])");
  using What = decltype(model::Tracker::what);
  ASSERT_EQ(vi.trackers.size(), 5u);
  EXPECT_EQ(vi.trackers[0].what, What{model::TrackInterface{"eth2"}});
  EXPECT_EQ(vi.trackers[1].what, What{model::TrackInterface{"eth1"}});
  EXPECT_TRUE(std::holds_alternative<model::TrackProbe>(vi.trackers[2].what));
  EXPECT_EQ(vi.trackers[3].what, What{model::TrackFile{"/f"}});
  EXPECT_TRUE(std::holds_alternative<model::TrackScript>(vi.trackers[4].what));
}

// --- [[vrrp_sync_group]] -----------------------------------------------------------------

TEST(SyncGroupKeysTest, EveryKeyReachesTheModel) {
  const auto d = load(R"(
[[vrrp_instance]]
name = "VI_WEB"
interface = "eth0"
vrid = 51
virtual_ipaddress = ["192.0.2.10/24"]

[[vrrp_instance]]
name = "VI_GW"
interface = "eth1"
vrid = 52
virtual_ipaddress = ["10.0.0.1/24"]

[[vrrp_sync_group]]
name = "G1"
instances = ["VI_GW", "VI_WEB"]
notify_master = "/bin/m"
notify_backup = "/bin/b"
notify_fault = "/bin/f"
notify_stop = "/bin/s"
notify_conflict = "/bin/c"
notify = "/bin/a"
)");
  EXPECT_EQ(d.sync_groups, (std::vector<model::SyncGroup>{
                               {.name = "G1",
                                .instances = {"VI_GW", "VI_WEB"},
                                .notify = {.master = "/bin/m", .backup = "/bin/b", .fault = "/bin/f",
                                           .stop = "/bin/s", .conflict = "/bin/c", .any = "/bin/a"}}}));
  ASSERT_EQ(d.vrrp_instances.size(), 2u);
  EXPECT_EQ(d.vrrp_instances[0].name, "VI_WEB");
  EXPECT_EQ(d.vrrp_instances[1].name, "VI_GW");
}

TEST(SyncGroupKeysTest, MinimalGroup) {
  const auto d = load(R"(
[[vrrp_instance]]
name = "A"
interface = "eth0"
vrid = 1
virtual_ipaddress = ["192.0.2.10"]
[[vrrp_instance]]
name = "B"
interface = "eth0"
vrid = 2
virtual_ipaddress = ["192.0.2.11"]
[[vrrp_instance]]
name = "C"
interface = "eth0"
vrid = 3
virtual_ipaddress = ["192.0.2.12"]
[[vrrp_sync_group]]
name = "G"
instances = ["A", "B", "C"]
)");
  EXPECT_EQ(d.sync_groups,
            (std::vector<model::SyncGroup>{{.name = "G", .instances = {"A", "B", "C"}, .notify = {}}}));
}

}  // namespace
}  // namespace lvsd::config
