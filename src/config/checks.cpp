// Health-check tables: common timing keys plus the keys of each check type.
#include <regex>

#include "sections.hpp"

namespace lvsd::config {
namespace {

using namespace std::chrono_literals;
using model::CheckType;

constexpr std::string_view kCommonKeys[] = {"type", "interval", "timeout", "retry",
                                            "delay_before_retry", "rise", "fall", "warmup",
                                            "address", "port", "bind_address", "bind_interface"};
constexpr std::string_view kIcmpKeys[] = {"payload_size"};
constexpr std::string_view kHttpKeys[] = {"method", "host", "path", "status", "digest", "regex",
                                          "regex_bytes", "url", "max_redirects"};
constexpr std::string_view kTlsKeys[] = {"sni", "verify", "ca_file", "cert_file", "key_file"};
constexpr std::string_view kUrlKeys[] = {"path", "status", "digest", "regex", "regex_bytes"};
constexpr std::string_view kUdpKeys[] = {"payload", "expect"};
constexpr std::string_view kDnsKeys[] = {"name", "query_type", "expect"};
constexpr std::string_view kSmtpKeys[] = {"helo_name"};
constexpr std::string_view kScriptKeys[] = {"command", "user", "dynamic_weight"};
constexpr std::string_view kFileKeys[] = {"path"};
constexpr std::size_t kMaxRegex = 1024;

std::vector<std::string_view> keys_for(std::optional<CheckType> type) {
  std::vector<std::string_view> keys(std::begin(kCommonKeys), std::end(kCommonKeys));
  auto add = [&](std::span<const std::string_view> more) { keys.insert(keys.end(), more.begin(), more.end()); };
  if (!type) {  // unknown type: accept every key, the type error is the one worth reading
    for (auto k : {std::span<const std::string_view>(kIcmpKeys), std::span<const std::string_view>(kHttpKeys),
                   std::span<const std::string_view>(kTlsKeys), std::span<const std::string_view>(kUdpKeys),
                   std::span<const std::string_view>(kDnsKeys), std::span<const std::string_view>(kSmtpKeys),
                   std::span<const std::string_view>(kScriptKeys)})
      add(k);
    return keys;
  }
  switch (*type) {
    case CheckType::Icmp: add(kIcmpKeys); break;
    case CheckType::Tcp: break;
    case CheckType::Https: add(kTlsKeys); [[fallthrough]];
    case CheckType::Http: add(kHttpKeys); break;
    case CheckType::Udp: add(kUdpKeys); break;
    case CheckType::Dns: add(kDnsKeys); break;
    case CheckType::Smtp: add(kSmtpKeys); break;
    case CheckType::Script: add(kScriptKeys); break;
    case CheckType::File: add(kFileKeys); break;
  }
  return keys;
}

class CheckParser {
 public:
  explicit CheckParser(Diagnostics& d) : d_(d) {}

  std::optional<model::CheckSpec> run(const Node& node) {
    if (!node->is_table()) {
      d_.add(*node, node.path, fmt::format("expected a table, got {}", type_name(*node)));
      return std::nullopt;
    }
    const auto before = d_.size();
    std::optional<CheckType> type;
    const auto& tbl = node->as_table();
    const auto type_it = tbl.find("type");
    if (type_it == tbl.end()) {
      d_.add(*node, node.path, "missing key \"type\" (icmp, tcp, http, https, udp, dns, smtp, script or file)");
    } else {
      type = get_enum<CheckType>(d_, Node{&type_it->second, node.path + ".type"}, "check type");
    }
    const auto known = keys_for(type);
    const Table t(d_, node, known);
    if (!type) return std::nullopt;

    model::CheckSpec spec;
    spec.type = *type;
    parse_timing(d_, t, spec.timing);
    const Scope s(t);
    read_into(s, "address", spec.address, [&](const Node& n) { return get_address(d_, n); });
    read_into(s, "port", spec.port, [&](const Node& n) { return get_int(d_, n, 1, 65535); });
    read_into(s, "bind_address", spec.bind_address, [&](const Node& n) { return get_address(d_, n); });
    read_into(s, "bind_interface", spec.bind_interface, [&](const Node& n) { return get_nonempty_string(d_, n); });
    switch (*type) {
      case CheckType::Icmp: {
        model::IcmpCheck c;
        read_into(s, "payload_size", c.payload_size, [&](const Node& n) { return get_int(d_, n, 0, 65000); });
        spec.detail = c;
        if (spec.port) d_.add(**t.get("port"), t.key_path("port"), "an icmp check has no port");
        break;
      }
      case CheckType::Tcp: spec.detail = model::TcpCheck{}; break;
      case CheckType::Http:
      case CheckType::Https: spec.detail = http(t, *type == CheckType::Https); break;
      case CheckType::Udp: {
        model::UdpCheck c;
        read_into(s, "payload", c.payload, [&](const Node& n) { return get_string(d_, n); });
        read_into(s, "expect", c.expect, [&](const Node& n) { return get_regex(n); });
        spec.detail = c;
        break;
      }
      case CheckType::Dns: {
        model::DnsCheck c;
        read_into(s, "name", c.name, [&](const Node& n) { return get_dns_name(n); });
        read_into(s, "query_type", c.type, [&](const Node& n) { return get_enum<model::DnsType>(d_, n, "DNS query type"); });
        read_into(s, "expect", c.expect, [&](const Node& n) { return get_nonempty_string(d_, n); });
        spec.detail = c;
        break;
      }
      case CheckType::Smtp: {
        model::SmtpCheck c;
        read_into(s, "helo_name", c.helo_name, [&](const Node& n) { return get_dns_name(n); });
        spec.detail = c;
        break;
      }
      case CheckType::Script: spec.detail = script(t); break;
      case CheckType::File: {
        model::FileCheck c;
        if (auto p = t.get("path")) {
          read_into(s, "path", c.path, [&](const Node& n) { return get_path(n); });
        } else {
          d_.add(*node, node.path, "missing key \"path\" (the file that holds the weight)");
        }
        spec.detail = c;
        break;
      }
    }
    if (d_.size() != before) return std::nullopt;
    return spec;
  }

  model::ScriptCheck script(const Table& t) {
    model::ScriptCheck c;
    const Scope s(t);
    if (auto cmd = t.get("command")) {
      if (cmd->value->is_string()) {
        if (auto text = get_nonempty_string(d_, *cmd)) c.argv = {"/bin/sh", "-c", *text};
      } else if (auto argv = get_string_list(d_, *cmd)) {
        if (argv->empty() || argv->front().empty())
          d_.add(**cmd, cmd->path, "expected a command: a string for /bin/sh -c, or [program, args...]");
        c.argv = *argv;
      }
    } else {
      d_.add(*t.value(), t.path(), "missing key \"command\"");
    }
    read_into(s, "user", c.user, [&](const Node& n) { return get_nonempty_string(d_, n); });
    read_into(s, "dynamic_weight", c.dynamic_weight, [&](const Node& n) { return get_bool(d_, n); });
    return c;
  }

 private:
  std::optional<std::string> get_regex(const Node& n) {
    auto text = get_string(d_, n);
    if (!text) return std::nullopt;
    if (text->size() > kMaxRegex) {
      d_.add(*n, n.path, fmt::format("regular expression longer than {} characters", kMaxRegex));
      return std::nullopt;
    }
    try {
      std::regex re(*text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      d_.add(*n, n.path, fmt::format("invalid regular expression: {}", e.what()));
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> get_dns_name(const Node& n) {
    auto text = get_nonempty_string(d_, n);
    if (!text) return std::nullopt;
    bool ok = text->size() <= 253;
    for (char c : *text)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_');
    if (!ok) {
      d_.add(*n, n.path, fmt::format("\"{}\" is not a domain name", *text));
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::vector<model::StatusRange>> get_status(const Node& n) {
    std::vector<Node> items;
    if (n->is_array()) {
      auto arr = get_array(d_, n);
      if (!arr || arr->empty()) {
        if (arr) d_.add(*n, n.path, "expected at least one status code");
        return std::nullopt;
      }
      items = *arr;
    } else {
      items.push_back(n);
    }
    std::vector<model::StatusRange> out;
    bool ok = true;
    for (const auto& item : items) {
      if (item->is_integer()) {
        if (auto code = get_int(d_, item, 100, 599)) {
          out.push_back({static_cast<std::uint16_t>(*code), static_cast<std::uint16_t>(*code)});
          continue;
        }
      } else if (item->is_string()) {
        const auto& text = item->as_string().str;
        if (auto range = model::parse_status_range(text); range && text.find('-') != std::string::npos) {
          out.push_back(*range);
          continue;
        }
        d_.add(*item, item.path,
               fmt::format("\"{}\" is not a status range; expected \"200-299\" or a code such as 200", text));
      } else {
        d_.add(*item, item.path,
               fmt::format("expected a status code (200) or range (\"200-299\"), got {}", type_name(*item)));
      }
      ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<model::Digest> get_digest(const Node& n) {
    auto text = get_string(d_, n);
    if (!text) return std::nullopt;
    auto digest = model::parse_digest(*text);
    if (!digest)
      d_.add(*n, n.path,
             fmt::format("\"{}\" is not a digest; expected 32 hex digits (MD5, as genhash prints) or "
                         "64 (SHA-256), optionally prefixed \"md5:\" or \"sha256:\"", *text));
    return digest;
  }

  std::optional<std::string> get_path(const Node& n) {
    auto p = get_nonempty_string(d_, n);
    if (p && p->front() != '/') {
      d_.add(*n, n.path, fmt::format("\"{}\" is not an absolute path; expected one starting with /", *p));
      return std::nullopt;
    }
    return p;
  }

  // Fields of one URL read from a scope: the URL's own table, then the check's.
  void read_url(const Scope& s, model::HttpUrl& u) {
    read_into(s, "status", u.status, [&](const Node& n) { return get_status(n); });
    read_into(s, "digest", u.digest, [&](const Node& n) { return get_digest(n); });
    read_into(s, "regex", u.regex, [&](const Node& n) { return get_regex(n); });
    read_into(s, "regex_bytes", u.regex_bytes, [&](const Node& n) { return get_int(d_, n, 1, 16 << 20); });
  }

  model::HttpCheck http(const Table& t, bool tls) {
    model::HttpCheck c;
    const Scope s(t);
    read_into(s, "method", c.method, [&](const Node& n) { return get_enum<model::HttpMethod>(d_, n, "HTTP method"); });
    read_into(s, "host", c.host, [&](const Node& n) { return get_nonempty_string(d_, n); });
    read_into(s, "max_redirects", c.max_redirects, [&](const Node& n) { return get_int(d_, n, 0, 10); });
    const auto path = t.get("path");
    const auto url = t.get("url");
    c.urls.clear();
    if (path && url) {
      d_.add(**url, url->path, "set either \"path\" (one or more paths) or \"url\" (a table per path), not both");
    } else if (url) {
      if (auto dg = t.get("digest"))
        d_.add(**dg, dg->path, "a digest belongs to one path: set it in the url table of that path");
      if (auto items = get_array(d_, *url)) {
        if (items->empty()) d_.add(**url, url->path, "expected at least one url table");
        for (const auto& item : *items) {
          const Table ut(d_, item, kUrlKeys);
          if (!ut.value()) continue;
          model::HttpUrl u;
          if (auto p = ut.get("path")) {
            if (auto v = get_path(*p)) u.path = *v;
          } else {
            d_.add(*item, item.path, "missing key \"path\"");
          }
          read_url(Scope(ut, s), u);
          c.urls.push_back(u);
        }
      }
    } else {
      std::vector<std::string> paths{"/"};
      if (path) {
        if (auto list = get_string_list(d_, *path)) {
          paths = *list;
          if (paths.empty()) d_.add(**path, path->path, "expected at least one path");
          for (const auto& p : paths)
            if (p.empty() || p.front() != '/')
              d_.add(**path, path->path, fmt::format("\"{}\" is not an absolute path; expected one starting with /", p));
        }
      }
      if (paths.size() > 1)
        if (auto dg = t.get("digest"))
          d_.add(**dg, dg->path, "one digest cannot match several paths; give each path a [[...url]] table");
      for (const auto& p : paths) {
        model::HttpUrl u;
        u.path = p;
        read_url(s, u);
        c.urls.push_back(u);
      }
    }
    if (tls) {
      read_into(s, "sni", c.tls.sni, [&](const Node& n) { return get_dns_name(n); });
      read_into(s, "verify", c.tls.verify, [&](const Node& n) { return get_bool(d_, n); });
      read_into(s, "ca_file", c.tls.ca_file, [&](const Node& n) { return get_path(n); });
      read_into(s, "cert_file", c.tls.cert_file, [&](const Node& n) { return get_path(n); });
      read_into(s, "key_file", c.tls.key_file, [&](const Node& n) { return get_path(n); });
      if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
        const Node at = c.tls.cert_file.empty() ? *t.get("key_file") : *t.get("cert_file");
        d_.add(*at, at.path, "a client certificate needs both cert_file and key_file");
      }
    }
    return c;
  }

  Diagnostics& d_;
};

}  // namespace

void parse_timing(Diagnostics& d, const Table& t, model::CheckTiming& timing) {
  const Scope s(t);
  read_into(s, "interval", timing.interval, [&](const Node& n) { return get_duration(d, n, 10ms, 24h); });
  read_into(s, "timeout", timing.timeout, [&](const Node& n) { return get_duration(d, n, 1ms, 1h); });
  read_into(s, "retry", timing.retry, [&](const Node& n) { return get_int(d, n, 0, 100); });
  read_into(s, "delay_before_retry", timing.delay_before_retry,
            [&](const Node& n) { return get_duration(d, n, 0ms, 1h); });
  read_into(s, "rise", timing.rise, [&](const Node& n) { return get_int(d, n, 1, 1000); });
  read_into(s, "fall", timing.fall, [&](const Node& n) { return get_int(d, n, 1, 1000); });
  read_into(s, "warmup", timing.warmup, [&](const Node& n) { return get_duration(d, n, 0ms, 24h); });
  // An interval shorter than the default timeout shortens the timeout with it.
  if (!t.has("timeout") && timing.timeout > timing.interval) timing.timeout = timing.interval;
  if (timing.timeout > timing.interval) {
    const auto at = t.get("timeout") ? t.get("timeout") : t.get("interval");
    const auto& v = at ? *at->value : *t.value();
    d.add(v, at ? at->path : t.path(),
          fmt::format("timeout {} is longer than interval {}; attempts would overlap",
                      format_duration(timing.timeout), format_duration(timing.interval)));
  }
}

std::optional<model::CheckSpec> parse_check(Diagnostics& d, const Node& node) {
  return CheckParser(d).run(node);
}

std::vector<model::CheckSpec> parse_checks(Diagnostics& d, const Node& list) {
  std::vector<model::CheckSpec> out;
  auto items = get_array(d, list);
  if (!items) return out;
  for (const auto& item : *items)
    if (auto c = parse_check(d, item)) out.push_back(std::move(*c));
  return out;
}

model::ScriptCheck parse_script_command(Diagnostics& d, const Table& t) { return CheckParser(d).script(t); }

}  // namespace lvsd::config
