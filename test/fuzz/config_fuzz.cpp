// libFuzzer target: any bytes given to the config loader yield a model or errors, never both,
// never neither, and never a crash, a hang or a sanitizer report.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "lvsd/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Includes resolve against a directory that does not exist: the fuzzer explores the
  // "matches no file" path without reading the host's files.
  const auto result = lvsd::config::load_string(text, "fuzz.toml", "/nonexistent/lvsd-fuzz");
  if (result.ok() == !result.errors.empty()) {
    std::fprintf(stderr, "config_fuzz: ok=%d with %zu errors\n", result.ok(), result.errors.size());
    std::abort();
  }
  for (const auto& e : result.errors) {
    if (e.file.empty() || e.message.empty()) {
      std::fprintf(stderr, "config_fuzz: error without file or message: %s\n", e.to_string().c_str());
      std::abort();
    }
  }
  return 0;
}
