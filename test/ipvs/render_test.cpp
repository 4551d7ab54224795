// render_list/render_save: the exact text of ipvsadm 1.31 for every listing form and for save.
//
// Each expected text was worked out from ipvsadm.c's format strings (print_title,
// print_service_entry, print_largenum, print_sched_flags, fwd_tun_info, print_tunnel_rule),
// then checked against Debian 12's /usr/sbin/ipvsadm itself, fed these tables by a stand-in
// for libnl's socket calls (kept out of the tree). Tables are given in an arbitrary "kernel
// order"; ipvsadm sorts unless --nosort. The VM tests compare with a real kernel.
#include "lvsd/ipvs/render.hpp"

#include <gtest/gtest.h>

namespace lvsd::ipvs {
namespace {

using model::Family;
using model::Protocol;

const Info kInfo{.version = 0x010201, .connection_table_size = 4096};

constexpr const char* kVersion = "IP Virtual Server version 1.2.1 (size=4096)\n";
constexpr const char* kPlainTitle =
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";

model::Endpoint ep(std::string_view text) { return model::Endpoint::parse(text, true).value(); }

ServiceKey key(Protocol protocol, std::string_view text) {
  const model::Endpoint e = ep(text);
  return ServiceKey{.family = e.address.family(), .protocol = protocol, .endpoint = e};
}
ServiceKey tcp(std::string_view text) { return key(Protocol::Tcp, text); }
ServiceKey udp(std::string_view text) { return key(Protocol::Udp, text); }
ServiceKey sctp(std::string_view text) { return key(Protocol::Sctp, text); }
ServiceKey fwm(std::uint32_t mark, Family family = Family::V4) {
  return ServiceKey{.family = family, .protocol = Protocol::Tcp, .fwmark = mark};
}

Service svc(ServiceKey k, std::string scheduler = "wlc", std::uint32_t flags = 0) {
  return Service{.key = k, .scheduler = std::move(scheduler), .flags = flags,
                 .prefix_length = static_cast<std::uint8_t>(model::max_prefix(k.family))};
}

Service persistent(Service s, std::uint32_t timeout, std::uint8_t prefix, std::string pe = "") {
  s.flags |= kFlagPersistent;
  s.timeout = timeout;
  s.prefix_length = prefix;
  s.pe_name = std::move(pe);
  return s;
}

Destination dst(std::string_view text, Forward forward = Forward::Masq, std::uint32_t weight = 1) {
  return Destination{.endpoint = ep(text), .forward = forward, .weight = weight};
}

Destination tunnel(std::string_view text, model::TunnelType type, std::uint16_t port = 0,
                   model::TunnelChecksum checksum = model::TunnelChecksum::NoCsum, std::uint32_t weight = 1) {
  Destination d = dst(text, Forward::Tunnel, weight);
  d.tunnel_type = type;
  d.tunnel_port = port;
  d.tunnel_checksum = checksum;
  return d;
}

Destination conns(Destination d, std::uint32_t active, std::uint32_t inactive, std::uint32_t persist = 0) {
  d.active_conns = active;
  d.inactive_conns = inactive;
  d.persistent_conns = persist;
  return d;
}

std::string list(const Table& table, ListOptions options = {}) {
  return render_list(kInfo, table, options).value();
}

// ---- the plain listing ----

TEST(RenderList, EmptyTableIsVersionAndTitle) {
  EXPECT_EQ(list({}), std::string(kVersion) + kPlainTitle);
  EXPECT_EQ(render_save({}), "");
}

TEST(RenderList, VersionLineSplitsTheVersionCode) {
  EXPECT_EQ(render_list(Info{.version = 0x010203, .connection_table_size = 1048576}, {}).value(),
            std::string("IP Virtual Server version 1.2.3 (size=1048576)\n") + kPlainTitle);
}

Table nat_table() {
  return {{svc(tcp("192.0.2.10:80")),
           {conns(dst("10.0.0.12:80"), 3, 10), conns(dst("10.0.0.11:80", Forward::Masq, 2), 0, 1)}}};
}

TEST(RenderList, PlainNatListingPadsEveryColumnAndSortsDestinations) {
  EXPECT_EQ(list(nat_table()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.10:80 wlc\n"
            "  -> 10.0.0.11:80                 Masq    2      0          1         \n"
            "  -> 10.0.0.12:80                 Masq    1      3          10        \n");
  EXPECT_EQ(render_save(nat_table()),
            "-A -t 192.0.2.10:80 -s wlc\n"
            "-a -t 192.0.2.10:80 -r 10.0.0.11:80 -m -w 2\n"
            "-a -t 192.0.2.10:80 -r 10.0.0.12:80 -m -w 1\n");
}

// ---- scheduler flags ----

Table flag_table() {
  return {{svc(tcp("192.0.2.1:80"), "sh", kFlagSched1 | kFlagSched2), {}},
          {svc(tcp("192.0.2.2:80"), "sh", kFlagSched2), {}},
          {svc(tcp("192.0.2.3:80"), "mh", kFlagSched1 | kFlagSched2), {}},
          {svc(tcp("192.0.2.4:80"), "mh", kFlagSched1), {}},
          {svc(tcp("192.0.2.5:80"), "wlc", kFlagSched1 | kFlagSched2 | kFlagSched3), {}},
          {svc(tcp("192.0.2.6:80"), "rr", kFlagSched3), {}},
          // sh names only its two flags: flag-3 alone prints an empty list.
          {svc(tcp("192.0.2.7:80"), "sh", kFlagSched3), {}}};
}

TEST(RenderList, SchedulerFlagsAreNamedAfterTheScheduler) {
  EXPECT_EQ(list(flag_table()), std::string(kVersion) + kPlainTitle +
                                    "TCP  192.0.2.1:80 sh (sh-fallback,sh-port)\n"
                                    "TCP  192.0.2.2:80 sh (sh-port)\n"
                                    "TCP  192.0.2.3:80 mh (mh-fallback,mh-port)\n"
                                    "TCP  192.0.2.4:80 mh (mh-fallback)\n"
                                    "TCP  192.0.2.5:80 wlc (flag-1,flag-2,flag-3)\n"
                                    "TCP  192.0.2.6:80 rr (flag-3)\n"
                                    "TCP  192.0.2.7:80 sh ()\n");
  EXPECT_EQ(render_save(flag_table()),
            "-A -t 192.0.2.1:80 -s sh -b sh-fallback,sh-port\n"
            "-A -t 192.0.2.2:80 -s sh -b sh-port\n"
            "-A -t 192.0.2.3:80 -s mh -b mh-fallback,mh-port\n"
            "-A -t 192.0.2.4:80 -s mh -b mh-fallback\n"
            "-A -t 192.0.2.5:80 -s wlc -b flag-1,flag-2,flag-3\n"
            "-A -t 192.0.2.6:80 -s rr -b flag-3\n"
            "-A -t 192.0.2.7:80 -s sh -b \n");
}

// ---- persistence, pe, ops, protocols ----

Table persistence_table() {
  return {{persistent(svc(tcp("[2001:db8::10]:443")), 600, 64), {}},
          {persistent(svc(tcp("192.0.2.10:443")), 300, 24), {}},
          {persistent(svc(tcp("192.0.2.11:443"), "rr"), 3600, 32), {}},
          {persistent(svc(tcp("[2001:db8::11]:443")), 300, 128), {}},
          {persistent(svc(udp("192.0.2.20:5060"), "rr"), 60, 32, "sip"), {}},
          {svc(udp("192.0.2.21:53"), "rr", kFlagOnePacket), {}},
          {persistent(svc(udp("192.0.2.22:5060"), "sh", kFlagSched1 | kFlagOnePacket), 120, 16, "sip"), {}},
          // An engine on a service without persistence: the listing shows it only for a
          // persistent service, the save always.
          {[] {
             Service s = svc(udp("192.0.2.23:5060"), "rr");
             s.pe_name = "sip";
             return s;
           }(),
           {}},
          {svc(sctp("192.0.2.30:3868"), "rr"), {}}};
}

TEST(RenderList, PersistenceMaskPeAndOps) {
  // Sorted: IPv4 before IPv6, then TCP (6) before UDP (17) before SCTP (132).
  EXPECT_EQ(list(persistence_table()),
            std::string(kVersion) + kPlainTitle +
                "TCP  192.0.2.10:443 wlc persistent 300 mask 255.255.255.0\n"
                "TCP  192.0.2.11:443 rr persistent 3600\n"
                "UDP  192.0.2.20:5060 rr persistent 60 pe sip\n"
                "UDP  192.0.2.21:53 rr ops\n"
                "UDP  192.0.2.22:5060 sh (sh-fallback) persistent 120 mask 255.255.0.0 pe sip ops\n"
                "UDP  192.0.2.23:5060 rr\n"
                "SCTP 192.0.2.30:3868 rr\n"
                "TCP  [2001:db8::10]:443 wlc persistent 600 mask 64\n"
                "TCP  [2001:db8::11]:443 wlc persistent 300\n");
}

TEST(RenderSave, PersistenceMaskPeAndOps) {
  EXPECT_EQ(render_save(persistence_table()),
            "-A -t 192.0.2.10:443 -s wlc -p 300 -M 255.255.255.0\n"
            "-A -t 192.0.2.11:443 -s rr -p 3600\n"
            "-A -u 192.0.2.20:5060 -s rr -p 60 --pe sip\n"
            "-A -u 192.0.2.21:53 -s rr -o\n"
            "-A -u 192.0.2.22:5060 -s sh -p 120 -M 255.255.0.0 --pe sip -o -b sh-fallback\n"
            "-A -u 192.0.2.23:5060 -s rr --pe sip\n"
            "-A --sctp-service 192.0.2.30:3868 -s rr\n"
            "-A -t [2001:db8::10]:443 -s wlc -p 600 -M 64\n"
            "-A -t [2001:db8::11]:443 -s wlc -p 300\n");
}

// ---- forwarding methods and tunnels ----

Table forwarding_table() {
  using model::TunnelChecksum;
  using model::TunnelType;
  return {{svc(tcp("192.0.2.40:80"), "wrr"),
           {tunnel("10.0.0.5:80", TunnelType::Gue, 6080, TunnelChecksum::Csum, 5),
            conns(dst("10.0.0.1:80", Forward::Route, 3), 12, 40),
            tunnel("10.0.0.2:80", TunnelType::Ipip),
            dst("10.0.0.3:80", Forward::Local),
            dst("10.0.0.4:80", Forward::Masq, 0),
            tunnel("10.0.0.6:80", TunnelType::Gre, 0, TunnelChecksum::NoCsum, 2),
            tunnel("10.0.0.7:80", TunnelType::Gue, 5555, TunnelChecksum::RemCsum),
            tunnel("[2001:db8::50]:80", TunnelType::Ipip),
            tunnel("10.0.0.8:80", TunnelType::Gre, 0, TunnelChecksum::Csum)}}};
}

TEST(RenderList, ForwardNames) {
  EXPECT_EQ(list(forwarding_table()),
            std::string(kVersion) + kPlainTitle +
                "TCP  192.0.2.40:80 wrr\n"
                "  -> 10.0.0.1:80                  Route   3      12         40        \n"
                "  -> 10.0.0.2:80                  Tunnel  1      0          0         \n"
                "  -> 10.0.0.3:80                  Local   1      0          0         \n"
                "  -> 10.0.0.4:80                  Masq    0      0          0         \n"
                "  -> 10.0.0.5:80                  Tunnel  5      0          0         \n"
                "  -> 10.0.0.6:80                  Tunnel  2      0          0         \n"
                "  -> 10.0.0.7:80                  Tunnel  1      0          0         \n"
                "  -> 10.0.0.8:80                  Tunnel  1      0          0         \n"
                "  -> [2001:db8::50]:80            Tunnel  1      0          0         \n");
}

TEST(RenderList, TunnelInfoColumn) {
  EXPECT_EQ(list(forwarding_table(), {.view = ListView::TunnelInfo}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
            "TCP  192.0.2.40:80 wrr\n"
            "  -> 10.0.0.1:80                  Route   n/a           3      12         40        \n"
            "  -> 10.0.0.2:80                  Tunnel  ipip          1      0          0         \n"
            "  -> 10.0.0.3:80                  Local   n/a           1      0          0         \n"
            "  -> 10.0.0.4:80                  Masq    n/a           0      0          0         \n"
            "  -> 10.0.0.5:80                  Tunnel  gue:6080:+c   5      0          0         \n"
            "  -> 10.0.0.6:80                  Tunnel  gre:-c        2      0          0         \n"
            "  -> 10.0.0.7:80                  Tunnel  gue:5555:r+c  1      0          0         \n"
            "  -> 10.0.0.8:80                  Tunnel  gre:+c        1      0          0         \n"
            "  -> [2001:db8::50]:80            Tunnel  ipip          1      0          0         \n");
}

TEST(RenderSave, ForwardSwitchesAndTunnelOptions) {
  // A local destination saves as -g; ipip names its type and nothing else; gre adds the
  // checksum option, gue the port and the checksum option.
  EXPECT_EQ(render_save(forwarding_table()),
            "-A -t 192.0.2.40:80 -s wrr\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.1:80 -g -w 3\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.2:80 -i -w 1 --tun-type ipip\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.3:80 -g -w 1\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.4:80 -m -w 0\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.5:80 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.6:80 -i -w 2 --tun-type gre --tun-nocsum\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.7:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-remcsum\n"
            "-a -t 192.0.2.40:80 -r 10.0.0.8:80 -i -w 1 --tun-type gre --tun-csum\n"
            "-a -t 192.0.2.40:80 -r [2001:db8::50]:80 -i -w 1 --tun-type ipip\n");
}

// ---- thresholds and persistent connections ----

Table threshold_table() {
  Destination a = conns(dst("10.0.0.1:80", Forward::Masq, 4), 950, 3000, 25);
  a.upper_threshold = 1000;
  a.lower_threshold = 800;
  return {{persistent(svc(tcp("192.0.2.50:80")), 300, 32), {conns(dst("10.0.0.2:80"), 7, 2), a}}};
}

TEST(RenderList, ThresholdsListing) {
  // The service line is the plain one; the titles end in a space (%-10s of "InActConn").
  EXPECT_EQ(list(threshold_table(), {.view = ListView::Thresholds}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.50:80 wlc persistent 300\n"
            "  -> 10.0.0.1:80                  1000       800        950        3000      \n"
            "  -> 10.0.0.2:80                  0          0          7          2         \n");
}

TEST(RenderList, PersistentConnListing) {
  EXPECT_EQ(list(threshold_table(), {.view = ListView::PersistentConn}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.50:80 wlc persistent 300\n"
            "  -> 10.0.0.1:80                  4         25          950        3000      \n"
            "  -> 10.0.0.2:80                  1         0           7          2         \n");
}

TEST(RenderSave, ThresholdsAreNotSaved) {
  // ipvsadm 1.31's -a line has no -x/-y.
  EXPECT_EQ(render_save(threshold_table()),
            "-A -t 192.0.2.50:80 -s wlc -p 300\n"
            "-a -t 192.0.2.50:80 -r 10.0.0.1:80 -m -w 4\n"
            "-a -t 192.0.2.50:80 -r 10.0.0.2:80 -m -w 1\n");
}

// ---- counters ----

Table counter_table() {
  Service s = svc(tcp("192.0.2.60:80"));
  s.stats = Stats{.conns = 99'999'999, .inpkts = 100'000'000, .outpkts = 123'456'789'012,
                  .inbytes = 98'765'432'109, .outbytes = 123'456'789'012'345'678, .cps = 1234,
                  .inpps = 150'000'000, .outpps = 7, .inbps = 2'000'000'000, .outbps = 123};
  Destination a = dst("10.0.0.1:80");
  a.stats = Stats{.conns = 5, .inpkts = 999'999'999, .outpkts = 1'000'000'000, .inbytes = 5'000'000'000,
                  .outbytes = 0, .cps = 123'456'789, .inpps = 42, .outpps = 0, .inbps = 300'000'000,
                  .outbps = 99'999'999};
  // Past 2^32: ipvsadm reads a destination's counters other than bytes as 32 bits.
  Destination b = dst("10.0.0.2:80");
  b.stats = Stats{.conns = (1ULL << 32) + 7, .inpkts = 4'294'967'295, .outpkts = 123,
                  .inbytes = 200'000'000'000'000, .outbytes = 99'999'999'999'999, .cps = (1ULL << 32) + 1,
                  .inpps = 0, .outpps = 0, .inbps = 0, .outbps = 5'000'000'000};
  return {{s, {b, a}}};
}

TEST(RenderList, StatsScaleToKMGT) {
  EXPECT_EQ(list(counter_table(), {.view = ListView::Stats}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.60:80                99999999  100000K     123G   98765M  123456T\n"
            "  -> 10.0.0.1:80                         5  999999K    1000M    5000M        0\n"
            "  -> 10.0.0.2:80                         7    4294M      123     200T   99999G\n");
}

TEST(RenderList, StatsExactWidenTheColumns) {
  EXPECT_EQ(list(counter_table(), {.view = ListView::Stats, .exact = true}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.60:80                99999999 100000000 123456789012 98765432109 123456789012345678\n"
            "  -> 10.0.0.1:80                         5 999999999 1000000000 5000000000        0\n"
            "  -> 10.0.0.2:80                         7 4294967295      123 200000000000000 99999999999999\n");
}

TEST(RenderList, RateScalesAllButADestinationsPacketRates) {
  // A destination's CPS, InPPS and OutPPS print unscaled ("%8llu"); 5e9 bytes/s is cut to
  // 32 bits (705032704) before scaling.
  EXPECT_EQ(list(counter_table(), {.view = ListView::Rate}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.60:80                    1234  150000K        7    2000M      123\n"
            "  -> 10.0.0.1:80                  123456789       42        0  300000K 99999999\n"
            "  -> 10.0.0.2:80                         1        0        0        0  705032K\n");
}

TEST(RenderList, RateExact) {
  EXPECT_EQ(list(counter_table(), {.view = ListView::Rate, .exact = true}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.60:80                    1234 150000000        7 2000000000      123\n"
            "  -> 10.0.0.1:80                  123456789       42        0 300000000 99999999\n"
            "  -> 10.0.0.2:80                         1        0        0        0 705032704\n");
}

// ---- order ----

Table sort_table() {
  return {{svc(fwm(2)), {}},
          {svc(udp("10.0.0.1:53"), "rr"), {}},
          {svc(tcp("10.0.0.1:8080")), {}},
          {svc(tcp("10.0.0.2:80")), {}},
          {svc(tcp("[2001:db8::1]:80")), {}},
          {svc(fwm(1, Family::V6)), {}},
          {svc(tcp("10.0.0.1:80")), {}},
          {svc(fwm(1)), {}},
          {svc(tcp("192.0.2.10:80")), {dst("10.0.0.1:80"), dst("192.168.0.1:80"), dst("172.16.0.1:80")}},
          {svc(tcp("192.0.2.20:80")), {dst("192.0.2.1:80"), dst("100.0.0.1:80"), dst("10.0.0.1:80")}}};
}

const Info kBigInfo{.version = 0x010201, .connection_table_size = 1048576};

TEST(RenderList, SortedByIpvsadmsWrappingComparison) {
  // fwmark 0 first, then IPv4 before IPv6, TCP before UDP, then address and port, where
  // ipvsadm's address difference wraps at 2^31: 192.x sorts before 10.x, 172.16.x before
  // 192.168.x before 10.x. 10.0.0.1 < 100.0.0.1 < 192.0.2.1 < 10.0.0.1 is a cycle; glibc's
  // merge sort puts [192.0.2.1, 100.0.0.1, 10.0.0.1] in the order below.
  EXPECT_EQ(render_list(kBigInfo, sort_table()).value(),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.10:80 wlc\n"
            "  -> 172.16.0.1:80                Masq    1      0          0         \n"
            "  -> 192.168.0.1:80               Masq    1      0          0         \n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n"
            "TCP  192.0.2.20:80 wlc\n"
            "  -> 192.0.2.1:80                 Masq    1      0          0         \n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n"
            "  -> 100.0.0.1:80                 Masq    1      0          0         \n"
            "TCP  10.0.0.1:80 wlc\n"
            "TCP  10.0.0.1:8080 wlc\n"
            "TCP  10.0.0.2:80 wlc\n"
            "UDP  10.0.0.1:53 rr\n"
            "TCP  [2001:db8::1]:80 wlc\n"
            "FWM  1 wlc\n"
            "FWM  1 IPv6 wlc\n"
            "FWM  2 wlc\n");
}

TEST(RenderList, NosortKeepsTheKernelsOrder) {
  EXPECT_EQ(render_list(kBigInfo, sort_table(), {.nosort = true}).value(),
            "IP Virtual Server version 1.2.1 (size=1048576)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "FWM  2 wlc\n"
            "UDP  10.0.0.1:53 rr\n"
            "TCP  10.0.0.1:8080 wlc\n"
            "TCP  10.0.0.2:80 wlc\n"
            "TCP  [2001:db8::1]:80 wlc\n"
            "FWM  1 IPv6 wlc\n"
            "TCP  10.0.0.1:80 wlc\n"
            "FWM  1 wlc\n"
            "TCP  192.0.2.10:80 wlc\n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n"
            "  -> 192.168.0.1:80               Masq    1      0          0         \n"
            "  -> 172.16.0.1:80                Masq    1      0          0         \n"
            "TCP  192.0.2.20:80 wlc\n"
            "  -> 192.0.2.1:80                 Masq    1      0          0         \n"
            "  -> 100.0.0.1:80                 Masq    1      0          0         \n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n");
}

TEST(RenderSave, AlwaysSorted) {
  EXPECT_EQ(render_save(sort_table()),
            "-A -t 192.0.2.10:80 -s wlc\n"
            "-a -t 192.0.2.10:80 -r 172.16.0.1:80 -m -w 1\n"
            "-a -t 192.0.2.10:80 -r 192.168.0.1:80 -m -w 1\n"
            "-a -t 192.0.2.10:80 -r 10.0.0.1:80 -m -w 1\n"
            "-A -t 192.0.2.20:80 -s wlc\n"
            "-a -t 192.0.2.20:80 -r 192.0.2.1:80 -m -w 1\n"
            "-a -t 192.0.2.20:80 -r 10.0.0.1:80 -m -w 1\n"
            "-a -t 192.0.2.20:80 -r 100.0.0.1:80 -m -w 1\n"
            "-A -t 10.0.0.1:80 -s wlc\n"
            "-A -t 10.0.0.1:8080 -s wlc\n"
            "-A -t 10.0.0.2:80 -s wlc\n"
            "-A -u 10.0.0.1:53 -s rr\n"
            "-A -t [2001:db8::1]:80 -s wlc\n"
            "-A -f 1 -s wlc\n"
            "-A -f 1 -6 -s wlc\n"
            "-A -f 2 -s wlc\n");
}

// ---- one service: -t/-u/-f ----

TEST(RenderList, ServiceFilterHasNoVersionLine) {
  EXPECT_EQ(list(sort_table(), {.service = tcp("192.0.2.10:80")}),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.10:80 wlc\n"
            "  -> 172.16.0.1:80                Masq    1      0          0         \n"
            "  -> 192.168.0.1:80               Masq    1      0          0         \n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n");
  EXPECT_EQ(list(sort_table(), {.nosort = true, .service = tcp("192.0.2.20:80")}),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  192.0.2.20:80 wlc\n"
            "  -> 192.0.2.1:80                 Masq    1      0          0         \n"
            "  -> 100.0.0.1:80                 Masq    1      0          0         \n"
            "  -> 10.0.0.1:80                  Masq    1      0          0         \n");
}

TEST(RenderList, ServiceFilterWithCounterView) {
  EXPECT_EQ(list(counter_table(), {.view = ListView::Stats, .service = tcp("192.0.2.60:80")}),
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  192.0.2.60:80                99999999  100000K     123G   98765M  123456T\n"
            "  -> 10.0.0.1:80                         5  999999K    1000M    5000M        0\n"
            "  -> 10.0.0.2:80                         7    4294M      123     200T   99999G\n");
}

TEST(RenderList, FwmarkFilterMatchesMarkAndFamily) {
  EXPECT_EQ(list(sort_table(), {.service = fwm(1)}), std::string(kPlainTitle) + "FWM  1 wlc\n");
  EXPECT_EQ(list(sort_table(), {.service = fwm(1, Family::V6)}), std::string(kPlainTitle) + "FWM  1 IPv6 wlc\n");
  // ipvsadm -f sends TCP as the protocol, "not used": the kernel looks a mark up without it.
  ServiceKey udp_mark = fwm(2);
  udp_mark.protocol = Protocol::Udp;
  EXPECT_EQ(list(sort_table(), {.service = udp_mark}), std::string(kPlainTitle) + "FWM  2 wlc\n");
}

TEST(RenderList, FilterNamingNoServiceGivesNothing) {
  EXPECT_EQ(render_list(kInfo, sort_table(), {.service = udp("10.0.0.1:80")}), std::nullopt);
  EXPECT_EQ(render_list(kInfo, sort_table(), {.service = fwm(3)}), std::nullopt);
  EXPECT_EQ(render_list(kInfo, sort_table(), {.service = fwm(2, Family::V6)}), std::nullopt);
}

// ---- IPv6 ----

Table ipv6_table() {
  Service s = svc(tcp("[2001:db8::1]:443"));
  s.stats = Stats{.conns = 1, .inpkts = 2, .outpkts = 3, .inbytes = 4, .outbytes = 5};
  Destination b = conns(dst("[2001:db8::12]:443"), 2, 3);
  b.stats = s.stats;
  return {{svc(udp("[2001:db8:0:1234:5678:9abc:def0:1]:5353"), "rr"), {dst("[2001:db8::53]:5353")}},
          {s, {dst("[2001:db8:0:1234:5678:9abc:def0:1]:8443"), b, dst("[2001:db8::11]:443")}}};
}

TEST(RenderList, Ipv6AddressesInBracketsOverflowTheirColumns) {
  EXPECT_EQ(list(ipv6_table()),
            std::string(kVersion) + kPlainTitle +
                "TCP  [2001:db8::1]:443 wlc\n"
                "  -> [2001:db8::11]:443           Masq    1      0          0         \n"
                "  -> [2001:db8::12]:443           Masq    1      2          3         \n"
                "  -> [2001:db8:0:1234:5678:9abc:def0:1]:8443 Masq    1      0          0         \n"
                "UDP  [2001:db8:0:1234:5678:9abc:def0:1]:5353 rr\n"
                "  -> [2001:db8::53]:5353          Masq    1      0          0         \n");
  EXPECT_EQ(list(ipv6_table(), {.view = ListView::Stats}),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  [2001:db8::1]:443                   1        2        3        4        5\n"
            "  -> [2001:db8::11]:443                  0        0        0        0        0\n"
            "  -> [2001:db8::12]:443                  1        2        3        4        5\n"
            "  -> [2001:db8:0:1234:5678:9abc:def0:1]:8443        0        0        0        0        0\n"
            "UDP  [2001:db8:0:1234:5678:9abc:def0:1]:5353        0        0        0        0        0\n"
            "  -> [2001:db8::53]:5353                 0        0        0        0        0\n");
  EXPECT_EQ(list(ipv6_table(), {.service = udp("[2001:db8:0:1234:5678:9abc:def0:1]:5353")}),
            std::string(kPlainTitle) +
                "UDP  [2001:db8:0:1234:5678:9abc:def0:1]:5353 rr\n"
                "  -> [2001:db8::53]:5353          Masq    1      0          0         \n");
}

TEST(RenderSave, Ipv6) {
  EXPECT_EQ(render_save(ipv6_table()),
            "-A -t [2001:db8::1]:443 -s wlc\n"
            "-a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -m -w 1\n"
            "-a -t [2001:db8::1]:443 -r [2001:db8::12]:443 -m -w 1\n"
            "-a -t [2001:db8::1]:443 -r [2001:db8:0:1234:5678:9abc:def0:1]:8443 -m -w 1\n"
            "-A -u [2001:db8:0:1234:5678:9abc:def0:1]:5353 -s rr\n"
            "-a -u [2001:db8:0:1234:5678:9abc:def0:1]:5353 -r [2001:db8::53]:5353 -m -w 1\n");
}

Table fwmark_table() {
  return {{persistent(svc(fwm(10, Family::V6)), 300, 64),
           {dst("[2001:db8::22]:0", Forward::Route, 2), dst("[2001:db8::21]:0", Forward::Route)}},
          {svc(fwm(10)), {dst("10.0.0.21:0", Forward::Route)}}};
}

TEST(RenderList, FwmarkServicesIpv4BeforeIpv6) {
  EXPECT_EQ(list(fwmark_table()),
            std::string(kVersion) + kPlainTitle +
                "FWM  10 wlc\n"
                "  -> 10.0.0.21:0                  Route   1      0          0         \n"
                "FWM  10 IPv6 wlc persistent 300 mask 64\n"
                "  -> [2001:db8::21]:0             Route   1      0          0         \n"
                "  -> [2001:db8::22]:0             Route   2      0          0         \n");
}

TEST(RenderSave, FwmarkServices) {
  EXPECT_EQ(render_save(fwmark_table()),
            "-A -f 10 -s wlc\n"
            "-a -f 10 -r 10.0.0.21:0 -g -w 1\n"
            "-A -f 10 -6 -s wlc -p 300 -M 64\n"
            "-a -f 10 -6 -r [2001:db8::21]:0 -g -w 1\n"
            "-a -f 10 -6 -r [2001:db8::22]:0 -g -w 2\n");
}

// ---- -L --timeout and -L --daemon ----

TEST(RenderTimeouts, AsIpvsadmPrintsThem) {
  EXPECT_EQ(render_timeouts(Timeouts{900, 120, 300}), "Timeout (tcp tcpfin udp): 900 120 300\n");
  EXPECT_EQ(render_timeouts(Timeouts{1000, 110, 200}), "Timeout (tcp tcpfin udp): 1000 110 200\n");
  EXPECT_EQ(render_timeouts(Timeouts{}), "Timeout (tcp tcpfin udp): 0 0 0\n");
}

SyncDaemon sync_daemon(SyncState state, std::string interface, std::uint32_t sync_id, std::uint16_t max_len,
                       std::string_view group, std::uint16_t port, std::uint8_t ttl) {
  return SyncDaemon{.state = state,
                    .interface = std::move(interface),
                    .sync_id = sync_id,
                    .max_len = max_len,
                    .group = model::IpAddress::parse(group).value(),
                    .port = port,
                    .ttl = ttl};
}

TEST(RenderDaemons, MasterFirstWithEveryMulticastSetting) {
  const auto master = sync_daemon(SyncState::Master, "sy0", 7, 1000, "239.1.2.3", 9000, 3);
  const auto backup = sync_daemon(SyncState::Backup, "eth2", 0, 1472, "224.0.0.81", 8848, 1);
  const std::string expected =
      "master sync daemon (mcast=sy0, syncid=7, maxlen=1000, group=239.1.2.3, port=9000, ttl=3)\n"
      "backup sync daemon (mcast=eth2, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n";
  EXPECT_EQ(render_daemons({master, backup}), expected);
  EXPECT_EQ(render_daemons({backup, master}), expected);
  EXPECT_EQ(render_daemons({backup}),
            "backup sync daemon (mcast=eth2, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n");
}

TEST(RenderDaemons, Ipv6Group) {
  EXPECT_EQ(render_daemons({sync_daemon(SyncState::Master, "eth1", 255, 1452, "ff02::81", 8848, 1)}),
            "master sync daemon (mcast=eth1, syncid=255, maxlen=1452, group=ff02::81, port=8848, ttl=1)\n");
}

TEST(RenderDaemons, SettingsAnOlderKernelDoesNotReportAreLeftOut) {
  EXPECT_EQ(render_daemons({SyncDaemon{.state = SyncState::Backup, .interface = "eth1", .sync_id = 9}}),
            "backup sync daemon (mcast=eth1, syncid=9)\n");
}

TEST(RenderDaemons, NoDaemonIsNoText) { EXPECT_EQ(render_daemons({}), ""); }

}  // namespace
}  // namespace lvsd::ipvs
