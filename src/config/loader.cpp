// Reads lvsd.toml and its includes, then hands each section to its parser.
#include <glob.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lvsd/config/config.hpp"
#include "sections.hpp"

namespace lvsd::config {
namespace {

constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
constexpr int kMaxIncludeDepth = 8;
constexpr int kMaxNesting = 64;

constexpr std::string_view kRootKeys[] = {"include", "global", "ipvs", "defaults", "virtual_server",
                                          "vrrp", "vrrp_instance", "vrrp_sync_group"};
constexpr std::string_view kIncludedKeys[] = {"include", "virtual_server", "vrrp_instance",
                                              "vrrp_sync_group"};
constexpr std::string_view kGlobalKeys[] = {"router_id", "script_user", "control_socket",
                                            "control_group", "log_level"};
constexpr std::string_view kIpvsKeys[] = {"manage", "reconcile_interval", "on_exit", "timeouts",
                                          "sync_daemon"};
constexpr std::string_view kTimeoutKeys[] = {"tcp", "tcp_fin", "udp"};
constexpr std::string_view kSyncDaemonKeys[] = {"role", "interface", "sync_id", "max_len", "group", "port", "ttl"};
constexpr std::string_view kVrrpKeys[] = {"notify_fifo"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};

struct Document {
  std::string file;
  toml::value root;
  bool main = false;
};

// What one pass over the text finds before toml11 sees it:
// - nesting deeper than kMaxNesting (toml11 recurses once per level of arrays and inline
//   tables, so absurd depths would exhaust the stack);
// - where each top-level [[virtual_server]] header starts. toml11 3.7 spends time
//   proportional to the position in the file on every token it tries, so one file of 100,000
//   real servers would take minutes; parsed as one chunk per virtual server it takes a second.
struct Scan {
  std::optional<Place> too_deep;
  std::vector<std::pair<std::size_t, int>> chunks{{0, 0}};  // byte offset, lines before it
};

bool is_virtual_server_header(std::string_view line) {
  auto skip = [&] {
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  };
  auto take = [&](std::string_view word) {
    skip();
    if (line.substr(0, word.size()) != word) return false;
    line.remove_prefix(word.size());
    return true;
  };
  return take("[[") && take("virtual_server") && take("]]");
}

Scan scan(std::string_view text, const std::string& file) {
  enum class In { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral };
  Scan out;
  In in = In::Code;
  int depth = 0, line = 1, column = 0;
  auto triple = [&](std::size_t i, char q) {
    return i + 2 < text.size() && text[i] == q && text[i + 1] == q && text[i + 2] == q;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (column == 0 && in == In::Code && depth == 0 && i > 0 &&
        is_virtual_server_header(text.substr(i, text.find('\n', i) - i)))
      out.chunks.emplace_back(i, line - 1);
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      if (in == In::Comment || in == In::Basic || in == In::Literal) in = In::Code;
      continue;
    }
    switch (in) {
      case In::Comment: break;
      case In::Basic:
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column;
        else if (c == '"') in = In::Code;
        break;
      case In::Literal:
        if (c == '\'') in = In::Code;
        break;
      case In::MultiBasic:
        if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column;
        else if (triple(i, '"')) { in = In::Code; i += 2; column += 2; }
        break;
      case In::MultiLiteral:
        if (triple(i, '\'')) { in = In::Code; i += 2; column += 2; }
        break;
      case In::Code:
        if (c == '#') in = In::Comment;
        else if (triple(i, '"')) { in = In::MultiBasic; i += 2; column += 2; }
        else if (triple(i, '\'')) { in = In::MultiLiteral; i += 2; column += 2; }
        else if (c == '"') in = In::Basic;
        else if (c == '\'') in = In::Literal;
        else if (c == '[' || c == '{') {
          if (++depth > kMaxNesting) {
            out.too_deep = Place{file, line, column};
            return out;
          }
        } else if (c == ']' || c == '}') {
          depth = depth > 0 ? depth - 1 : 0;
        }
        break;
    }
  }
  return out;
}

// Where the text stops being UTF-8 (npos when it is valid). TOML files are UTF-8, and
// toml11 3.7 reads past its buffer when it reports bad UTF-8 inside a literal string, so the
// loader reports it first.
std::size_t invalid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
    else return i;
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;  // overlong, too big, surrogate
    i += len;
  }
  return std::string_view::npos;
}

Place place_at(std::string_view text, std::size_t offset, const std::string& file) {
  const auto before = text.substr(0, offset);
  const auto line = static_cast<int>(std::count(before.begin(), before.end(), '\n')) + 1;
  const auto line_start = before.rfind('\n');
  const auto column = static_cast<int>(offset - (line_start == std::string_view::npos ? 0 : line_start + 1)) + 1;
  return Place{file, line, column};
}

// An array made by [[name]] headers (as opposed to `name = [...]`), which TOML lets later
// headers extend.
bool is_array_of_tables(const toml::value& v) {
  if (!v.is_array()) return false;
  const auto line = v.location().line_str();
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos && line.compare(first, 2, "[[") == 0;
}

// A table that a [header] line made, itself or one of its sub-tables (rather than `name = {...}`
// or a dotted key), which TOML lets a later header add keys to.
bool made_by_header(const toml::value& v) {
  const auto line = v.location().line_str();
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos && line[first] == '[';
}

// The name in the [header] (not [[header]]) line where a table stands, spaces around its dots
// removed; "" when its line is no such header. Equal to the table's own path when the header
// defined it explicitly rather than as the parent of a sub-table.
std::string header_name(const toml::value& v) {
  const auto line = v.location().line_str();
  const auto open = line.find_first_not_of(" \t");
  if (open == std::string::npos || line[open] != '[' || line.compare(open, 2, "[[") == 0) return "";
  const auto close = line.find(']', open);
  if (close == std::string::npos) return "";
  std::string name;
  for (const char c : line.substr(open + 1, close - open - 1))
    if (c != ' ' && c != '\t') name += c;
  return name;
}

// "[error] toml::parse_array: value having invalid format appeared in an array\n ... ^--- x"
// → "value having invalid format appeared in an array: x"
std::string syntax_message(const std::string& what) {
  std::istringstream in(what);
  std::string first, line, last_hint;
  std::getline(in, first);
  while (std::getline(in, line)) {
    const auto caret = line.find("^---");
    if (caret != std::string::npos) last_hint = line.substr(caret + 4);
  }
  auto strip = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t.");
    return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
  };
  if (first.rfind("[error] ", 0) == 0) first.erase(0, 8);
  if (first.rfind("toml::", 0) == 0) {
    const auto colon = first.find(": ");
    if (colon != std::string::npos) first.erase(0, colon + 2);
  }
  first = strip(first);
  last_hint = strip(last_hint);
  if (!last_hint.empty() && last_hint != first) first += ": " + last_hint;
  return "syntax error: " + first;
}

class Loader {
 public:
  explicit Loader(Diagnostics& d) : d_(d) {}

  void load_text(std::string_view text, const std::string& name, const std::string& base_dir,
                 bool main, int depth) {
    if (text.size() > kMaxFileBytes) {
      d_.add(Place{name, 0, 0}, "", "file is larger than 16 MiB");
      return;
    }
    if (const auto bad = invalid_utf8(text); bad != std::string_view::npos) {
      d_.add(place_at(text, bad, name), "", "syntax error: invalid UTF-8 (a TOML file is UTF-8 text)");
      return;
    }
    const auto sc = scan(text, name);
    if (sc.too_deep) {
      d_.add(*sc.too_deep, "", fmt::format("arrays and tables nested more than {} deep", kMaxNesting));
      return;
    }
    Document doc{name, toml::table{}, main};
    for (std::size_t k = 0; k < sc.chunks.size(); ++k) {
      const auto [begin, lines_before] = sc.chunks[k];
      const auto end = k + 1 < sc.chunks.size() ? sc.chunks[k + 1].first : text.size();
      toml::value chunk;
      try {
        std::istringstream in{std::string(text.substr(begin, end - begin))};
        chunk = toml::parse(in, chunk_name(name, lines_before));
      } catch (const toml::syntax_error& e) {
        const auto loc = e.location();
        d_.add(Place{name, static_cast<int>(loc.line()) + lines_before, static_cast<int>(loc.column())}, "",
               syntax_message(e.what()));
        return;
      } catch (const std::exception& e) {
        d_.add(Place{name, 0, 0}, "", fmt::format("cannot parse: {}", e.what()));
        return;
      }
      if (!merge(doc.root, chunk)) return;
    }
    const Table root(d_, Node{&doc.root, ""}, kRootKeys);
    if (!main) reject_main_only(doc.root);
    if (auto inc = root.get("include")) {
      if (auto patterns = get_string_list(d_, *inc)) {
        // Each element's node, for its place in errors.
        for (std::size_t i = 0; i < patterns->size(); ++i) {
          const toml::value& at = inc->value->is_array() ? inc->value->as_array()[i] : *inc->value;
          include((*patterns)[i], at, inc->path, base_dir, depth);
        }
      }
    }
    docs_.push_back(std::move(doc));
  }

  void load_path(const std::string& path, int depth, bool main) {
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    const std::string key = ec ? path : canonical.string();
    if (!seen_.insert(key).second) return;  // a file included twice is read once
    if (std::filesystem::is_directory(path, ec)) {
      d_.add(Place{path, 0, 0}, "", "is a directory, not a configuration file");
      return;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      d_.add(Place{path, 0, 0}, "", fmt::format("cannot open: {}", std::strerror(errno)));
      return;
    }
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      text.append(buf, static_cast<std::size_t>(in.gcount()));
      if (text.size() > kMaxFileBytes) break;
    }
    if (in.bad()) {
      d_.add(Place{path, 0, 0}, "", fmt::format("cannot read: {}", std::strerror(errno)));
      return;
    }
    const auto dir = std::filesystem::path(path).parent_path().string();
    load_text(text, path, dir.empty() ? "." : dir, main, depth);
  }

  void mark_seen(const std::string& path) {
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(path, ec);
    seen_.insert(ec ? path : canonical.string());
  }

  std::vector<Document>& docs() { return docs_; }

 private:
  // Adds a chunk's top-level keys to the document as TOML would have read them in one piece:
  // [[arrays]] continue, anything else defined twice is the error toml11 would have given.
  // Adds a chunk's keys to what the chunks before it defined, as one TOML document would:
  // a [[name]] array grows; a table made by headers in both ([ipvs] in one, [[ipvs.sync_daemon]]
  // in a later one) takes the keys of both, unless both define it by its own [name] header;
  // anything else defined twice is an error.
  bool merge(toml::value& root, toml::value& chunk, const std::string& path = "") {
    auto& into = root.as_table();
    for (auto& [key, value] : chunk.as_table()) {
      auto it = into.find(key);
      const std::string name = path.empty() ? key : path + "." + key;
      if (it == into.end()) {
        into.emplace(key, std::move(value));
      } else if (is_array_of_tables(it->second) && is_array_of_tables(value)) {
        auto& array = it->second.as_array();
        for (auto& e : value.as_array()) array.push_back(std::move(e));
      } else if (it->second.is_table() && value.is_table() && made_by_header(it->second) && made_by_header(value) &&
                 !(header_name(it->second) == name && header_name(value) == name)) {
        if (!merge(it->second, value, name)) return false;
      } else {
        d_.add(key_place(value, key), name,
               fmt::format("syntax error: \"{}\" is already defined at {}", name,
                           place_of(it->second).to_string()));
        return false;
      }
    }
    return true;
  }

  // [global], [ipvs], [defaults] and [vrrp] belong to the main file alone.
  void reject_main_only(const toml::value& root) {
    for (const auto& [key, value] : root.as_table()) {
      const bool known = std::find(std::begin(kRootKeys), std::end(kRootKeys), key) != std::end(kRootKeys);
      const bool allowed =
          std::find(std::begin(kIncludedKeys), std::end(kIncludedKeys), key) != std::end(kIncludedKeys);
      if (known && !allowed)
        d_.add(key_place(value, key), key, "may only be set in the main file, not in an included file");
    }
  }


  void include(const std::string& pattern, const toml::value& at, const std::string& key,
               const std::string& base_dir, int depth) {
    if (depth >= kMaxIncludeDepth) {
      d_.add(at, key, fmt::format("includes nested more than {} deep", kMaxIncludeDepth));
      return;
    }
    if (pattern.empty() || pattern.find('\0') != std::string::npos) {
      d_.add(at, key, "expected a file name or glob pattern");
      return;
    }
    const std::string full =
        std::filesystem::path(pattern).is_absolute() ? pattern : base_dir + "/" + pattern;
    glob_t g{};
    const int rc = ::glob(full.c_str(), GLOB_ERR, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0)
      for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (files.empty()) {
      d_.add(at, key, fmt::format("\"{}\" matches no file (looked for {})", pattern, full));
      return;
    }
    for (const auto& f : files) {
      if (std::filesystem::is_directory(f)) continue;
      load_path(f, depth + 1, false);
    }
  }

  Diagnostics& d_;
  std::vector<Document> docs_;
  std::set<std::string> seen_;
};

void parse_globals(Diagnostics& d, const Node& n, model::Globals& g) {
  const Table t(d, n, kGlobalKeys);
  const Scope s(t);
  read_into(s, "router_id", g.router_id, [&](const Node& v) { return get_nonempty_string(d, v); });
  read_into(s, "script_user", g.script_user, [&](const Node& v) { return get_nonempty_string(d, v); });
  read_into(s, "control_socket", g.control_socket, [&](const Node& v) -> std::optional<std::string> {
    auto p = get_nonempty_string(d, v);
    if (p && p->front() != '/') {
      d.add(*v, v.path, "expected an absolute path");
      return std::nullopt;
    }
    return p;
  });
  read_into(s, "control_group", g.control_group, [&](const Node& v) { return get_nonempty_string(d, v); });
  read_into(s, "log_level", g.log_level, [&](const Node& v) -> std::optional<std::string> {
    auto level = get_string(d, v);
    if (!level) return std::nullopt;
    for (auto l : kLogLevels)
      if (l == *level) return level;
    d.add(*v, v.path,
          fmt::format("unknown log level \"{}\"; expected one of trace, debug, info, warn, error{}",
                      *level, did_you_mean(*level, kLogLevels)));
    return std::nullopt;
  });
}

void parse_ipvs(Diagnostics& d, const Node& n, model::IpvsSettings& ipvs) {
  using namespace std::chrono_literals;
  const Table t(d, n, kIpvsKeys);
  const Scope s(t);
  read_into(s, "manage", ipvs.manage,
            [&](const Node& v) { return get_enum<model::Ownership>(d, v, "ownership"); });
  read_into(s, "reconcile_interval", ipvs.reconcile_interval,
            [&](const Node& v) { return get_duration(d, v, 100ms, 3600s); });
  read_into(s, "on_exit", ipvs.on_exit,
            [&](const Node& v) { return get_enum<model::OnExit>(d, v, "on_exit action"); });
  if (auto tn = t.get("timeouts")) {
    const Table tt(d, *tn, kTimeoutKeys);
    const Scope ts(tt);
    auto secs = [&](const Node& v) -> std::optional<std::chrono::seconds> {
      auto ms = get_duration(d, v, 0s, std::chrono::seconds(INT_MAX / 1000));
      if (!ms) return std::nullopt;
      if (ms->count() % 1000 != 0) {
        d.add(*v, v.path, "the kernel keeps IPVS timeouts in whole seconds");
        return std::nullopt;
      }
      return std::chrono::duration_cast<std::chrono::seconds>(*ms);
    };
    read_into(ts, "tcp", ipvs.timeouts.tcp, secs);
    read_into(ts, "tcp_fin", ipvs.timeouts.tcp_fin, secs);
    read_into(ts, "udp", ipvs.timeouts.udp, secs);
  }
  if (auto sn = t.get("sync_daemon")) {
    if (auto items = get_array(d, *sn)) {
      bool roles[2] = {false, false};
      for (const auto& item : *items) {
        const Table st(d, item, kSyncDaemonKeys);
        const Scope ss(st);
        model::SyncDaemon sd;
        auto role = ss.find("role");
        auto itf = ss.find("interface");
        if (!role) d.add(*item, item.path, "missing key \"role\" (\"master\" or \"backup\")");
        if (!itf) d.add(*item, item.path, "missing key \"interface\"");
        read_into(ss, "role", sd.role, [&](const Node& v) { return get_enum<model::SyncRole>(d, v, "sync role"); });
        read_into(ss, "interface", sd.interface, [&](const Node& v) { return get_nonempty_string(d, v); });
        read_into(ss, "sync_id", sd.sync_id, [&](const Node& v) { return get_int(d, v, 0, 255); });
        // ipvsadm's limits: --sync-maxlen 1..65507 (a UDP payload), --mcast-ttl 1..255.
        read_into(ss, "max_len", sd.max_len, [&](const Node& v) { return get_int(d, v, 1, 65507); });
        read_into(ss, "port", sd.port, [&](const Node& v) { return get_int(d, v, 1, 65535); });
        read_into(ss, "ttl", sd.ttl, [&](const Node& v) { return get_int(d, v, 1, 255); });
        if (auto g = ss.find("group")) {
          if (auto group = get_address(d, *g)) {
            if (!group->is_multicast())
              d.add(**g, g->path, fmt::format("{} is not a multicast address", group->to_string()));
            else
              sd.group = group;
          }
        }
        // The kernel clamps max_len (ip_vs_sync.c: start_sync_thread) and would then report a
        // value other than the declared one, on every pass.
        if (auto m = ss.find("max_len")) {
          const bool v6 = sd.group && sd.group->is_v6();
          if (sd.role == model::SyncRole::Backup && sd.max_len != 0 && sd.max_len < 1024)
            d.add(**m, m->path, fmt::format("max_len {} is below 1024, the least a backup sync daemon takes",
                                            sd.max_len));
          if (v6 && sd.max_len > 65487)
            d.add(**m, m->path, fmt::format("max_len {} is above 65487, the most with an IPv6 group "
                                            "(65535 less the IPv6 and UDP headers)", sd.max_len));
        }
        if (role && roles[static_cast<int>(sd.role)])
          d.add(**role, role->path, fmt::format("a second {} sync daemon; the kernel runs one of each",
                                                model::name_of(sd.role)));
        if (role) roles[static_cast<int>(sd.role)] = true;
        ipvs.sync_daemons.push_back(sd);
      }
    }
  }
}

void parse_vrrp_settings(Diagnostics& d, const Node& n, model::VrrpSettings& v) {
  const Table t(d, n, kVrrpKeys);
  const Scope s(t);
  read_into(s, "notify_fifo", v.notify_fifo, [&](const Node& x) { return get_nonempty_string(d, x); });
}

Result finish(Diagnostics& d, Loader& loader) {
  model::Desired desired;
  std::optional<Node> defaults;
  std::vector<Node> vs_nodes, vrrp_nodes, group_nodes;
  for (auto& doc : loader.docs()) {
    if (!doc.root.is_table()) continue;
    const auto& root = doc.root.as_table();
    auto section = [&](const char* key) -> std::optional<Node> {
      auto it = root.find(key);
      if (it == root.end()) return std::nullopt;
      return Node{&it->second, key};
    };
    auto collect = [&](const char* key, std::vector<Node>& out) {
      if (auto n = section(key)) {
        if (!n->value->is_array()) {
          d.add(**n, key, fmt::format("expected an array of tables ([[{}]]), got {}", key, type_name(**n)));
          return;
        }
        std::size_t i = 0;
        for (const auto& e : n->value->as_array()) out.push_back(Node{&e, fmt::format("{}[{}]", key, i++)});
      }
    };
    if (doc.main) {
      if (auto n = section("global")) parse_globals(d, *n, desired.globals);
      if (auto n = section("ipvs")) parse_ipvs(d, *n, desired.ipvs);
      if (auto n = section("vrrp")) parse_vrrp_settings(d, *n, desired.vrrp);
      defaults = section("defaults");
    }
    collect("virtual_server", vs_nodes);
    collect("vrrp_instance", vrrp_nodes);
    collect("vrrp_sync_group", group_nodes);
  }
  desired.virtual_servers = parse_virtual_servers(d, vs_nodes, defaults);
  desired.vrrp_instances = parse_vrrp_instances(d, vrrp_nodes);
  desired.sync_groups = parse_sync_groups(d, group_nodes, desired.vrrp_instances);

  Result r;
  if (d.empty()) r.desired = std::move(desired);
  r.errors = d.take();
  return r;
}

}  // namespace

Result load_file(const std::string& path) {
  Diagnostics d;
  Loader loader(d);
  loader.load_path(path, 0, true);
  return finish(d, loader);
}

Result load_string(std::string_view text, const std::string& name, const std::string& base_dir) {
  Diagnostics d;
  Loader loader(d);
  loader.mark_seen(base_dir + "/" + name);
  loader.load_text(text, name, base_dir, true, 0);
  return finish(d, loader);
}

}  // namespace lvsd::config
