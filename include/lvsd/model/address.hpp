// IP addresses and endpoints as plain values: parsed, printed, compared and hashed.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace lvsd::model {

enum class Family : std::uint8_t { V4, V6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes);
  // Accepts dotted quad or RFC 4291 text (no brackets, no zone). nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  bool is_v6() const { return family_ == Family::V6; }
  // Network byte order; only the first 4 bytes are used for IPv4.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::uint32_t v4_host_order() const;
  bool is_unspecified() const;
  bool is_multicast() const;
  std::string to_string() const;

  auto operator<=>(const IpAddress&) const = default;
  auto fields() const { return std::tie(family_, bytes_); }

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

// An address with a port. Printed as 1.2.3.4:80 or [2001:db8::1]:80 (ipvsadm's form).
struct Endpoint {
  IpAddress address;
  std::uint16_t port = 0;

  // "1.2.3.4:80", "[::1]:80"; with require_port=false also "1.2.3.4" and "[::1]"/"::1" (port 0).
  static std::optional<Endpoint> parse(std::string_view text, bool require_port);
  std::string to_string() const;
  auto operator<=>(const Endpoint&) const = default;
  auto fields() const { return std::tie(address, port); }
};

// An address with a prefix length: 192.0.2.10/24.
struct Prefix {
  IpAddress address;
  std::uint8_t length = 32;

  // "a/len" or a bare address (full length).
  static std::optional<Prefix> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const Prefix&) const = default;
  auto fields() const { return std::tie(address, length); }
};

std::string_view to_string(Family family);  // "IPv4" / "IPv6"
int max_prefix(Family family);              // 32 / 128

}  // namespace lvsd::model
