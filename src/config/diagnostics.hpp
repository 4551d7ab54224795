// Collects config errors with their places; suggests the nearest known word.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml.hpp>

#include "lvsd/config/config.hpp"

namespace lvsd::config {

struct Place {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // file:line:column
};

// Where a value stands. Large files are parsed in chunks (see loader.cpp); a chunk's name is
// short ("\1<number of the file>\2<first line - 1>"), and this maps it back to the file and
// its line.
Place place_of(const toml::value& value);
std::string chunk_name(const std::string& file, int line_offset);

class Diagnostics {
 public:
  void add(const Place& at, std::string key, std::string message);
  void add(const toml::value& at, std::string key, std::string message) {
    add(place_of(at), std::move(key), std::move(message));
  }
  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  // Sorted by file, line, column; duplicates removed.
  std::vector<Error> take();

 private:
  std::vector<Error> errors_;
};

// The candidate closest to `word` when it is close enough to be a likely typo; empty otherwise.
std::string_view suggest(std::string_view word, std::span<const std::string_view> candidates);

// ` (did you mean "x"?)` or "".
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace lvsd::config
