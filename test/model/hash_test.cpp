// Tests for include/lvsd/model/hash.hpp: equal models hash equal; every field counts.
#include "lvsd/model/hash.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lvsd/model/desired.hpp"

namespace lvsd::model {
namespace {

using namespace std::chrono_literals;

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value(); }
Endpoint ep(std::string_view text) { return Endpoint::parse(text, false).value(); }
Prefix prefix(std::string_view text) { return Prefix::parse(text).value(); }

CheckSpec http_check() {
  return CheckSpec{
      .type = CheckType::Https,
      .timing = {.interval = 5s, .timeout = 1s, .retry = 2, .rise = 3, .fall = 4},
      .port = 8443,
      .detail = HttpCheck{.method = HttpMethod::Get,
                          .host = "www.example.com",
                          .urls = {HttpUrl{.path = "/health",
                                           .status = {{200, 299}},
                                           .digest = Digest{.algorithm = DigestAlgorithm::Md5,
                                                            .hex = "0123456789abcdef0123456789abcdef"},
                                           .regex = "ok"}},
                          .tls = {.sni = "www.example.com", .verify = true}},
  };
}

// A model that sets something in every struct, built the same way each time.
Desired rich() {
  return Desired{
      .globals = {.router_id = "lb-a", .script_user = "lvs"},
      .ipvs = {.manage = Ownership::Exclusive,
               .reconcile_interval = 2s,
               .timeouts = {.tcp = 900s, .tcp_fin = 120s, .udp = 300s},
               .sync_daemons = {{.role = SyncRole::Master,
                                 .interface = "eth1",
                                 .sync_id = 7,
                                 .max_len = 1400,
                                 .group = ip("239.1.2.3"),
                                 .port = 9000,
                                 .ttl = 3}}},
      .virtual_servers = {VirtualServer{
          .name = "web",
          .key = {.family = Family::V4, .protocol = Protocol::Tcp, .endpoint = ep("192.0.2.10:443")},
          .scheduler = Scheduler::Sh,
          .scheduler_flags = {.sh_port = true},
          .persistence = Persistence{.timeout = 600s, .prefix_length = 24},
          .real_servers = {RealServer{.endpoint = ep("10.0.0.11:443"), .weight = 3,
                                      .checks = {http_check()}},
                           RealServer{.endpoint = ep("10.0.0.12:443"), .weight = 2,
                                      .checks = {http_check()}}},
          .sorry_server = RealServer{.endpoint = ep("10.0.0.99:443")},
          .quorum = {.minimum = 2, .hysteresis = 1, .up_command = "/bin/up"},
      }},
      .vrrp = {.notify_fifo = "/run/lvsd/fifo"},
      .vrrp_instances = {VrrpInstance{
          .name = "VI_1",
          .interface = "eth0",
          .vrid = 51,
          .priority = 150,
          .virtual_ips = {VirtualIp{.prefix = prefix("192.0.2.10/24"), .label = "eth0:vip"}},
          .virtual_routes = {VirtualRoute{.destination = prefix("198.51.100.0/24"), .via = ip("192.0.2.1")}},
          .unicast_source = ip("192.0.2.2"),
          .unicast_peers = {ip("192.0.2.3")},
          .notify = {.master = "/bin/master"},
          .trackers = {Tracker{.what = TrackInterface{"eth1"}, .weight = -10},
                       Tracker{.what = TrackProbe{.target = ep("192.0.2.1"),
                                                  .check = {.type = CheckType::Icmp, .detail = IcmpCheck{}}}},
                       Tracker{.what = TrackFile{"/run/weight"}, .weight = 5},
                       Tracker{.what = TrackScript{.script = {.argv = {"/bin/true"}}}}},
      }},
      .sync_groups = {SyncGroup{.name = "G", .instances = {"VI_1", "VI_2"}}},
  };
}

TEST(HashTest, EqualModelsHashEqual) {
  const Desired a = rich();
  const Desired b = rich();
  ASSERT_EQ(a, b);
  EXPECT_EQ(hash_value(a), hash_value(b));
  EXPECT_EQ(Hasher{}(a), hash_value(a));
}

TEST(HashTest, DefaultModelsHashEqual) {
  EXPECT_EQ(Desired{}, Desired{});
  EXPECT_EQ(hash_value(Desired{}), hash_value(Desired{}));
  EXPECT_EQ(hash_value(CheckSpec{}), hash_value(CheckSpec{}));
  EXPECT_EQ(hash_value(VrrpInstance{}), hash_value(VrrpInstance{}));
}

TEST(HashTest, EqualValuesBuiltDifferentlyHashEqual) {
  std::array<std::uint8_t, 16> bytes{0x20, 0x01, 0x0d, 0xb8};
  bytes[15] = 1;
  EXPECT_EQ(hash_value(ip("2001:0db8::0001")), hash_value(IpAddress::v6(bytes)));
  EXPECT_EQ(hash_value(ip("192.0.2.10")), hash_value(IpAddress::v4(0xC000020Au)));
  EXPECT_EQ(hash_value(ep("[2001:db8::1]:80")), hash_value(Endpoint{IpAddress::v6(bytes), 80}));
  EXPECT_EQ(hash_value(prefix("192.0.2.10")), hash_value(Prefix{ip("192.0.2.10"), 32}));
}

TEST(HashTest, HasherDeduplicatesEqualValues) {
  std::unordered_set<VirtualServer, Hasher> set;
  set.insert(rich().virtual_servers[0]);
  set.insert(rich().virtual_servers[0]);
  EXPECT_EQ(set.size(), 1u);
  auto other = rich().virtual_servers[0];
  other.real_servers[1].weight = 7;
  set.insert(other);
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.count(other), 1u);
}

// One change to the rich model, by name.
struct Change {
  const char* what;
  std::function<void(Desired&)> apply;
};

// Every field of every struct, reached through a Desired. Each change must make the model
// unequal to the original and change its hash.
std::vector<Change> changes() {
  auto vs = [](Desired& d) -> VirtualServer& { return d.virtual_servers[0]; };
  auto rs = [](Desired& d) -> RealServer& { return d.virtual_servers[0].real_servers[0]; };
  auto check = [](Desired& d) -> CheckSpec& { return d.virtual_servers[0].real_servers[0].checks[0]; };
  auto http = [](Desired& d) -> HttpCheck& {
    return std::get<HttpCheck>(d.virtual_servers[0].real_servers[0].checks[0].detail);
  };
  auto url = [](Desired& d) -> HttpUrl& {
    return std::get<HttpCheck>(d.virtual_servers[0].real_servers[0].checks[0].detail).urls[0];
  };
  auto vi = [](Desired& d) -> VrrpInstance& { return d.vrrp_instances[0]; };
  auto tracker = [](Desired& d, std::size_t i) -> Tracker& { return d.vrrp_instances[0].trackers[i]; };
  return {
      // Globals
      {"globals.router_id", [](Desired& d) { d.globals.router_id = "lb-b"; }},
      {"globals.script_user", [](Desired& d) { d.globals.script_user = "nobody"; }},
      {"globals.control_socket", [](Desired& d) { d.globals.control_socket = "/run/x.sock"; }},
      {"globals.control_group", [](Desired& d) { d.globals.control_group = "adm"; }},
      {"globals.log_level", [](Desired& d) { d.globals.log_level = "debug"; }},
      // IpvsSettings
      {"ipvs.manage", [](Desired& d) { d.ipvs.manage = Ownership::Owned; }},
      {"ipvs.reconcile_interval", [](Desired& d) { d.ipvs.reconcile_interval = 3s; }},
      {"ipvs.on_exit", [](Desired& d) { d.ipvs.on_exit = OnExit::Remove; }},
      {"ipvs.timeouts.tcp", [](Desired& d) { d.ipvs.timeouts.tcp = 901s; }},
      {"ipvs.timeouts.tcp_fin", [](Desired& d) { d.ipvs.timeouts.tcp_fin = 121s; }},
      {"ipvs.timeouts.udp", [](Desired& d) { d.ipvs.timeouts.udp = 301s; }},
      {"ipvs.sync_daemons[0].role", [](Desired& d) { d.ipvs.sync_daemons[0].role = SyncRole::Backup; }},
      {"ipvs.sync_daemons[0].interface", [](Desired& d) { d.ipvs.sync_daemons[0].interface = "eth2"; }},
      {"ipvs.sync_daemons[0].sync_id", [](Desired& d) { d.ipvs.sync_daemons[0].sync_id = 8; }},
      {"ipvs.sync_daemons[0].max_len", [](Desired& d) { d.ipvs.sync_daemons[0].max_len = 1401; }},
      {"ipvs.sync_daemons[0].group", [](Desired& d) { d.ipvs.sync_daemons[0].group = ip("239.1.2.4"); }},
      {"ipvs.sync_daemons[0].group unset", [](Desired& d) { d.ipvs.sync_daemons[0].group.reset(); }},
      {"ipvs.sync_daemons[0].port", [](Desired& d) { d.ipvs.sync_daemons[0].port = 9001; }},
      {"ipvs.sync_daemons[0].ttl", [](Desired& d) { d.ipvs.sync_daemons[0].ttl = 4; }},
      {"ipvs.sync_daemons added", [](Desired& d) { d.ipvs.sync_daemons.push_back({.role = SyncRole::Backup}); }},
      // VirtualServer
      {"vs.name", [=](Desired& d) { vs(d).name = "web2"; }},
      {"vs.key.family", [=](Desired& d) { vs(d).key.family = Family::V6; }},
      {"vs.key.protocol", [=](Desired& d) { vs(d).key.protocol = Protocol::Udp; }},
      {"vs.key.endpoint.address", [=](Desired& d) { vs(d).key.endpoint.address = ip("192.0.2.11"); }},
      {"vs.key.endpoint.port", [=](Desired& d) { vs(d).key.endpoint.port = 444; }},
      {"vs.key.fwmark", [=](Desired& d) { vs(d).key.fwmark = 1; }},
      {"vs.scheduler", [=](Desired& d) { vs(d).scheduler = Scheduler::Mh; }},
      {"vs.scheduler_flags.sh_fallback", [=](Desired& d) { vs(d).scheduler_flags.sh_fallback = true; }},
      {"vs.scheduler_flags.sh_port", [=](Desired& d) { vs(d).scheduler_flags.sh_port = false; }},
      {"vs.scheduler_flags.mh_fallback", [=](Desired& d) { vs(d).scheduler_flags.mh_fallback = true; }},
      {"vs.scheduler_flags.mh_port", [=](Desired& d) { vs(d).scheduler_flags.mh_port = true; }},
      {"vs.one_packet", [=](Desired& d) { vs(d).one_packet = true; }},
      {"vs.persistence unset", [=](Desired& d) { vs(d).persistence.reset(); }},
      {"vs.persistence.timeout", [=](Desired& d) { vs(d).persistence->timeout = 601s; }},
      {"vs.persistence.prefix_length", [=](Desired& d) { vs(d).persistence->prefix_length = 16; }},
      {"vs.persistence.engine", [=](Desired& d) { vs(d).persistence->engine = "sip"; }},
      {"vs.real_servers reordered",
       [=](Desired& d) { std::swap(vs(d).real_servers[0], vs(d).real_servers[1]); }},
      {"vs.real_servers removed", [=](Desired& d) { vs(d).real_servers.pop_back(); }},
      {"vs.sorry_server unset", [=](Desired& d) { vs(d).sorry_server.reset(); }},
      {"vs.sorry_server.weight", [=](Desired& d) { vs(d).sorry_server->weight = 2; }},
      {"vs.quorum.minimum", [=](Desired& d) { vs(d).quorum.minimum = 3; }},
      {"vs.quorum.hysteresis", [=](Desired& d) { vs(d).quorum.hysteresis = 0; }},
      {"vs.quorum.up_command", [=](Desired& d) { vs(d).quorum.up_command = "/bin/up2"; }},
      {"vs.quorum.down_command", [=](Desired& d) { vs(d).quorum.down_command = "/bin/down"; }},
      {"vs.inhibit_on_failure", [=](Desired& d) { vs(d).inhibit_on_failure = true; }},
      {"vs.initial_health", [=](Desired& d) { vs(d).initial_health = InitialHealth::Down; }},
      // RealServer
      {"rs.endpoint.address", [=](Desired& d) { rs(d).endpoint.address = ip("10.0.0.13"); }},
      {"rs.endpoint.port", [=](Desired& d) { rs(d).endpoint.port = 8443; }},
      {"rs.weight", [=](Desired& d) { rs(d).weight = 4; }},
      {"rs.forwarding.method", [=](Desired& d) { rs(d).forwarding.method = ForwardMethod::Dr; }},
      {"rs.forwarding.tunnel_type", [=](Desired& d) { rs(d).forwarding.tunnel_type = TunnelType::Gue; }},
      {"rs.forwarding.tunnel_port", [=](Desired& d) { rs(d).forwarding.tunnel_port = 6080; }},
      {"rs.forwarding.tunnel_checksum",
       [=](Desired& d) { rs(d).forwarding.tunnel_checksum = TunnelChecksum::Csum; }},
      {"rs.upper_threshold", [=](Desired& d) { rs(d).upper_threshold = 100; }},
      {"rs.lower_threshold", [=](Desired& d) { rs(d).lower_threshold = 10; }},
      {"rs.checks cleared", [=](Desired& d) { rs(d).checks.clear(); }},
      // CheckSpec and CheckTiming
      {"check.type", [=](Desired& d) { check(d).type = CheckType::Http; }},
      {"check.timing.interval", [=](Desired& d) { check(d).timing.interval = 6s; }},
      {"check.timing.timeout", [=](Desired& d) { check(d).timing.timeout = 2s; }},
      {"check.timing.retry", [=](Desired& d) { check(d).timing.retry = 3; }},
      {"check.timing.delay_before_retry", [=](Desired& d) { check(d).timing.delay_before_retry = 2s; }},
      {"check.timing.rise", [=](Desired& d) { check(d).timing.rise = 1; }},
      {"check.timing.fall", [=](Desired& d) { check(d).timing.fall = 5; }},
      {"check.timing.warmup", [=](Desired& d) { check(d).timing.warmup = 10s; }},
      {"check.address", [=](Desired& d) { check(d).address = ip("10.0.0.50"); }},
      {"check.port unset", [=](Desired& d) { check(d).port.reset(); }},
      {"check.port", [=](Desired& d) { check(d).port = 8444; }},
      {"check.bind_address", [=](Desired& d) { check(d).bind_address = ip("10.0.0.1"); }},
      {"check.bind_interface", [=](Desired& d) { check(d).bind_interface = "eth1"; }},
      {"check.detail alternative", [=](Desired& d) { check(d).detail = TcpCheck{}; }},
      // HttpCheck, HttpUrl, StatusRange, Digest, TlsOptions
      {"http.method", [=](Desired& d) { http(d).method = HttpMethod::Head; }},
      {"http.host", [=](Desired& d) { http(d).host = "api.example.com"; }},
      {"http.urls added", [=](Desired& d) { http(d).urls.push_back(HttpUrl{}); }},
      {"http.max_redirects", [=](Desired& d) { http(d).max_redirects = 2; }},
      {"http.tls.sni", [=](Desired& d) { http(d).tls.sni = "api.example.com"; }},
      {"http.tls.verify", [=](Desired& d) { http(d).tls.verify = false; }},
      {"http.tls.ca_file", [=](Desired& d) { http(d).tls.ca_file = "/etc/ca.pem"; }},
      {"http.tls.cert_file", [=](Desired& d) { http(d).tls.cert_file = "/etc/c.pem"; }},
      {"http.tls.key_file", [=](Desired& d) { http(d).tls.key_file = "/etc/k.pem"; }},
      {"url.path", [=](Desired& d) { url(d).path = "/ready"; }},
      {"url.status.low", [=](Desired& d) { url(d).status[0].low = 201; }},
      {"url.status.high", [=](Desired& d) { url(d).status[0].high = 298; }},
      {"url.status added", [=](Desired& d) { url(d).status.push_back({301, 302}); }},
      {"url.digest unset", [=](Desired& d) { url(d).digest.reset(); }},
      {"url.digest.algorithm", [=](Desired& d) { url(d).digest->algorithm = DigestAlgorithm::Sha256; }},
      {"url.digest.hex", [=](Desired& d) { url(d).digest->hex = "ffffffffffffffffffffffffffffffff"; }},
      {"url.regex", [=](Desired& d) { url(d).regex = "OK"; }},
      {"url.regex_bytes", [=](Desired& d) { url(d).regex_bytes = 1024; }},
      // Other check details
      {"icmp.payload_size",
       [=](Desired& d) { std::get<TrackProbe>(tracker(d, 1).what).check.detail = IcmpCheck{100}; }},
      {"udp.payload", [=](Desired& d) { check(d).detail = UdpCheck{.payload = "x"}; }},
      {"dns", [=](Desired& d) { check(d).detail = DnsCheck{}; }},
      {"smtp", [=](Desired& d) { check(d).detail = SmtpCheck{}; }},
      {"script", [=](Desired& d) { check(d).detail = ScriptCheck{}; }},
      {"file", [=](Desired& d) { check(d).detail = FileCheck{}; }},
      // VrrpSettings
      {"vrrp.notify_fifo", [](Desired& d) { d.vrrp.notify_fifo = "/run/other"; }},
      // VrrpInstance
      {"vi.name", [=](Desired& d) { vi(d).name = "VI_2"; }},
      {"vi.interface", [=](Desired& d) { vi(d).interface = "eth1"; }},
      {"vi.vrid", [=](Desired& d) { vi(d).vrid = 52; }},
      {"vi.priority", [=](Desired& d) { vi(d).priority = 100; }},
      {"vi.version", [=](Desired& d) { vi(d).version = 2; }},
      {"vi.family", [=](Desired& d) { vi(d).family = Family::V6; }},
      {"vi.advert_interval", [=](Desired& d) { vi(d).advert_interval = 2s; }},
      {"vi.initial_state", [=](Desired& d) { vi(d).initial_state = VrrpState::Master; }},
      {"vi.preempt", [=](Desired& d) { vi(d).preempt = false; }},
      {"vi.preempt_delay", [=](Desired& d) { vi(d).preempt_delay = 30s; }},
      {"vi.auth_pass", [=](Desired& d) { vi(d).auth_pass = "secret"; }},
      {"vi.virtual_ips[0].prefix", [=](Desired& d) { vi(d).virtual_ips[0].prefix.length = 25; }},
      {"vi.virtual_ips[0].device", [=](Desired& d) { vi(d).virtual_ips[0].device = "eth1"; }},
      {"vi.virtual_ips[0].label", [=](Desired& d) { vi(d).virtual_ips[0].label = "eth0:web"; }},
      {"vi.virtual_ips[0].scope", [=](Desired& d) { vi(d).virtual_ips[0].scope = AddressScope::Link; }},
      {"vi.virtual_routes[0].destination",
       [=](Desired& d) { vi(d).virtual_routes[0].destination = prefix("198.51.100.0/25"); }},
      {"vi.virtual_routes[0].via unset", [=](Desired& d) { vi(d).virtual_routes[0].via.reset(); }},
      {"vi.virtual_routes[0].device", [=](Desired& d) { vi(d).virtual_routes[0].device = "eth1"; }},
      {"vi.virtual_routes[0].metric", [=](Desired& d) { vi(d).virtual_routes[0].metric = 10; }},
      {"vi.virtual_routes[0].table", [=](Desired& d) { vi(d).virtual_routes[0].table = 100; }},
      {"vi.unicast_source", [=](Desired& d) { vi(d).unicast_source = ip("192.0.2.4"); }},
      {"vi.unicast_peers", [=](Desired& d) { vi(d).unicast_peers.push_back(ip("192.0.2.5")); }},
      {"vi.use_vmac", [=](Desired& d) { vi(d).use_vmac = true; }},
      {"vi.vmac_name", [=](Desired& d) { vi(d).vmac_name = "vrrp.51"; }},
      {"vi.garp_master_delay", [=](Desired& d) { vi(d).garp_master_delay = 1s; }},
      {"vi.garp_master_repeat", [=](Desired& d) { vi(d).garp_master_repeat = 1; }},
      {"vi.garp_master_refresh", [=](Desired& d) { vi(d).garp_master_refresh = 60s; }},
      {"vi.conflict_probe_interval", [=](Desired& d) { vi(d).conflict_probe_interval = 2s; }},
      {"vi.resolve_conflict", [=](Desired& d) { vi(d).resolve_conflict = false; }},
      {"vi.notify.master", [=](Desired& d) { vi(d).notify.master = "/bin/m2"; }},
      {"vi.notify.backup", [=](Desired& d) { vi(d).notify.backup = "/bin/b"; }},
      {"vi.notify.fault", [=](Desired& d) { vi(d).notify.fault = "/bin/f"; }},
      {"vi.notify.stop", [=](Desired& d) { vi(d).notify.stop = "/bin/s"; }},
      {"vi.notify.conflict", [=](Desired& d) { vi(d).notify.conflict = "/bin/c"; }},
      {"vi.notify.any", [=](Desired& d) { vi(d).notify.any = "/bin/a"; }},
      // Trackers
      {"tracker[0].weight", [=](Desired& d) { tracker(d, 0).weight = -20; }},
      {"tracker[0].interface.name",
       [=](Desired& d) { std::get<TrackInterface>(tracker(d, 0).what).name = "eth2"; }},
      {"tracker[1].target", [=](Desired& d) { std::get<TrackProbe>(tracker(d, 1).what).target.port = 1; }},
      {"tracker[1].check", [=](Desired& d) { std::get<TrackProbe>(tracker(d, 1).what).check.timing.fall = 9; }},
      {"tracker[2].path", [=](Desired& d) { std::get<TrackFile>(tracker(d, 2).what).path = "/run/w2"; }},
      {"tracker[3].script.argv",
       [=](Desired& d) { std::get<TrackScript>(tracker(d, 3).what).script.argv = {"/bin/false"}; }},
      {"tracker[3].script.user",
       [=](Desired& d) { std::get<TrackScript>(tracker(d, 3).what).script.user = "root"; }},
      {"tracker[3].script.dynamic_weight",
       [=](Desired& d) { std::get<TrackScript>(tracker(d, 3).what).script.dynamic_weight = true; }},
      {"tracker[3].timing",
       [=](Desired& d) { std::get<TrackScript>(tracker(d, 3).what).timing.rise = 7; }},
      {"tracker kind", [=](Desired& d) { tracker(d, 2).what = TrackInterface{"/run/weight"}; }},
      {"trackers reordered", [=](Desired& d) { std::swap(tracker(d, 0), tracker(d, 2)); }},
      // SyncGroup
      {"sync_groups[0].name", [](Desired& d) { d.sync_groups[0].name = "H"; }},
      {"sync_groups[0].instances", [](Desired& d) { d.sync_groups[0].instances.pop_back(); }},
      {"sync_groups[0].notify", [](Desired& d) { d.sync_groups[0].notify.any = "/bin/a"; }},
      {"sync_groups added", [](Desired& d) { d.sync_groups.push_back({.name = "I"}); }},
  };
}

TEST(HashTest, EveryFieldTakesPartInEqualityAndHash) {
  const Desired base = rich();
  const auto base_hash = hash_value(base);
  for (const auto& c : changes()) {
    SCOPED_TRACE(c.what);
    Desired changed = rich();
    c.apply(changed);
    EXPECT_NE(changed, base);
    EXPECT_NE(hash_value(changed), base_hash);
  }
}

TEST(HashTest, ChangesAreSeenAtEveryLevel) {
  // The same change is seen by the struct that holds it and by each struct above it.
  Desired a = rich();
  Desired b = rich();
  b.virtual_servers[0].real_servers[0].checks[0].timing.retry = 9;
  const auto& ca = a.virtual_servers[0].real_servers[0].checks[0];
  const auto& cb = b.virtual_servers[0].real_servers[0].checks[0];
  EXPECT_NE(hash_value(ca.timing), hash_value(cb.timing));
  EXPECT_NE(hash_value(ca), hash_value(cb));
  EXPECT_NE(hash_value(a.virtual_servers[0].real_servers[0]), hash_value(b.virtual_servers[0].real_servers[0]));
  EXPECT_NE(hash_value(a.virtual_servers[0]), hash_value(b.virtual_servers[0]));
  EXPECT_NE(hash_value(a), hash_value(b));
  // Siblings are untouched.
  EXPECT_EQ(hash_value(a.virtual_servers[0].real_servers[1]), hash_value(b.virtual_servers[0].real_servers[1]));
  EXPECT_EQ(hash_value(a.vrrp_instances), hash_value(b.vrrp_instances));
}

TEST(HashTest, OptionalSetToDefaultDiffersFromUnset) {
  VirtualServer unset;
  VirtualServer set;
  set.persistence = Persistence{};
  EXPECT_NE(unset, set);
  EXPECT_NE(hash_value(unset), hash_value(set));
  CheckSpec no_port;
  CheckSpec port_zero;
  port_zero.port = 0;
  EXPECT_NE(no_port, port_zero);
  EXPECT_NE(hash_value(no_port), hash_value(port_zero));
}

TEST(HashTest, VariantAlternativeCountsEvenWhenEmpty) {
  // An empty TcpCheck and a FileCheck with an empty path differ by alternative alone.
  const CheckDetail tcp = TcpCheck{};
  const CheckDetail file = FileCheck{};
  EXPECT_NE(tcp, file);
  EXPECT_NE(hash_value(tcp), hash_value(file));
}

TEST(HashTest, AddressFamilyTakesPart) {
  // 0.0.0.0 and :: have the same (all-zero) bytes.
  EXPECT_EQ(ip("0.0.0.0").bytes(), ip("::").bytes());
  EXPECT_NE(ip("0.0.0.0"), ip("::"));
  EXPECT_NE(hash_value(ip("0.0.0.0")), hash_value(ip("::")));
}

}  // namespace
}  // namespace lvsd::model
