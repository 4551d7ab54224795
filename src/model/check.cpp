// The written forms of a status range and of a body digest, shared by the config loader and
// lvsctl probe.
#include "lvsd/model/check.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace lvsd::model {
namespace {

std::optional<std::uint16_t> status_code(std::string_view text) {
  unsigned code = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (text.size() != 3 || ec != std::errc{} || end != text.data() + text.size() || code < 100 || code > 599)
    return std::nullopt;
  return static_cast<std::uint16_t>(code);
}

}  // namespace

std::optional<StatusRange> parse_status_range(std::string_view text) {
  const auto dash = text.find('-');
  const auto low = status_code(text.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : status_code(text.substr(dash + 1));
  if (!low || !high || *low > *high) return std::nullopt;
  return StatusRange{*low, *high};
}

std::optional<Digest> parse_digest(std::string_view text) {
  Digest digest;
  if (text.starts_with("md5:")) {
    text.remove_prefix(4);
  } else if (text.starts_with("sha256:")) {
    text.remove_prefix(7);
    digest.algorithm = DigestAlgorithm::Sha256;
  } else if (text.size() == 64) {
    digest.algorithm = DigestAlgorithm::Sha256;
  }
  const std::size_t want = digest.algorithm == DigestAlgorithm::Md5 ? 32 : 64;
  if (text.size() != want ||
      !std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  digest.hex.reserve(want);
  for (char c : text) digest.hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return digest;
}

}  // namespace lvsd::model
