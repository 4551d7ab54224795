// Typed reading of TOML values: each getter checks type and range, reports a located error
// and returns nullopt on bad input, so one pass collects every error of a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <toml.hpp>

#include "diagnostics.hpp"
#include "lvsd/model/address.hpp"
#include "lvsd/model/names.hpp"

namespace lvsd::config {

// A value together with the key path it was found at.
struct Node {
  const toml::value* value = nullptr;
  std::string path;

  const toml::value& operator*() const { return *value; }
  const toml::value* operator->() const { return value; }
};

// A table whose keys are checked against the ones it may hold.
class Table {
 public:
  // Reports every key not in `known` (with a suggestion). `node` must be a table; when it is
  // not, an error is reported and the Table is empty.
  Table(Diagnostics& diag, Node node, std::span<const std::string_view> known);

  std::optional<Node> get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  const std::string& path() const { return path_; }
  const toml::value* value() const { return value_; }
  std::string key_path(std::string_view key) const;

 private:
  const toml::value* value_ = nullptr;
  std::string path_;
};

// A lookup chain: the first table that holds a key wins (own table, then the virtual server,
// then [defaults]).
class Scope {
 public:
  Scope() = default;
  explicit Scope(const Table& own) { chain_.push_back(&own); }
  Scope(const Table& own, const Scope& parent) : chain_{&own} {
    chain_.insert(chain_.end(), parent.chain_.begin(), parent.chain_.end());
  }
  std::optional<Node> find(std::string_view key) const;
  const Table& own() const { return *chain_.front(); }

 private:
  std::vector<const Table*> chain_;
};

// The place of a key itself (its name, not its value) where it can be found on the line.
Place key_place(const toml::value& value, std::string_view key);

std::string_view type_name(const toml::value& v);  // "a string", "an integer", ...

std::optional<std::string> get_string(Diagnostics& d, const Node& n);
std::optional<std::string> get_nonempty_string(Diagnostics& d, const Node& n);
std::optional<bool> get_bool(Diagnostics& d, const Node& n);
std::optional<std::int64_t> get_int(Diagnostics& d, const Node& n, std::int64_t min, std::int64_t max);
// Seconds as a number (5, 0.5) or a string with units ("100ms", "5s", "2m", "1h", "1m30s").
std::optional<std::chrono::milliseconds> get_duration(Diagnostics& d, const Node& n,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max);
std::optional<model::IpAddress> get_address(Diagnostics& d, const Node& n);
std::optional<model::Prefix> get_prefix(Diagnostics& d, const Node& n);
// A string, or an array of strings.
std::optional<std::vector<std::string>> get_string_list(Diagnostics& d, const Node& n);
// An array; each element gets its own path (key[0], key[1], ...).
std::optional<std::vector<Node>> get_array(Diagnostics& d, const Node& n);

// Parses a duration text; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds ms);

template <class E>
std::optional<E> get_enum(Diagnostics& d, const Node& n, std::string_view what) {
  auto text = get_string(d, n);
  if (!text) return std::nullopt;
  if (auto v = model::parse_name<E>(*text)) return v;
  std::vector<std::string_view> candidates;
  std::string list;
  for (const auto& [value, name] : model::names<E>()) {
    candidates.push_back(name);
    list += list.empty() ? "" : ", ";
    list += name;
  }
  d.add(*n, n.path,
        fmt::format("unknown {} \"{}\"; expected one of {}{}", what, *text, list,
                    did_you_mean(*text, candidates)));
  return std::nullopt;
}

// Runs `read` on the key when the scope has it and stores a successful result in `out`.
template <class T, class F>
void read_into(const Scope& scope, std::string_view key, T& out, F&& read) {
  if (auto n = scope.find(key))
    if (auto v = read(*n)) out = static_cast<T>(*v);
}

}  // namespace lvsd::config
