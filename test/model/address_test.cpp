// Tests for src/model/address.cpp: parsing and printing of addresses, endpoints and prefixes.
#include "lvsd/model/address.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lvsd::model {
namespace {

IpAddress ip(std::string_view text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

constexpr std::array<std::uint8_t, 16> kDocV6One{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                                 0,    0,    0,    0,    0, 0, 0, 1};

// --- IpAddress ---------------------------------------------------------------------------

TEST(IpAddressTest, DefaultIsIpv4Unspecified) {
  const IpAddress a;
  EXPECT_EQ(a.family(), Family::V4);
  EXPECT_TRUE(a.is_v4());
  EXPECT_FALSE(a.is_v6());
  EXPECT_TRUE(a.is_unspecified());
  EXPECT_EQ(a.to_string(), "0.0.0.0");
  EXPECT_EQ(a.v4_host_order(), 0u);
}

TEST(IpAddressTest, V4FromHostOrderStoresNetworkOrderBytes) {
  const auto a = IpAddress::v4(0xC000020Au);
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.bytes(), (std::array<std::uint8_t, 16>{192, 0, 2, 10}));
  EXPECT_EQ(a.v4_host_order(), 0xC000020Au);
  EXPECT_EQ(a.to_string(), "192.0.2.10");
}

TEST(IpAddressTest, V6FromBytes) {
  const auto a = IpAddress::v6(kDocV6One);
  EXPECT_TRUE(a.is_v6());
  EXPECT_EQ(a.family(), Family::V6);
  EXPECT_EQ(a.bytes(), kDocV6One);
  EXPECT_EQ(a.to_string(), "2001:db8::1");
}

TEST(IpAddressTest, ParsesDottedQuad) {
  const auto a = IpAddress::parse("192.0.2.10");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, IpAddress::v4(0xC000020Au));
  EXPECT_EQ(a->to_string(), "192.0.2.10");
}

TEST(IpAddressTest, ParsesIpv4Extremes) {
  EXPECT_EQ(ip("0.0.0.0"), IpAddress::v4(0));
  EXPECT_EQ(ip("255.255.255.255"), IpAddress::v4(0xFFFFFFFFu));
  EXPECT_EQ(ip("255.255.255.255").to_string(), "255.255.255.255");
}

TEST(IpAddressTest, ParsesIpv6Forms) {
  EXPECT_EQ(ip("2001:db8::1"), IpAddress::v6(kDocV6One));
  EXPECT_EQ(ip("2001:0db8:0000:0000:0000:0000:0000:0001"), IpAddress::v6(kDocV6One));
  EXPECT_EQ(ip("2001:DB8::1"), IpAddress::v6(kDocV6One));
  EXPECT_EQ(ip("::"), IpAddress::v6({}));
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  EXPECT_EQ(ip("::1"), IpAddress::v6(loopback));
  std::array<std::uint8_t, 16> mapped{};
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped[12] = 192;
  mapped[13] = 0;
  mapped[14] = 2;
  mapped[15] = 10;
  EXPECT_EQ(ip("::ffff:192.0.2.10"), IpAddress::v6(mapped));
}

TEST(IpAddressTest, PrintsIpv6InCanonicalShortForm) {
  EXPECT_EQ(ip("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string(), "2001:db8::1");
  EXPECT_EQ(ip("2001:db8:0:0:1:0:0:1").to_string(), "2001:db8::1:0:0:1");
  EXPECT_EQ(ip("::").to_string(), "::");
  EXPECT_EQ(ip("::1").to_string(), "::1");
  EXPECT_EQ(ip("fe80::").to_string(), "fe80::");
  EXPECT_EQ(ip("::ffff:192.0.2.10").to_string(), "::ffff:192.0.2.10");
}

TEST(IpAddressTest, LongestIpv6TextIsAccepted) {
  // 45 characters: the longest text form and the parser's limit.
  constexpr std::string_view kLongest = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
  ASSERT_EQ(kLongest.size(), 45u);
  EXPECT_EQ(ip(kLongest).to_string(), "::ffff:255.255.255.255");
}

TEST(IpAddressTest, RejectsBadInput) {
  for (std::string_view bad :
       {"", " ", "192.0.2", "192.0.2.256", "192.0.2.10.1", "192.0.2.-1", "192.0.2.10 ", " 192.0.2.10",
        "192.0.2.10/24", "192.0.2.10:80", "a.b.c.d", "2001:db8::1::2", "2001:db8::g", ":::",
        "1:2:3:4:5:6:7:8:9", "[2001:db8::1]", "fe80::1%eth0", "localhost",
        "0000:0000:0000:0000:0000:ffff:255.255.255.2555"}) {
    EXPECT_EQ(IpAddress::parse(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(IpAddressTest, RejectsTextWithEmbeddedNul) {
  EXPECT_EQ(IpAddress::parse(std::string_view("192.0.2.1\0junk", 14)), std::nullopt);
}

TEST(IpAddressTest, Unspecified) {
  EXPECT_TRUE(ip("0.0.0.0").is_unspecified());
  EXPECT_TRUE(ip("::").is_unspecified());
  EXPECT_FALSE(ip("0.0.0.1").is_unspecified());
  EXPECT_FALSE(ip("::1").is_unspecified());
  EXPECT_FALSE(ip("192.0.2.10").is_unspecified());
}

TEST(IpAddressTest, Multicast) {
  EXPECT_TRUE(ip("224.0.0.18").is_multicast());
  EXPECT_TRUE(ip("239.255.255.255").is_multicast());
  EXPECT_FALSE(ip("223.255.255.255").is_multicast());
  EXPECT_FALSE(ip("240.0.0.1").is_multicast());
  EXPECT_TRUE(ip("ff02::12").is_multicast());
  EXPECT_FALSE(ip("fe80::1").is_multicast());
  EXPECT_FALSE(ip("2001:db8::1").is_multicast());
}

TEST(IpAddressTest, OrdersByFamilyThenBytes) {
  EXPECT_LT(ip("192.0.2.1"), ip("192.0.2.2"));
  EXPECT_LT(ip("10.255.255.255"), ip("192.0.2.1"));
  EXPECT_LT(ip("255.255.255.255"), ip("::"));  // every IPv4 address sorts before IPv6
  EXPECT_LT(ip("2001:db8::1"), ip("2001:db8::2"));
  EXPECT_NE(ip("0.0.0.0"), ip("::"));
}

// --- Endpoint ----------------------------------------------------------------------------

TEST(EndpointTest, ParsesIpv4WithPort) {
  const auto ep = Endpoint::parse("192.0.2.10:80", true);
  ASSERT_TRUE(ep);
  EXPECT_EQ(*ep, (Endpoint{.address = ip("192.0.2.10"), .port = 80}));
  EXPECT_EQ(ep->to_string(), "192.0.2.10:80");
}

TEST(EndpointTest, ParsesBracketedIpv6WithPort) {
  const auto ep = Endpoint::parse("[2001:db8::10]:443", true);
  ASSERT_TRUE(ep);
  EXPECT_EQ(*ep, (Endpoint{.address = ip("2001:db8::10"), .port = 443}));
  EXPECT_EQ(ep->to_string(), "[2001:db8::10]:443");
}

TEST(EndpointTest, PortRange) {
  EXPECT_EQ(Endpoint::parse("192.0.2.10:0", true), (Endpoint{ip("192.0.2.10"), 0}));
  EXPECT_EQ(Endpoint::parse("192.0.2.10:65535", true), (Endpoint{ip("192.0.2.10"), 65535}));
  EXPECT_EQ(Endpoint::parse("[::1]:65535", true), (Endpoint{ip("::1"), 65535}));
  EXPECT_EQ(Endpoint::parse("192.0.2.10:65536", true), std::nullopt);
  EXPECT_EQ(Endpoint::parse("[::1]:65536", true), std::nullopt);
  EXPECT_EQ(Endpoint::parse("192.0.2.10:4294967376", true), std::nullopt);  // 2^32 + 80
}

TEST(EndpointTest, WithoutPortWhenNotRequired) {
  EXPECT_EQ(Endpoint::parse("192.0.2.10", false), (Endpoint{ip("192.0.2.10"), 0}));
  EXPECT_EQ(Endpoint::parse("[2001:db8::10]", false), (Endpoint{ip("2001:db8::10"), 0}));
  EXPECT_EQ(Endpoint::parse("2001:db8::10", false), (Endpoint{ip("2001:db8::10"), 0}));
  EXPECT_EQ(Endpoint::parse("::1", false), (Endpoint{ip("::1"), 0}));
  // With a port it parses the same either way.
  EXPECT_EQ(Endpoint::parse("192.0.2.10:80", false), (Endpoint{ip("192.0.2.10"), 80}));
  EXPECT_EQ(Endpoint::parse("[2001:db8::10]:80", false), (Endpoint{ip("2001:db8::10"), 80}));
}

TEST(EndpointTest, WithoutPortWhenRequiredIsRejected) {
  EXPECT_EQ(Endpoint::parse("192.0.2.10", true), std::nullopt);
  EXPECT_EQ(Endpoint::parse("[2001:db8::10]", true), std::nullopt);
  EXPECT_EQ(Endpoint::parse("2001:db8::10", true), std::nullopt);
  // Unbracketed IPv6 cannot carry a port: the last group is part of the address.
  EXPECT_EQ(Endpoint::parse("2001:db8::10:80", true), std::nullopt);
  EXPECT_EQ(Endpoint::parse("2001:db8::10:80", false), (Endpoint{ip("2001:db8::10:80"), 0}));
}

TEST(EndpointTest, RejectsBadInput) {
  for (bool require_port : {true, false}) {
    for (std::string_view bad :
         {"", ":", ":80", "192.0.2.10:", "192.0.2.10:http", "192.0.2.10:80x", "192.0.2.10:-1",
          "192.0.2.10:+80", "192.0.2.10: 80", "192.0.2.10:80:81", "192.0.2.256:80", "[", "[]", "[]:80",
          "[2001:db8::10", "[2001:db8::10]:", "[2001:db8::10]80", "[2001:db8::10]]:80",
          "[192.0.2.10]:80", "[192.0.2.10]", "[2001:db8::10]:http", "[fe80::1%eth0]:80",
          "host.example:80"}) {
      EXPECT_EQ(Endpoint::parse(bad, require_port), std::nullopt)
          << '"' << bad << "\" require_port=" << require_port;
    }
  }
}

TEST(EndpointTest, ToStringBracketsIpv6Only) {
  EXPECT_EQ((Endpoint{ip("10.0.0.11"), 8080}).to_string(), "10.0.0.11:8080");
  EXPECT_EQ((Endpoint{ip("2001:db8::11"), 8080}).to_string(), "[2001:db8::11]:8080");
  EXPECT_EQ((Endpoint{ip("::ffff:10.0.0.11"), 80}).to_string(), "[::ffff:10.0.0.11]:80");
  EXPECT_EQ(Endpoint{}.to_string(), "0.0.0.0:0");
}

TEST(EndpointTest, RoundTripsThroughText) {
  for (std::string_view text : {"192.0.2.10:80", "[2001:db8::10]:443", "[::1]:1", "0.0.0.0:0"}) {
    const auto ep = Endpoint::parse(text, true);
    ASSERT_TRUE(ep) << text;
    EXPECT_EQ(ep->to_string(), text);
  }
}

TEST(EndpointTest, OrdersByAddressThenPort) {
  EXPECT_LT((Endpoint{ip("10.0.0.1"), 90}), (Endpoint{ip("10.0.0.2"), 80}));
  EXPECT_LT((Endpoint{ip("10.0.0.1"), 80}), (Endpoint{ip("10.0.0.1"), 81}));
}

// --- Prefix ------------------------------------------------------------------------------

TEST(PrefixTest, ParsesAddressWithLength) {
  EXPECT_EQ(Prefix::parse("192.0.2.10/24"), (Prefix{.address = ip("192.0.2.10"), .length = 24}));
  EXPECT_EQ(Prefix::parse("2001:db8::10/64"), (Prefix{.address = ip("2001:db8::10"), .length = 64}));
  EXPECT_EQ(Prefix::parse("0.0.0.0/0"), (Prefix{ip("0.0.0.0"), 0}));
  EXPECT_EQ(Prefix::parse("::/0"), (Prefix{ip("::"), 0}));
  EXPECT_EQ(Prefix::parse("192.0.2.10/32"), (Prefix{ip("192.0.2.10"), 32}));
  EXPECT_EQ(Prefix::parse("2001:db8::10/128"), (Prefix{ip("2001:db8::10"), 128}));
}

TEST(PrefixTest, BareAddressHasFullLength) {
  EXPECT_EQ(Prefix::parse("192.0.2.10"), (Prefix{ip("192.0.2.10"), 32}));
  EXPECT_EQ(Prefix::parse("2001:db8::10"), (Prefix{ip("2001:db8::10"), 128}));
}

TEST(PrefixTest, KeepsHostBits) {
  // A VIP is an address on a subnet, not a network: 192.0.2.10/24 stays as written.
  EXPECT_EQ(Prefix::parse("192.0.2.10/24")->to_string(), "192.0.2.10/24");
}

TEST(PrefixTest, RejectsBadInput) {
  for (std::string_view bad :
       {"", "/24", "192.0.2.10/", "192.0.2.10/33", "192.0.2.10/-1", "192.0.2.10/+24", "192.0.2.10/24/1",
        "192.0.2.10/2a", "192.0.2.10/ 24", "192.0.2.10/255.255.255.0", "2001:db8::10/129",
        "[2001:db8::10]/64", "192.0.2.256/24", "192.0.2.10:80/24", "192.0.2.10/4294967320"}) {
    EXPECT_EQ(Prefix::parse(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(PrefixTest, ToString) {
  EXPECT_EQ((Prefix{ip("10.0.0.1"), 24}).to_string(), "10.0.0.1/24");
  EXPECT_EQ((Prefix{ip("2001:db8::1"), 64}).to_string(), "2001:db8::1/64");
  EXPECT_EQ(Prefix{}.to_string(), "0.0.0.0/32");
}

// --- Family ------------------------------------------------------------------------------

TEST(FamilyTest, NamesAndMaxPrefix) {
  EXPECT_EQ(to_string(Family::V4), "IPv4");
  EXPECT_EQ(to_string(Family::V6), "IPv6");
  EXPECT_EQ(max_prefix(Family::V4), 32);
  EXPECT_EQ(max_prefix(Family::V6), 128);
}

}  // namespace
}  // namespace lvsd::model
