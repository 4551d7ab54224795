// Typed getters over toml11 values with located errors.
#include "values.hpp"

#include <charconv>
#include <cmath>

namespace lvsd::config {

Table::Table(Diagnostics& diag, Node node, std::span<const std::string_view> known)
    : path_(std::move(node.path)) {
  if (!node.value->is_table()) {
    diag.add(*node.value, path_, fmt::format("expected a table, got {}", type_name(*node.value)));
    return;
  }
  value_ = node.value;
  for (const auto& [key, child] : node.value->as_table()) {
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (ok) continue;
    // TOML puts every key after a [header] into that header's table: a top-level key written
    // below a table lands inside it.
    static constexpr std::string_view kTopLevel[] = {"include", "global", "ipvs", "defaults",
                                                     "virtual_server", "vrrp", "vrrp_instance",
                                                     "vrrp_sync_group"};
    bool top_level = false;
    for (auto k : kTopLevel) top_level = top_level || (k == key && !path_.empty());
    diag.add(key_place(child, key), key_path(key),
             top_level ? fmt::format("unknown key; \"{}\" is a top-level key: move it above the first "
                                     "[table] header, where it belongs to no table", key)
                       : fmt::format("unknown key{}", did_you_mean(key, known)));
  }
}

std::string Table::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<Node> Table::get(std::string_view key) const {
  if (!value_) return std::nullopt;
  const auto& t = value_->as_table();
  auto it = t.find(std::string(key));
  if (it == t.end()) return std::nullopt;
  return Node{&it->second, key_path(key)};
}

std::optional<Node> Scope::find(std::string_view key) const {
  for (const auto* t : chain_)
    if (auto n = t->get(key)) return n;
  return std::nullopt;
}

Place key_place(const toml::value& value, std::string_view key) {
  Place p = place_of(value);
  // The value's location is that of the value (or of a [table] header); the key stands
  // before it on the same line for `key = value`.
  const auto line = value.location().line_str();
  const std::size_t value_col = p.column > 0 ? static_cast<std::size_t>(p.column - 1) : 0;
  if (value_col <= line.size()) {
    const auto at = line.rfind(std::string(key), value_col);
    if (at != std::string::npos) p.column = static_cast<int>(at + 1);
  }
  return p;
}

std::string_view type_name(const toml::value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
    case toml::value_t::local_date:
    case toml::value_t::local_time: return "a date/time";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    case toml::value_t::empty: return "nothing";
  }
  return "an unknown value";
}

std::optional<std::string> get_string(Diagnostics& d, const Node& n) {
  if (n->is_string()) return n->as_string().str;
  d.add(*n, n.path, fmt::format("expected a string, got {}", type_name(*n)));
  return std::nullopt;
}

std::optional<std::string> get_nonempty_string(Diagnostics& d, const Node& n) {
  auto s = get_string(d, n);
  if (s && s->empty()) {
    d.add(*n, n.path, "expected a non-empty string");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> get_bool(Diagnostics& d, const Node& n) {
  if (n->is_boolean()) return n->as_boolean();
  d.add(*n, n.path, fmt::format("expected true or false, got {}", type_name(*n)));
  return std::nullopt;
}

std::optional<std::int64_t> get_int(Diagnostics& d, const Node& n, std::int64_t min, std::int64_t max) {
  if (!n->is_integer()) {
    d.add(*n, n.path,
          fmt::format("expected an integer from {} to {}, got {}", min, max, type_name(*n)));
    return std::nullopt;
  }
  const auto v = n->as_integer();
  if (v < min || v > max) {
    d.add(*n, n.path, fmt::format("{} is out of range; expected an integer from {} to {}", v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // One or more <number><unit> groups: 1h30m, 1.5s, 250ms.
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  while (!text.empty()) {
    double number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::fixed);
    if (ec != std::errc{} || !std::isfinite(number) || number < 0) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    std::size_t unit_len = 0;
    while (unit_len < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_len]))) ++unit_len;
    const auto unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    double scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else return std::nullopt;
    total_ms += number * scale;
    if (total_ms > 1e15) return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::string format_duration(std::chrono::milliseconds ms) {
  const auto n = ms.count();
  if (n != 0 && n % 3'600'000 == 0) return fmt::format("{}h", n / 3'600'000);
  if (n != 0 && n % 60'000 == 0) return fmt::format("{}m", n / 60'000);
  if (n % 1000 == 0) return fmt::format("{}s", n / 1000);
  return fmt::format("{}ms", n);
}

std::optional<std::chrono::milliseconds> get_duration(Diagnostics& d, const Node& n,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max) {
  std::optional<std::chrono::milliseconds> v;
  if (n->is_integer()) {
    const auto s = n->as_integer();
    if (s >= 0 && s <= 1'000'000'000) v = std::chrono::milliseconds(s * 1000);
  } else if (n->is_floating()) {
    const auto s = n->as_floating();
    if (std::isfinite(s) && s >= 0 && s <= 1e9) v = std::chrono::milliseconds(std::llround(s * 1000));
  } else if (n->is_string()) {
    v = parse_duration(n->as_string().str);
  } else {
    d.add(*n, n.path,
          fmt::format("expected a duration (seconds, or a string such as \"500ms\" or \"5s\"), got {}",
                      type_name(*n)));
    return std::nullopt;
  }
  if (!v) {
    d.add(*n, n.path,
          "expected a duration: seconds, or a string such as \"500ms\", \"5s\", \"2m\", \"1h\"");
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    d.add(*n, n.path,
          fmt::format("duration {} is out of range; expected {} to {}", format_duration(*v),
                      format_duration(min), format_duration(max)));
    return std::nullopt;
  }
  return v;
}

std::optional<model::IpAddress> get_address(Diagnostics& d, const Node& n) {
  auto s = get_string(d, n);
  if (!s) return std::nullopt;
  if (auto a = model::IpAddress::parse(*s)) return a;
  d.add(*n, n.path, fmt::format("\"{}\" is not an IPv4 or IPv6 address", *s));
  return std::nullopt;
}

std::optional<model::Prefix> get_prefix(Diagnostics& d, const Node& n) {
  auto s = get_string(d, n);
  if (!s) return std::nullopt;
  if (auto p = model::Prefix::parse(*s)) return p;
  d.add(*n, n.path,
        fmt::format("\"{}\" is not an address with an optional prefix length (192.0.2.10/24, "
                    "2001:db8::10/64)",
                    *s));
  return std::nullopt;
}

std::optional<std::vector<std::string>> get_string_list(Diagnostics& d, const Node& n) {
  if (n->is_string()) return std::vector<std::string>{n->as_string().str};
  if (!n->is_array()) {
    d.add(*n, n.path, fmt::format("expected a string or an array of strings, got {}", type_name(*n)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  std::size_t i = 0;
  for (const auto& e : n->as_array()) {
    auto s = get_string(d, Node{&e, fmt::format("{}[{}]", n.path, i++)});
    if (s) out.push_back(*s);
    ok = ok && s.has_value();
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<Node>> get_array(Diagnostics& d, const Node& n) {
  if (!n->is_array()) {
    d.add(*n, n.path, fmt::format("expected an array, got {}", type_name(*n)));
    return std::nullopt;
  }
  std::vector<Node> out;
  std::size_t i = 0;
  for (const auto& e : n->as_array()) out.push_back(Node{&e, fmt::format("{}[{}]", n.path, i++)});
  return out;
}

}  // namespace lvsd::config
