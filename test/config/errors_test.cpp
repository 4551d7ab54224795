// Every class of config error gives its documented text at the right line and column, all
// errors of a file come out in one run, and a file with errors yields no model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lvsd/config/config.hpp"

namespace lvsd::config {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> errors_of(const std::string& text) {
  const auto result = load_string(text, "t.toml", "/nonexistent/lvsd-test");
  EXPECT_FALSE(result.ok()) << "expected errors for:\n" << text;
  std::vector<std::string> out;
  for (const auto& e : result.errors) out.push_back(e.to_string());
  return out;
}

TEST(ConfigErrors, UnknownKeySuggestsTheNearestKnownOne) {
  EXPECT_THAT(errors_of("[global]\nscript_usr = \"x\"\n"),
              ElementsAre("t.toml:2:1: global.script_usr: unknown key (did you mean \"script_user\"?)"));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n  schedular = \"rr\"\n"),
              ElementsAre("t.toml:3:3: virtual_server[0].schedular: unknown key (did you mean \"scheduler\"?)"));
}

TEST(ConfigErrors, UnknownKeyFarFromAnyKnownOneHasNoSuggestion) {
  EXPECT_THAT(errors_of("colour = 1\n"), ElementsAre("t.toml:1:1: colour: unknown key"));
}

TEST(ConfigErrors, TopLevelKeyBelowATableHeaderIsExplained) {
  EXPECT_THAT(errors_of("[ipvs]\nmanage = \"owned\"\ninclude = [\"a.toml\"]\n"),
              ElementsAre("t.toml:3:1: ipvs.include: unknown key; \"include\" is a top-level key: move "
                          "it above the first [table] header, where it belongs to no table"));
}

TEST(ConfigErrors, SyntaxErrorNamesLineAndColumn) {
  EXPECT_THAT(errors_of("a = 1\nb = [1,\nc = \"x\"\n"),
              ElementsAre("t.toml:3:1: syntax error: value having invalid format appeared in an array: it "
                          "is not a valid value"));
}

TEST(ConfigErrors, DuplicateVirtualServerNamesTheFirst) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n\n"
                        "[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"),
              ElementsAre("t.toml:4:1: virtual_server[1]: duplicate virtual server TCP 192.0.2.10:80; first "
                          "declared at t.toml:1:1"));
}

TEST(ConfigErrors, SameAddressWithAnotherProtocolIsNotADuplicate) {
  const auto r = load_string("[[virtual_server]]\naddress = \"192.0.2.10:53\"\n"
                             "[[virtual_server]]\naddress = \"192.0.2.10:53\"\nprotocol = \"udp\"\n",
                             "t.toml", "/nonexistent");
  EXPECT_TRUE(r.ok());
}

TEST(ConfigErrors, DuplicateRealServerNamesTheFirst) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.[1-5]:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.3:80\"\n"),
              ElementsAre("t.toml:6:11: virtual_server[0].real_server[1].address: duplicate real server "
                          "10.0.0.3:80 in TCP 192.0.2.10:80; first declared at t.toml:4:11"));
}

TEST(ConfigErrors, RealServerOfTheWrongFamily) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"[2001:db8::1]:80\"\n"),
              ElementsAre("t.toml:4:11: virtual_server[0].real_server[0].address: real server 2001:db8::1 "
                          "is IPv6 but the virtual server TCP 192.0.2.10:80 is IPv4; mixed families only "
                          "work with forward = \"tun\""));
}

TEST(ConfigErrors, MixedFamiliesAreAcceptedForTunnels) {
  const auto r = load_string("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nforward = \"tun\"\n"
                             "[[virtual_server.real_server]]\naddress = \"[2001:db8::1]:80\"\n",
                             "t.toml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  EXPECT_EQ(r.desired->virtual_servers[0].real_servers[0].endpoint.to_string(), "[2001:db8::1]:80");
}

TEST(ConfigErrors, PortZero) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:0\"\n"),
              ElementsAre("t.toml:2:11: virtual_server[0].address: port 0 (every port) needs "
                          "persistence_timeout; the kernel refuses it otherwise"));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1:0\"\n"),
              ElementsAre("t.toml:4:11: virtual_server[0].real_server[0].address: port 0 in \"10.0.0.1:0\"; "
                          "omit the port to use the virtual server's"));
}

TEST(ConfigErrors, PortZeroWithPersistenceIsAnAllPortsService) {
  const auto r = load_string("[[virtual_server]]\naddress = \"192.0.2.10:0\"\npersistence_timeout = 600\n",
                             "t.toml", "/nonexistent");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.desired->virtual_servers[0].key.endpoint.port, 0);
}

TEST(ConfigErrors, WeightOutOfRange) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1\"\nweight = 65536\n"),
              ElementsAre("t.toml:5:10: virtual_server[0].real_server[0].weight: 65536 is out of range; "
                          "expected an integer from 0 to 65535"));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1\"\nweight = -1\n"),
              ElementsAre("t.toml:5:10: virtual_server[0].real_server[0].weight: -1 is out of range; "
                          "expected an integer from 0 to 65535"));
}

TEST(ConfigErrors, WrongTypeSaysWhatWasExpected) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1\"\nweight = \"3\"\n"),
              ElementsAre("t.toml:5:10: virtual_server[0].real_server[0].weight: expected an integer from 0 "
                          "to 65535, got a string"));
}

TEST(ConfigErrors, UnknownSchedulerListsTheKnownOnes) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nscheduler = \"wrrr\"\n"),
              ElementsAre("t.toml:3:13: virtual_server[0].scheduler: unknown scheduler \"wrrr\"; expected one "
                          "of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh (did you mean "
                          "\"wrr\"?)"));
}

TEST(ConfigErrors, SchedulerFlagOfAnotherScheduler) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nscheduler = \"wlc\"\n"
                        "scheduler_flags = [\"sh-port\"]\n"),
              ElementsAre("t.toml:4:19: virtual_server[0].scheduler_flags: scheduler flag \"sh-port\" is for "
                          "the sh scheduler, not wlc"));
}

TEST(ConfigErrors, FwmarkWithAnAddressAndPort) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nfwmark = 7\naddress = \"192.0.2.10:80\"\n"),
              ElementsAre("t.toml:2:10: virtual_server[0].fwmark: a fwmark service matches packets by their "
                          "firewall mark and has no address or port; set either \"address\" or \"fwmark\""));
}

TEST(ConfigErrors, FwmarkDirectRoutingRealServerWithAPort) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nfwmark = 7\nforward = \"dr\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1:80\"\n"),
              ElementsAre("t.toml:5:11: virtual_server[0].real_server[0].address: with forward = \"dr\" a "
                          "fwmark service's real servers take no port; the packet keeps its own (a port "
                          "needs forward = \"nat\")"));
}

TEST(ConfigErrors, PersistenceNetmaskOfTheWrongFamily) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"[2001:db8::10]:443\"\npersistence_timeout = 60\n"
                        "persistence_netmask = \"255.255.255.0\"\n"),
              ElementsAre("t.toml:4:23: virtual_server[0].persistence_netmask: dotted netmask "
                          "\"255.255.255.0\" is IPv4 but the virtual server is IPv6; give a prefix length "
                          "from 1 to 128 instead"));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:443\"\npersistence_timeout = 60\n"
                        "persistence_netmask = 64\n"),
              ElementsAre("t.toml:4:23: virtual_server[0].persistence_netmask: prefix length 64 is for IPv6; "
                          "an IPv4 virtual server takes 1 to 32"));
}

TEST(ConfigErrors, PersistenceNetmaskWithoutTimeout) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:443\"\npersistence_netmask = 24\n"),
              ElementsAre("t.toml:3:23: virtual_server[0].persistence_netmask: needs persistence_timeout "
                          "(persistence is off without it)"));
}

TEST(ConfigErrors, IncludeThatMatchesNothing) {
  EXPECT_THAT(errors_of("include = [\"conf.d/*.toml\"]\n"),
              ElementsAre("t.toml:1:12: include: \"conf.d/*.toml\" matches no file (looked for "
                          "/nonexistent/lvsd-test/conf.d/*.toml)"));
}

TEST(ConfigErrors, DirectRoutingRealServerOnAnotherPort) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nforward = \"dr\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1:8080\"\n"),
              ElementsAre("t.toml:5:11: virtual_server[0].real_server[0].address: with forward = \"dr\" the "
                          "real server receives the virtual server's port 80; a different port (8080) needs "
                          "forward = \"nat\""));
}

TEST(ConfigErrors, TunnelSettingsWithoutTunnel) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1\"\ntunnel_type = \"gue\"\n"),
              ElementsAre("t.toml:5:15: virtual_server[0].real_server[0].tunnel_type: tunnel settings need "
                          "forward = \"tun\", not \"nat\""));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nforward = \"tun\"\n"
                        "tunnel_type = \"gue\"\n"),
              ElementsAre("t.toml:4:15: virtual_server[0].tunnel_type: a gue tunnel needs tunnel_port (the real "
                          "server's GUE UDP port)"));
}

TEST(ConfigErrors, RemoteChecksumIsForGueOnly) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\nforward = \"tun\"\n"
                        "tunnel_type = \"gre\"\ntunnel_checksum = \"remcsum\"\n"),
              ElementsAre("t.toml:5:19: virtual_server[0].tunnel_checksum: remcsum (remote checksum offload) is "
                          "for gue tunnels; gre takes nocsum or csum"));
}

TEST(ConfigErrors, BadDurationAndTimeoutLongerThanInterval) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n[[virtual_server.check]]\n"
                        "type = \"tcp\"\ninterval = \"5 seconds\"\n"),
              ElementsAre("t.toml:5:12: virtual_server[0].check[0].interval: expected a duration: seconds, or "
                          "a string such as \"500ms\", \"5s\", \"2m\", \"1h\""));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n[[virtual_server.check]]\n"
                        "type = \"tcp\"\ninterval = \"1s\"\ntimeout = \"2s\"\n"),
              ElementsAre("t.toml:6:11: virtual_server[0].check[0].timeout: timeout 2s is longer than interval "
                          "1s; attempts would overlap"));
}

TEST(ConfigErrors, MissingKeys) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nscheduler = \"rr\"\n"),
              ElementsAre("t.toml:1:1: virtual_server[0]: missing key \"address\" (\"192.0.2.10:80\", "
                          "\"[2001:db8::10]:443\") or \"fwmark\""));
  EXPECT_THAT(errors_of("[[vrrp_instance]]\nname = \"VI_1\"\n"),
              ElementsAre("t.toml:1:1: vrrp_instance[0]: missing key \"interface\"",
                          "t.toml:1:1: vrrp_instance[0]: missing key \"virtual_ipaddress\"",
                          "t.toml:1:1: vrrp_instance[0]: missing key \"vrid\""));
}

TEST(ConfigErrors, VrrpRules) {
  const std::string base = "[[vrrp_instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n"
                           "virtual_ipaddress = [\"192.0.2.10/24\"]\n";
  EXPECT_THAT(errors_of(base + "auth_pass = \"secret\"\n"),
              ElementsAre("t.toml:6:13: vrrp_instance[0].auth_pass: authentication is VRRPv2 only (RFC 5798 "
                          "removed it); set version = 2"));
  EXPECT_THAT(errors_of(base + "version = 2\nadvert_int = \"500ms\"\n"),
              ElementsAre("t.toml:7:14: vrrp_instance[0].advert_int: duration 500ms is out of range; expected "
                          "1s to 255s"));
  EXPECT_THAT(errors_of(base + "advert_int = \"15ms\"\n"),
              ElementsAre("t.toml:6:14: vrrp_instance[0].advert_int: VRRPv3 advertises in centiseconds; use a "
                          "multiple of 10ms"));
  EXPECT_THAT(errors_of(base + "priority = 0\n"),
              ElementsAre("t.toml:6:12: vrrp_instance[0].priority: 0 is out of range; expected an integer "
                          "from 1 to 255"));
  EXPECT_THAT(errors_of(base + base),
              ElementsAre("t.toml:6:1: vrrp_instance[1]: duplicate instance name \"VI_1\"; first at "
                          "t.toml:1:1"));
}

TEST(ConfigErrors, SyncGroupNamingAnUnknownInstance) {
  EXPECT_THAT(errors_of("[[vrrp_instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 51\n"
                        "virtual_ipaddress = [\"192.0.2.10/24\"]\n"
                        "[[vrrp_sync_group]]\nname = \"g\"\ninstances = [\"VI_1\", \"VI_2\"]\n"),
              ElementsAre("t.toml:8:22: vrrp_sync_group[0].instances[1]: no vrrp_instance named \"VI_2\" (did "
                          "you mean \"VI_1\"?)"));
}

TEST(ConfigErrors, SyncDaemonMulticastSettings) {
  const std::string base = "[[ipvs.sync_daemon]]\nrole = \"master\"\ninterface = \"eth1\"\n";
  EXPECT_THAT(errors_of(base + "group = \"10.0.0.1\"\n"),
              ElementsAre("t.toml:4:9: ipvs.sync_daemon[0].group: 10.0.0.1 is not a multicast address"));
  EXPECT_THAT(errors_of(base + "group = \"2001:db8::1\"\n"),
              ElementsAre("t.toml:4:9: ipvs.sync_daemon[0].group: 2001:db8::1 is not a multicast address"));
  EXPECT_THAT(errors_of(base + "ttl = 0\n"),
              ElementsAre("t.toml:4:7: ipvs.sync_daemon[0].ttl: 0 is out of range; expected an integer from 1 "
                          "to 255"));
  EXPECT_THAT(errors_of(base + "max_len = 70000\n"),
              ElementsAre("t.toml:4:11: ipvs.sync_daemon[0].max_len: 70000 is out of range; expected an integer "
                          "from 1 to 65507"));
  EXPECT_THAT(errors_of(base + "port = 0\n"),
              ElementsAre("t.toml:4:8: ipvs.sync_daemon[0].port: 0 is out of range; expected an integer from 1 "
                          "to 65535"));
  // All in one daemon: each at its own key, in file order.
  EXPECT_THAT(errors_of(base + "port = 0\nttl = 256\ngroup = \"192.0.2.1\"\n"),
              ElementsAre("t.toml:4:8: ipvs.sync_daemon[0].port: 0 is out of range; expected an integer from 1 "
                          "to 65535",
                          "t.toml:5:7: ipvs.sync_daemon[0].ttl: 256 is out of range; expected an integer from 1 "
                          "to 255",
                          "t.toml:6:9: ipvs.sync_daemon[0].group: 192.0.2.1 is not a multicast address"));
  // What the kernel would clamp (and then report otherwise than declared).
  EXPECT_THAT(errors_of("[[ipvs.sync_daemon]]\nrole = \"backup\"\ninterface = \"eth1\"\nmax_len = 1023\n"),
              ElementsAre("t.toml:4:11: ipvs.sync_daemon[0].max_len: max_len 1023 is below 1024, the least a "
                          "backup sync daemon takes"));
  EXPECT_THAT(errors_of(base + "group = \"ff02::81\"\nmax_len = 65488\n"),
              ElementsAre("t.toml:5:11: ipvs.sync_daemon[0].max_len: max_len 65488 is above 65487, the most with "
                          "an IPv6 group (65535 less the IPv6 and UDP headers)"));
}

TEST(ConfigErrors, EveryErrorOfAFileInOneRunSortedByPlace) {
  const auto errors = errors_of(
      "[global]\n"
      "script_usr = \"x\"\n"                         // 2: unknown key
      "[defaults]\n"
      "scheduler = \"wrrr\"\n"                       // 4: unknown scheduler
      "[[virtual_server]]\n"
      "address = \"192.0.2.10:80\"\n"
      "[[virtual_server.real_server]]\n"
      "address = \"10.0.0.1\"\n"
      "weight = 70000\n"                            // 9: out of range
      "[[virtual_server]]\n"
      "address = \"192.0.2.10:80\"\n"               // 10: duplicate
      "[[virtual_server]]\n"
      "address = \"[2001:db8::1]:80\"\n"
      "[[virtual_server.real_server]]\n"
      "address = \"10.0.0.2\"\n");                  // 15: wrong family
  EXPECT_THAT(errors,
              ElementsAre(
                  "t.toml:2:1: global.script_usr: unknown key (did you mean \"script_user\"?)",
                  "t.toml:4:13: defaults.scheduler: unknown scheduler \"wrrr\"; expected one of rr, wrr, lc, "
                  "wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh (did you mean \"wrr\"?)",
                  "t.toml:9:10: virtual_server[0].real_server[0].weight: 70000 is out of range; expected an "
                  "integer from 0 to 65535",
                  "t.toml:10:1: virtual_server[1]: duplicate virtual server TCP 192.0.2.10:80; first declared "
                  "at t.toml:5:1",
                  "t.toml:15:11: virtual_server[2].real_server[0].address: real server 10.0.0.2 is IPv4 but "
                  "the virtual server TCP [2001:db8::1]:80 is IPv6; mixed families only work with forward = "
                  "\"tun\""));
}

TEST(ConfigErrors, AFileWithErrorsYieldsNoModel) {
  const auto r = load_string("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                             "[[virtual_server]]\naddress = \"192.0.2.11:80\"\nweight = 1.5\n",
                             "t.toml", "/nonexistent");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.desired.has_value());
  EXPECT_EQ(r.errors.size(), 1u);
}

TEST(ConfigErrors, DeepNestingIsRefusedBeforeParsing) {
  EXPECT_THAT(errors_of("a = " + std::string(100, '[') + std::string(100, ']') + "\n"),
              ElementsAre("t.toml:1:69: arrays and tables nested more than 64 deep"));
}

TEST(ConfigErrors, InvalidUtf8IsASyntaxErrorAtItsByte) {
  // Bad bytes inside a literal string once made toml11 read past its buffer (found by fuzzing).
  EXPECT_THAT(errors_of("[global]\nrouter_id = 'lb\xff\xff'\n"),
              ElementsAre("t.toml:2:16: syntax error: invalid UTF-8 (a TOML file is UTF-8 text)"));
  EXPECT_THAT(errors_of("a = \"\xc0\xaf\"\n"),  // an overlong '/'
              ElementsAre("t.toml:1:6: syntax error: invalid UTF-8 (a TOML file is UTF-8 text)"));
  const auto r = load_string("[global]\nrouter_id = \"lb-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n", "t.toml", "/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.desired->globals.router_id, "lb-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(ConfigErrors, MissingFile) {
  const auto r = load_file("/nonexistent/lvsd.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/lvsd.toml: cannot open: No such file or directory");
}


TEST(ConfigErrors, RangeOnlyInTheLastByteOrGroup) {
  const std::string where = "a range goes in the last byte of an IPv4 address (\"10.0.0.[10-40]:80\") or the "
                            "last group of an IPv6 address (\"[2001:db8::[a-1f]]:80\")";
  for (const char* address : {"10.0.[1-2].5:80", "10.0.0.5:[80-82]"})
    EXPECT_THAT(errors_of(std::string("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                                      "[[virtual_server.real_server]]\naddress = \"") + address + "\"\n"),
                ElementsAre("t.toml:4:11: virtual_server[0].real_server[0].address: " + where));
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.[40-10]\"\n"),
              ElementsAre("t.toml:4:11: virtual_server[0].real_server[0].address: range \"[40-10]\" must go "
                          "from a lower to a higher number, at most 255"));
}

TEST(ConfigErrors, FwmarkRealServerWithoutPortNeedsACheckPort) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nfwmark = 3\n[[virtual_server.check]]\ntype = \"tcp\"\n"
                        "[[virtual_server.real_server]]\naddress = \"10.0.0.1\"\n"),
              ElementsAre("t.toml:6:11: virtual_server[0].real_server[0].address: real server 10.0.0.1 has no "
                          "port (fwmark service), so its tcp check needs \"port\""));
}

TEST(ConfigErrors, DuplicateFwmarkServiceWhateverItsProtocol) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nfwmark = 3\n[[virtual_server]]\nfwmark = 3\nprotocol = \"udp\"\n"),
              ElementsAre("t.toml:3:1: virtual_server[1]: duplicate virtual server FWM 3; first declared at "
                          "t.toml:1:1"));
}

TEST(ConfigErrors, DuplicateVirtualServerName) {
  EXPECT_THAT(errors_of("[[virtual_server]]\nname = \"web\"\naddress = \"192.0.2.10:80\"\n"
                        "[[virtual_server]]\nname = \"web\"\naddress = \"192.0.2.10:443\"\n"),
              ElementsAre("t.toml:5:8: virtual_server[1].name: duplicate virtual server name \"web\"; first "
                          "used at t.toml:1:1"));
}

TEST(ConfigErrors, OnePacketSchedulingIsForUdp) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.10:80\"\none_packet = true\n"),
              ElementsAre("t.toml:3:14: virtual_server[0].one_packet: one-packet scheduling is for UDP; the "
                          "kernel ignores it for tcp"));
}

TEST(ConfigErrors, VirtualAddressInTwoInstances) {
  EXPECT_THAT(errors_of("[[vrrp_instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\n"
                        "virtual_ipaddress = [\"192.0.2.10/24\"]\n"
                        "[[vrrp_instance]]\nname = \"B\"\ninterface = \"eth0\"\nvrid = 2\n"
                        "virtual_ipaddress = [\"192.0.2.10/32\"]\n"),
              ElementsAre("t.toml:6:1: vrrp_instance[1]: virtual address 192.0.2.10 is already held by "
                          "instance \"A\"; two instances would fight over it"));
}

TEST(ConfigErrors, DefaultsAreJudgedInTheServiceThatInheritsThem) {
  // Valid for every IPv6 service and every sh service that inherits them.
  const auto r = load_string("[defaults]\npersistence_timeout = 60\npersistence_netmask = 64\n"
                             "scheduler_flags = [\"sh-port\"]\n"
                             "[[virtual_server]]\naddress = \"[2001:db8::1]:80\"\nscheduler = \"sh\"\n",
                             "t.toml", "/nonexistent");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  EXPECT_EQ(r.desired->virtual_servers[0].persistence->prefix_length, 64);
  EXPECT_TRUE(r.desired->virtual_servers[0].scheduler_flags.sh_port);
  // ...and an error, at the [defaults] key, where an IPv4 service inherits them.
  EXPECT_THAT(errors_of("[defaults]\npersistence_timeout = 60\npersistence_netmask = 64\n"
                        "[[virtual_server]]\naddress = \"192.0.2.1:80\"\n"),
              ElementsAre("t.toml:3:23: defaults.persistence_netmask: prefix length 64 is for IPv6; an IPv4 "
                          "virtual server takes 1 to 32"));
}

TEST(ConfigErrors, ADirectoryIsNotAConfigFile) {
  const auto r = load_file("/");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/: is a directory, not a configuration file");
}

TEST(ConfigErrors, KeyDefinedTwiceAcrossVirtualServerChunks) {
  // The loader parses each [[virtual_server]] separately; TOML's own rules still hold.
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.1:80\"\n[ipvs]\nmanage = \"owned\"\n"
                        "[[virtual_server]]\naddress = \"192.0.2.2:80\"\n[ipvs]\non_exit = \"keep\"\n"),
              ElementsAre("t.toml:7:1: ipvs: syntax error: \"ipvs\" is already defined at t.toml:3:1"));
  // A sub-table given by its own header twice, or by a header after an inline table.
  EXPECT_THAT(errors_of("[ipvs.timeouts]\ntcp = 1\n[[virtual_server]]\naddress = \"192.0.2.1:80\"\n"
                        "[ipvs.timeouts]\nudp = 2\n"),
              ElementsAre("t.toml:5:1: ipvs.timeouts: syntax error: \"ipvs.timeouts\" is already defined at "
                          "t.toml:1:1"));
  EXPECT_THAT(errors_of("[ipvs]\ntimeouts = { tcp = 1 }\n[[virtual_server]]\naddress = \"192.0.2.1:80\"\n"
                        "[ipvs.timeouts]\nudp = 2\n"),
              ElementsAre(::testing::StartsWith("t.toml:5:1: ipvs.timeouts: syntax error: \"ipvs.timeouts\" is "
                                                "already defined at t.toml:2:")));
  EXPECT_THAT(errors_of("virtual_server = []\n[[virtual_server]]\naddress = \"192.0.2.1:80\"\n"),
              ElementsAre("t.toml:2:1: virtual_server: syntax error: \"virtual_server\" is already defined at "
                          "t.toml:1:18"));
}

TEST(ConfigErrors, SyntaxErrorInALaterVirtualServerHasItsFileLine) {
  EXPECT_THAT(errors_of("[[virtual_server]]\naddress = \"192.0.2.1:80\"\n\n[[virtual_server]]\n"
                        "address = \"192.0.2.2:80\n"),
              ElementsAre(::testing::StartsWith("t.toml:5:")));
}

}  // namespace
}  // namespace lvsd::config
