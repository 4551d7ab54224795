// VRRP advert codec: keepalived's own adverts byte for byte, round trips, every drop reason.
#include "lvsd/vrrp/packet.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace lvsd::vrrp {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using model::Family;
using model::IpAddress;

IpAddress ip(std::string_view text) { return IpAddress::parse(text).value(); }

Bytes hex(std::string_view text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoul(std::string(text.substr(i, 2)), nullptr, 16)));
  return out;
}

// A capture from test/data/vrrp (see its README.md for how they were made).
Bytes golden(const std::string& name) {
  const std::string path = std::string(LVSD_TEST_DATA) + "/vrrp/" + name;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  Bytes out;
  for (int c; (c = std::fgetc(f)) != EOF;) out.push_back(static_cast<std::uint8_t>(c));
  std::fclose(f);
  return out;
}

// The test's own RFC 1071 sum, independent of the codec's, to re-sum packets it alters.
void resum(Bytes& vrrp, const Envelope& envelope) {
  vrrp[6] = vrrp[7] = 0;
  Bytes summed;
  const auto append_address = [&summed](const IpAddress& a) {
    const auto n = static_cast<long>(a.is_v4() ? 4 : 16);
    summed.insert(summed.end(), a.bytes().begin(), a.bytes().begin() + n);
  };
  const auto hi = static_cast<std::uint8_t>(vrrp.size() >> 8);
  const auto lo = static_cast<std::uint8_t>(vrrp.size());
  if ((vrrp[0] >> 4) == 3) {
    append_address(envelope.source);
    append_address(envelope.destination);
    if (envelope.source.is_v4())
      summed.insert(summed.end(), {0, kProtocol, hi, lo});
    else
      summed.insert(summed.end(), {0, 0, hi, lo, 0, 0, 0, kProtocol});
  }
  summed.insert(summed.end(), vrrp.begin(), vrrp.end());
  if (summed.size() % 2) summed.push_back(0);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < summed.size(); i += 2)
    sum += std::uint32_t{summed[i]} << 8 | summed[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  vrrp[6] = static_cast<std::uint8_t>(~sum >> 8);
  vrrp[7] = static_cast<std::uint8_t>(~sum);
}

// A capture with one byte changed and the checksum made right again.
Bytes altered(const std::string& file, const Envelope& envelope, std::size_t index,
              std::uint8_t value) {
  auto vrrp = golden(file);
  vrrp[index] = value;
  resum(vrrp, envelope);
  return vrrp;
}

// keepalived's addresses in the captures: 192.0.2.1 / fe80::1 sends to the groups.
const Envelope kV4{.source = ip("192.0.2.1"), .destination = ip("224.0.0.18")};
const Envelope kV4Unicast{.source = ip("192.0.2.1"), .destination = ip("192.0.2.2")};
const Envelope kV6{.source = ip("fe80::1"), .destination = ip("ff02::12")};

const Expect kExpectV2{.version = 2, .vrid = 51, .family = Family::V4, .interval = 1s,
                       .auth = AuthType::SimplePassword, .password = "secret1"};
const Expect kExpectV3{.version = 3, .vrid = 51, .family = Family::V4};
const Expect kExpectV6{.version = 3, .vrid = 51, .family = Family::V6};

Advert v2_advert(std::uint8_t priority = 150) {
  return {.version = 2, .vrid = 51, .priority = priority, .interval = 1s,
          .auth = AuthType::SimplePassword, .password = "secret1", .family = Family::V4,
          .addresses = {ip("192.0.2.100")}};
}
Advert v3_advert(std::uint8_t priority = 150) {
  return {.version = 3, .vrid = 51, .priority = priority, .interval = 1s, .family = Family::V4,
          .addresses = {ip("192.0.2.100")}};
}
Advert v6_advert(std::uint8_t priority = 150) {
  return {.version = 3, .vrid = 51, .priority = priority, .interval = 1s, .family = Family::V6,
          .addresses = {ip("2001:db8::100")}};
}

Drop drop_of(const Bytes& vrrp, const Envelope& envelope, const Expect& expect) {
  const auto d = decode(vrrp, envelope, expect);
  EXPECT_FALSE(d.ok);
  return d.drop;
}

// ---- keepalived 2.2.7's adverts, captured from the wire ----

struct Capture {
  std::string file;
  Envelope envelope;
  Expect expect;
  Advert advert;
};

class Keepalived : public ::testing::TestWithParam<Capture> {};

TEST_P(Keepalived, DecodesToItsConfig) {
  const auto& c = GetParam();
  const auto d = decode(golden(c.file), c.envelope, c.expect);
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, c.advert);
}

TEST_P(Keepalived, EncodeGivesTheSameBytes) {
  const auto& c = GetParam();
  EXPECT_EQ(encode(c.advert, c.envelope.source, c.envelope.destination), golden(c.file));
}

Advert three_vips() {
  return {.version = 3, .vrid = 7, .priority = 200, .interval = 500ms, .family = Family::V4,
          .addresses = {ip("192.0.2.100"), ip("192.0.2.101"), ip("198.51.100.7")}};
}
Advert two_v6_vips() {
  return {.version = 3, .vrid = 200, .priority = 100, .interval = 250ms, .family = Family::V6,
          .addresses = {ip("2001:db8::100"), ip("2001:db8:1::7")}};
}

INSTANTIATE_TEST_SUITE_P(
    Captures, Keepalived,
    ::testing::Values(
        Capture{"keepalived-v2-ipv4.bin", kV4, kExpectV2, v2_advert()},
        Capture{"keepalived-v2-ipv4-stop.bin", kV4, kExpectV2, v2_advert(0)},
        Capture{"keepalived-v3-ipv4.bin", kV4, kExpectV3, v3_advert()},
        Capture{"keepalived-v3-ipv4-stop.bin", kV4, kExpectV3, v3_advert(0)},
        Capture{"keepalived-v3-ipv4-unicast.bin", kV4Unicast, kExpectV3, v3_advert()},
        Capture{"keepalived-v3-ipv4-3vips.bin", kV4, Expect{.version = 3, .vrid = 7}, three_vips()},
        Capture{"keepalived-v3-ipv6.bin", kV6, kExpectV6, v6_advert()},
        Capture{"keepalived-v3-ipv6-stop.bin", kV6, kExpectV6, v6_advert(0)},
        Capture{"keepalived-v3-ipv6-2vips.bin", kV6, Expect{.version = 3, .vrid = 200, .family = Family::V6},
                two_v6_vips()}),
    [](const auto& param_info) {
      const auto& file = param_info.param.file;
      std::string name = file.substr(11, file.size() - 15);  // no keepalived-, .bin
      for (auto& c : name)
        if (c == '-') c = '_';
      return name;
    });

TEST(KeepalivedBytes, SpelledOut) {
  // Spelled out once so a reader sees the layout: v2 carries "secret1\0" after the address;
  // v3 puts 100 centiseconds (0x0064) where v2 has auth type 1 and 1 second.
  EXPECT_EQ(golden("keepalived-v2-ipv4.bin"), hex("2133960101011819c00002647365637265743100"));
  EXPECT_EQ(golden("keepalived-v3-ipv4.bin"), hex("313396010064d371c0000264"));
  EXPECT_EQ(golden("keepalived-v3-ipv6.bin"), hex("3133960100640b8f20010db8000000000000000000000100"));
}

// ---- checksums ----

TEST(Checksum, V2CoversTheMessageOnly) {
  EXPECT_EQ(encode(v2_advert(), ip("192.0.2.1"), ip("224.0.0.18")), hex("2133960101011819c00002647365637265743100"));
  // v2 has no pseudo-header: another source or destination gives the same bytes.
  EXPECT_EQ(encode(v2_advert(), ip("10.9.8.7"), ip("10.1.1.1")), hex("2133960101011819c00002647365637265743100"));
  const Advert plain{.version = 2, .vrid = 1, .priority = 100, .interval = 1s,
                     .addresses = {ip("10.0.0.1")}};
  EXPECT_EQ(encode(plain, ip("10.0.0.2"), ip("224.0.0.18")), hex("210164010001" "70fb" "0a000001" "0000000000000000"));
}

TEST(Checksum, V3Ipv4IncludesThePseudoHeader) {
  // The same message to the group and to a unicast peer: only the checksum differs.
  EXPECT_EQ(encode(v3_advert(), ip("192.0.2.1"), ip("224.0.0.18")), hex("313396010064" "d371" "c0000264"));
  EXPECT_EQ(encode(v3_advert(), ip("192.0.2.1"), ip("192.0.2.2")), hex("313396010064" "f181" "c0000264"));
}

TEST(Checksum, FoldsItsCarries) {
  // All-ones fields: the sum carries out of 16 bits several times (value from an independent
  // RFC 1071 implementation).
  const Advert advert{.version = 3, .vrid = 255, .priority = 255, .interval = 40950ms,
                      .addresses = {ip("255.255.255.255"), ip("255.255.255.254")}};
  EXPECT_EQ(encode(advert, ip("10.255.255.1"), ip("224.0.0.18")), hex("31ffff020fff" "d46b" "fffffffffffffffe"));
}

TEST(Checksum, V3Ipv6IncludesThePseudoHeader) {
  EXPECT_EQ(encode(v6_advert(), ip("fe80::1"), ip("ff02::12")),
            hex("313396010064" "0b8f" "20010db8000000000000000000000100"));
  EXPECT_EQ(encode(v6_advert(), ip("fe80::2"), ip("ff02::12")),
            hex("313396010064" "0b8e" "20010db8000000000000000000000100"));
}

TEST(Checksum, V3Ipv4WithoutThePseudoHeaderIsRefused) {
  // RFC 9568 and keepalived's v3_checksum_as_v2 sum the message alone: 0xa290 here.
  auto vrrp = golden("keepalived-v3-ipv4.bin");
  vrrp[6] = 0xa2;
  vrrp[7] = 0x90;
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::BadChecksum);
}

TEST(Checksum, TheGroupInPlaceOfTheUnicastDestinationIsRefused) {
  // What old keepalived sent to unicast peers: summed as if sent to 224.0.0.18.
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4.bin"), kV4Unicast, kExpectV3), Drop::BadChecksum);
}

// ---- round trips ----

TEST(RoundTrip, V2Ipv4WithPassword) {
  const auto d = decode(encode(v2_advert(), kV4.source, kV4.destination), kV4, kExpectV2);
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, v2_advert());
}

TEST(RoundTrip, V2Ipv4WithoutAuthenticationAndTwoAddresses) {
  const Advert advert{.version = 2, .vrid = 9, .priority = 255, .interval = 255s,
                      .addresses = {ip("10.0.0.1"), ip("10.0.0.2")}};
  const auto d = decode(encode(advert, kV4.source, kV4.destination), kV4,
                        Expect{.version = 2, .vrid = 9, .interval = 255s});
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, advert);
}

TEST(RoundTrip, V2PasswordOfEightBytesHasNoTerminator) {
  auto advert = v2_advert();
  advert.password = "12345678";
  const auto vrrp = encode(advert, kV4.source, kV4.destination);
  EXPECT_EQ(Bytes(vrrp.end() - 8, vrrp.end()), hex("3132333435363738"));
  auto expect = kExpectV2;
  expect.password = "12345678";
  const auto d = decode(vrrp, kV4, expect);
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert.password, "12345678");
}

TEST(RoundTrip, V3Ipv4) {
  const auto d = decode(encode(three_vips(), kV4Unicast.source, kV4Unicast.destination), kV4Unicast,
                        Expect{.version = 3, .vrid = 7});
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, three_vips());
}

TEST(RoundTrip, V3Ipv6) {
  const auto d = decode(encode(two_v6_vips(), kV6.source, kV6.destination), kV6,
                        Expect{.version = 3, .vrid = 200, .family = Family::V6});
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, two_v6_vips());
}

TEST(RoundTrip, V3LearnsAnyIntervalAndIgnoresExpectsInterval) {
  auto advert = v3_advert();
  advert.interval = 40950ms;  // the largest: 0x0fff centiseconds
  const auto vrrp = encode(advert, kV4.source, kV4.destination);
  EXPECT_EQ(vrrp[4], 0x0f);
  EXPECT_EQ(vrrp[5], 0xff);
  const auto d = decode(vrrp, kV4, kExpectV3);  // expects 1s: v3 learns, it does not compare
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert.interval, 40950ms);
}

// ---- intervals ----

// encode's std::invalid_argument text, or "encoded".
std::string refusal(const Advert& advert, const IpAddress& source = kV4.source,
                    const IpAddress& destination = kV4.destination) {
  try {
    encode(advert, source, destination);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "encoded";
}

std::uint16_t wire_interval(model::Millis interval, std::uint8_t version = 3) {
  auto advert = version == 3 ? v3_advert() : v2_advert();
  advert.interval = interval;
  const auto vrrp = encode(advert, kV4.source, kV4.destination);
  return static_cast<std::uint16_t>(vrrp[4] << 8 | vrrp[5]);
}

TEST(Interval, V3RoundsToTheNearestCentisecond) {
  EXPECT_EQ(wire_interval(10ms), 1);
  EXPECT_EQ(wire_interval(1234ms), 123);
  EXPECT_EQ(wire_interval(1235ms), 124);
  EXPECT_EQ(wire_interval(5ms), 1);
  EXPECT_EQ(wire_interval(40954ms), 4095);
}

TEST(Interval, V2RoundsToTheNearestSecond) {
  // Byte 4 is the auth type (1: simple password), byte 5 the seconds.
  EXPECT_EQ(wire_interval(1499ms, 2), 0x0101);
  EXPECT_EQ(wire_interval(1500ms, 2), 0x0102);
  EXPECT_EQ(wire_interval(255s, 2), 0x01ff);
}

TEST(Interval, OutOfRangeIsRefusedNotClamped) {
  auto advert = v3_advert();
  advert.interval = 4ms;
  EXPECT_EQ(refusal(advert), "cannot encode VRRPv3 advert for VRID 51: interval 4ms is not 1-4095 units of 10ms");
  advert.interval = 40955ms;
  EXPECT_EQ(refusal(advert), "cannot encode VRRPv3 advert for VRID 51: interval 40955ms is not 1-4095 units of 10ms");
  advert = v2_advert();
  advert.interval = 255500ms;
  EXPECT_EQ(refusal(advert), "cannot encode VRRPv2 advert for VRID 51: interval 255500ms is not 1-255 units of 1000ms");
  advert.interval = 0ms;
  EXPECT_EQ(refusal(advert), "cannot encode VRRPv2 advert for VRID 51: interval 0ms is not 1-255 units of 1000ms");
  advert.interval = -1000ms;
  EXPECT_EQ(refusal(advert), "cannot encode VRRPv2 advert for VRID 51: interval -1000ms is not 1-255 units of 1000ms");
}

// ---- what encode refuses: adverts the config cannot produce ----

TEST(EncodeRefuses, WhatTheConfigRefuses) {
  auto a = v3_advert();
  a.version = 4;
  EXPECT_EQ(refusal(a), "cannot encode VRRPv4 advert for VRID 51: version is not 2 or 3");
  a = v3_advert();
  a.vrid = 0;
  EXPECT_EQ(refusal(a), "cannot encode VRRPv3 advert for VRID 0: VRID 0");
  a = v6_advert();
  a.version = 2;
  EXPECT_EQ(refusal(a, kV6.source, kV6.destination), "cannot encode VRRPv2 advert for VRID 51: VRRPv2 is IPv4 only");
  a = v3_advert();
  a.addresses.clear();
  EXPECT_EQ(refusal(a), "cannot encode VRRPv3 advert for VRID 51: 0 addresses (1-255)");
  a.addresses.assign(256, ip("192.0.2.100"));
  EXPECT_EQ(refusal(a), "cannot encode VRRPv3 advert for VRID 51: 256 addresses (1-255)");
  a = v3_advert();
  a.addresses.push_back(ip("2001:db8::1"));
  EXPECT_EQ(refusal(a), "cannot encode VRRPv3 advert for VRID 51: an address is not IPv4");
  EXPECT_EQ(refusal(v3_advert(), kV6.source, kV4.destination),
            "cannot encode VRRPv3 advert for VRID 51: source or destination is not IPv4");
  EXPECT_EQ(refusal(v6_advert(), kV6.source, kV4.destination),
            "cannot encode VRRPv3 advert for VRID 51: source or destination is not IPv6");
  a = v3_advert();
  a.auth = AuthType::SimplePassword;
  a.password = "secret1";
  EXPECT_EQ(refusal(a), "cannot encode VRRPv3 advert for VRID 51: VRRPv3 has no authentication");
  a = v2_advert();
  a.auth = AuthType::Ah;
  a.password.clear();
  EXPECT_EQ(refusal(a), "cannot encode VRRPv2 advert for VRID 51: AH authentication is not supported");
  a = v2_advert();
  a.auth = AuthType::None;
  EXPECT_EQ(refusal(a), "cannot encode VRRPv2 advert for VRID 51: a password without simple password authentication");
  a = v2_advert();
  a.password = "123456789";
  EXPECT_EQ(refusal(a), "cannot encode VRRPv2 advert for VRID 51: password longer than 8 bytes");
}

// ---- one test per drop reason ----

TEST(Drops, TooShortForTheHeader) {
  const auto vrrp = golden("keepalived-v3-ipv4.bin");
  EXPECT_EQ(drop_of(Bytes(vrrp.begin(), vrrp.begin() + 7), kV4, kExpectV3), Drop::TooShort);
  EXPECT_EQ(drop_of({}, kV4, kExpectV3), Drop::TooShort);
}

TEST(Drops, TooShortForItsAddresses) {
  const auto vrrp = altered("keepalived-v3-ipv4.bin", kV4, 3, 2);  // says two addresses, holds one
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::TooShort);
  const auto v6 = golden("keepalived-v3-ipv6.bin");
  EXPECT_EQ(drop_of(Bytes(v6.begin(), v6.end() - 1), kV6, kExpectV6), Drop::TooShort);
}

TEST(Drops, TooShortForV2AuthenticationData) {
  const auto vrrp = golden("keepalived-v2-ipv4.bin");
  EXPECT_EQ(drop_of(Bytes(vrrp.begin(), vrrp.end() - 1), kV4, kExpectV2), Drop::TooShort);
  // The same 12 bytes are a whole v3 advert: the version decides the length.
  EXPECT_EQ(drop_of(Bytes(vrrp.begin(), vrrp.begin() + 12), kV4, kExpectV2), Drop::TooShort);
}

TEST(Drops, BadVersion) {
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, kExpectV3), Drop::BadVersion);
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4.bin"), kV4, kExpectV2), Drop::BadVersion);
}

TEST(Drops, BadType) {
  const auto vrrp = altered("keepalived-v3-ipv4.bin", kV4, 0, 0x32);
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::BadType);
}

TEST(Drops, BadTtl) {
  auto envelope = kV4;
  envelope.ttl = 254;
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4.bin"), envelope, kExpectV3), Drop::BadTtl);
  // Unicast too: a peer one router away is not on the link.
  envelope = kV4Unicast;
  envelope.ttl = 64;
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4-unicast.bin"), envelope, kExpectV3), Drop::BadTtl);
  auto v6 = kV6;
  v6.ttl = 1;
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv6.bin"), v6, kExpectV6), Drop::BadTtl);
}

TEST(Drops, BadChecksum) {
  auto vrrp = golden("keepalived-v3-ipv6.bin");
  vrrp[7] ^= 1;
  EXPECT_EQ(drop_of(vrrp, kV6, kExpectV6), Drop::BadChecksum);
  // The right bytes from another sender: the pseudo-header covers the source.
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv6.bin"), {.source = ip("fe80::2"), .destination = ip("ff02::12")},
                    kExpectV6),
            Drop::BadChecksum);
}

TEST(Drops, BadVrid) {
  auto expect = kExpectV3;
  expect.vrid = 52;
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4.bin"), kV4, expect), Drop::BadVrid);
}

TEST(Drops, BadIntervalV2) {
  auto expect = kExpectV2;
  expect.interval = 2s;
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadInterval);
  expect.interval = 1001ms;
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadInterval);
}

TEST(Drops, BadIntervalV3Zero) {
  auto vrrp = golden("keepalived-v3-ipv4.bin");
  vrrp[4] = 0xf0;  // reserved bits set, interval 0
  vrrp[5] = 0x00;
  resum(vrrp, kV4);
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::BadInterval);
}

TEST(Drops, BadAuthWrongPassword) {
  auto expect = kExpectV2;
  expect.password = "secret2";
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadAuth);
  expect.password = "secret";  // a prefix is not the password: all 8 bytes count
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadAuth);
}

TEST(Drops, BadAuthWrongType) {
  auto expect = kExpectV2;
  expect.auth = AuthType::None;
  expect.password.clear();
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadAuth);
  // No authentication, to an instance with a password.
  const auto vrrp = altered("keepalived-v2-ipv4.bin", kV4, 4, 0);
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV2), Drop::BadAuth);
}

TEST(Drops, BadAuthAhAlways) {
  const auto vrrp = altered("keepalived-v2-ipv4.bin", kV4, 4, 2);
  auto expect = kExpectV2;
  expect.auth = AuthType::Ah;
  expect.password.clear();
  EXPECT_EQ(drop_of(vrrp, kV4, expect), Drop::BadAuth);
}

TEST(Drops, BadAddressCount) {
  const auto vrrp = altered("keepalived-v3-ipv4.bin", kV4, 3, 0);
  EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::BadAddressCount);
}

TEST(Drops, BadFamily) {
  // An IPv6 packet for an IPv4 instance, and the reverse.
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv6.bin"), kV6, kExpectV3), Drop::BadFamily);
  EXPECT_EQ(drop_of(golden("keepalived-v3-ipv4.bin"), kV4, kExpectV6), Drop::BadFamily);
  // v2 is IPv4 only, whatever the instance says.
  auto expect = kExpectV2;
  expect.family = Family::V6;
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV6, expect), Drop::BadFamily);
}

TEST(Drops, TheFirstFailingCheckIsTheReason) {
  auto envelope = kV4;
  envelope.ttl = 1;
  auto expect = kExpectV2;
  expect.vrid = 9;
  expect.password = "other";
  auto vrrp = golden("keepalived-v2-ipv4.bin");
  vrrp[7] ^= 1;
  // Wrong TTL, checksum, VRID and password at once: the TTL, which comes first, is the reason.
  EXPECT_EQ(drop_of(vrrp, envelope, expect), Drop::BadTtl);
  EXPECT_EQ(drop_of(vrrp, kV4, expect), Drop::BadChecksum);
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadVrid);
  expect.vrid = 51;
  EXPECT_EQ(drop_of(golden("keepalived-v2-ipv4.bin"), kV4, expect), Drop::BadAuth);
}

TEST(Drops, EveryReasonHasItsWords) {
  const std::vector<std::string_view> words = {
      "too short", "wrong version", "not an advertisement", "TTL not 255", "bad checksum",
      "wrong VRID", "wrong advert interval", "authentication failed", "no addresses",
      "addresses differ", "not a unicast peer", "own advert", "wrong address family"};
  ASSERT_EQ(words.size(), kDropReasons);
  for (std::size_t i = 0; i < kDropReasons; ++i)
    EXPECT_EQ(to_string(static_cast<Drop>(i)), words[i]) << i;
}

// ---- a corrupted byte anywhere is caught ----

TEST(Corruption, AnyByteOfAnyCaptureIsCaught) {
  struct Case {
    std::string file;
    Envelope envelope;
    Expect expect;
  };
  const std::vector<Case> cases = {{"keepalived-v2-ipv4.bin", kV4, kExpectV2},
                                   {"keepalived-v3-ipv4.bin", kV4, kExpectV3},
                                   {"keepalived-v3-ipv4-3vips.bin", kV4, Expect{.version = 3, .vrid = 7}},
                                   {"keepalived-v3-ipv6.bin", kV6, kExpectV6}};
  for (const auto& c : cases) {
    const auto good = golden(c.file);
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (const int mask : {0x01, 0x10, 0x80, 0xff}) {
        auto bad = good;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ mask);
        // The version/type byte is judged before the checksum, and so is a count that no
        // longer fits; every other byte is only the checksum's to catch.
        Drop want = Drop::BadChecksum;
        const std::size_t address = c.envelope.source.is_v4() ? 4 : 16;
        const std::size_t fixed = (good[0] >> 4) == 2 ? 16 : 8;
        if (i == 0) want = (mask & 0xf0) ? Drop::BadVersion : Drop::BadType;
        if (i == 3 && fixed + bad[3] * address > good.size()) want = Drop::TooShort;
        EXPECT_EQ(drop_of(bad, c.envelope, c.expect), want) << c.file << " byte " << i << " ^ " << mask;
      }
    }
  }
}

// ---- what the checks leave alone ----

TEST(Decode, TrailingBytesAreSummedAndIgnored) {
  for (const Bytes& extra : {Bytes{0xab}, Bytes{0xab, 0xcd}, Bytes{0, 0, 0, 0}}) {
    auto vrrp = golden("keepalived-v3-ipv4.bin");
    vrrp.insert(vrrp.end(), extra.begin(), extra.end());
    // Even zeros change the v3 sum: the pseudo-header holds the length.
    EXPECT_EQ(drop_of(vrrp, kV4, kExpectV3), Drop::BadChecksum);
    resum(vrrp, kV4);
    const auto d = decode(vrrp, kV4, kExpectV3);
    ASSERT_TRUE(d.ok) << to_string(d.drop);
    EXPECT_EQ(d.advert, v3_advert());
  }
}

TEST(Decode, V3ReservedBitsAreIgnored) {
  auto vrrp = golden("keepalived-v3-ipv4.bin");
  vrrp[4] |= 0xf0;
  resum(vrrp, kV4);
  const auto d = decode(vrrp, kV4, kExpectV3);
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert.interval, 1s);
}

TEST(Decode, V2WithoutAuthenticationIgnoresTheData) {
  const Advert advert{.version = 2, .vrid = 1, .priority = 100, .interval = 1s, .addresses = {ip("10.0.0.1")}};
  auto vrrp = encode(advert, kV4.source, kV4.destination);
  vrrp.back() = 'x';
  resum(vrrp, kV4);
  const auto d = decode(vrrp, kV4, Expect{.version = 2, .vrid = 1});
  ASSERT_TRUE(d.ok) << to_string(d.drop);
  EXPECT_EQ(d.advert, advert);
}

}  // namespace
}  // namespace lvsd::vrrp
