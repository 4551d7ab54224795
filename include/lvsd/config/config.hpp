// Loading lvsd.toml into a model::Desired, with every error located and explained.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/desired.hpp"

namespace lvsd::config {

struct Error {
  std::string file;
  int line = 0;    // 1-based; 0 when the error has no place in a file (a missing file)
  int column = 0;  // 1-based
  std::string key;  // key path, e.g. virtual_server[0].real_server[2].weight; may be empty
  std::string message;

  // "file:line:column: key: message"
  std::string to_string() const;
  bool operator==(const Error&) const = default;
};

// Either a model (errors empty) or errors (no model): a file with errors never half-applies.
struct Result {
  std::optional<model::Desired> desired;
  std::vector<Error> errors;  // sorted by file, line and column
  bool ok() const { return desired.has_value(); }
};

// Reads the file and every file its `include` patterns name (relative to the including file).
Result load_file(const std::string& path);

// The same for text in memory; `name` is the file name used in errors and `base_dir` is where
// relative includes are looked up.
Result load_string(std::string_view text, const std::string& name, const std::string& base_dir);

}  // namespace lvsd::config
