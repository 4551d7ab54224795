// Address ranges in real-server addresses: "10.0.0.[10-40]:80", "[2001:db8::[a-1f]]:80".
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "sections.hpp"

namespace lvsd::config {

namespace {
constexpr std::size_t kMaxRange = 65536;
}

std::optional<AddressRange> parse_range(std::string_view text, std::string& error) {
  // The range is the innermost [lo-hi] whose content has a '-' and no ':' or '.'.
  std::size_t open = std::string_view::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '[') continue;
    const auto close = text.find(']', i + 1);
    if (close == std::string_view::npos) break;
    const auto inner = text.substr(i + 1, close - i - 1);
    if (inner.find('-') != std::string_view::npos && inner.find_first_of(":.[") == std::string_view::npos) {
      if (open != std::string_view::npos) {
        error = "only one [first-last] range is allowed in an address";
        return std::nullopt;
      }
      open = i;
    }
  }
  if (open == std::string_view::npos) return AddressRange{std::string(text), 1};

  const auto close = text.find(']', open);
  const auto inner = text.substr(open + 1, close - open - 1);
  const auto dash = inner.find('-');
  const auto prefix = text.substr(0, open);
  const auto suffix = text.substr(close + 1);
  // IPv6 groups are hexadecimal. The range must be the last byte of an IPv4 address or the
  // last group of an IPv6 one, never a port.
  const auto count = [&](char c) { return std::count(prefix.begin(), prefix.end(), c); };
  const bool hex = count(':') >= 2;
  const bool last_v4 = !hex && count(':') == 0 && count('.') == 3 && prefix.back() == '.' &&
                       (suffix.empty() || suffix.front() == ':');
  const bool last_v6 = hex && prefix.back() == ':' && (suffix.empty() || suffix.front() == ']');
  if (!last_v4 && !last_v6) {
    error = "a range goes in the last byte of an IPv4 address (\"10.0.0.[10-40]:80\") or the last "
            "group of an IPv6 address (\"[2001:db8::[a-1f]]:80\")";
    return std::nullopt;
  }
  const int base = hex ? 16 : 10;
  auto number = [&](std::string_view s, unsigned& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
  };
  unsigned lo = 0, hi = 0;
  if (!number(inner.substr(0, dash), lo) || !number(inner.substr(dash + 1), hi)) {
    error = fmt::format("malformed range \"[{}]\"; expected [first-last] in {}", inner,
                        hex ? "hexadecimal (the last IPv6 group)" : "decimal (the last IPv4 byte)");
    return std::nullopt;
  }
  const unsigned max = hex ? 0xffff : 255;
  if (lo > hi || hi > max) {
    error = fmt::format("range \"[{}]\" must go from a lower to a higher number, at most {}", inner,
                        hex ? "ffff" : "255");
    return std::nullopt;
  }
  if (hi - lo + 1 > kMaxRange) {
    error = fmt::format("range \"[{}]\" has more than {} addresses", inner, kMaxRange);
    return std::nullopt;
  }
  char digits[8];
  const auto end = std::to_chars(digits, digits + sizeof digits, lo, base).ptr;
  AddressRange range{std::string(prefix), hi - lo + 1};
  range.first.append(digits, end).append(suffix);
  return range;
}

model::IpAddress address_in_range(const model::IpAddress& first, unsigned offset) {
  if (first.is_v4()) return model::IpAddress::v4(first.v4_host_order() + offset);
  auto bytes = first.bytes();
  const unsigned group = (unsigned{bytes[14]} << 8 | bytes[15]) + offset;
  bytes[14] = static_cast<std::uint8_t>(group >> 8);
  bytes[15] = static_cast<std::uint8_t>(group);
  return model::IpAddress::v6(bytes);
}

}  // namespace lvsd::config
