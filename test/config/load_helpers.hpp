// Helpers shared by the config tests: load text that must be valid, parse literal addresses.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "lvsd/config/config.hpp"
#include "lvsd/model/address.hpp"

namespace lvsd::config::test {

inline std::string errors_of(const Result& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// Loads text that must be valid; a failure prints every error.
inline model::Desired load_valid(std::string_view text, const std::string& name) {
  const auto r = load_string(text, name, "/nonexistent");
  EXPECT_TRUE(r.ok()) << errors_of(r) << "in:\n" << text;
  return r.desired.value_or(model::Desired{});
}

inline model::IpAddress ip(std::string_view text) { return model::IpAddress::parse(text).value(); }
inline model::Endpoint ep(std::string_view text) { return model::Endpoint::parse(text, false).value(); }
inline model::Prefix prefix(std::string_view text) { return model::Prefix::parse(text).value(); }

}  // namespace lvsd::config::test
