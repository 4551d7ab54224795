// lvsctl probe: parse the target, resolve it, run the matching prober once, print.
#include "probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

#include <charconv>

#include "lvsd/check/http_prober.hpp"
#include "lvsd/check/icmp_prober.hpp"
#include "lvsd/check/runner.hpp"
#include "lvsd/check/tcp_prober.hpp"
#include "lvsd/model/names.hpp"

namespace lvsd::cli {

std::optional<ProbeTarget> parse_probe_target(std::string_view text, std::string& error) {
  ProbeTarget t;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    error = fmt::format("\"{}\" is not a target; expected http://host[:port]/path, https://..., tcp://host:port "
                        "or icmp://host", text);
    return std::nullopt;
  }
  const auto scheme = text.substr(0, scheme_end);
  if (scheme == "http") t.type = model::CheckType::Http, t.port = 80;
  else if (scheme == "https") t.type = model::CheckType::Https, t.port = 443;
  else if (scheme == "tcp") t.type = model::CheckType::Tcp;
  else if (scheme == "icmp") t.type = model::CheckType::Icmp;
  else {
    error = fmt::format("unknown scheme \"{}\"; expected http, https, tcp or icmp", scheme);
    return std::nullopt;
  }
  auto rest = text.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (t.type != model::CheckType::Http && t.type != model::CheckType::Https) {
      error = fmt::format("a {} target has no path", scheme);
      return std::nullopt;
    }
    t.path = std::string(rest.substr(slash));
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 address in brackets lacks its ']'";
      return std::nullopt;
    }
    t.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') port_text = after.substr(1);
    else if (!after.empty()) {
      error = fmt::format("unexpected \"{}\" after the address", after);
      return std::nullopt;
    }
  } else {
    const auto colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (t.host.empty()) {
    error = "no host";
    return std::nullopt;
  }
  if (!port_text.empty() || authority.find(':') != std::string_view::npos) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      error = fmt::format("bad port \"{}\"", port_text);
      return std::nullopt;
    }
    if (t.type == model::CheckType::Icmp) {
      error = "an icmp target has no port";
      return std::nullopt;
    }
    t.port = static_cast<std::uint16_t>(port);
  }
  if (t.type == model::CheckType::Tcp && t.port == 0) {
    error = "a tcp target needs a port: tcp://host:port";
    return std::nullopt;
  }
  return t;
}

namespace {

// The host's first address: itself when it is one, else the resolver's first answer.
std::optional<model::IpAddress> resolve(const std::string& host) {
  if (auto a = model::IpAddress::parse(host)) return a;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) return std::nullopt;
  return model::IpAddress::parse(results.begin()->endpoint().address().to_string());
}

}  // namespace

int run_probe(const ProbeTarget& t, model::Millis timeout) {
  const auto address = resolve(t.host);
  if (!address) {
    fmt::print(stderr, "lvsctl: cannot resolve {}\n", t.host);
    return 2;
  }
  boost::asio::io_context io;
  check::Target target;
  target.endpoint = {*address, t.port};
  std::unique_ptr<check::Prober> prober;
  check::HttpProber* http = nullptr;
  std::optional<check::IcmpSockets> icmp;
  std::optional<check::TcpConnector> tcp;
  switch (t.type) {
    case model::CheckType::Http:
    case model::CheckType::Https: {
      model::HttpCheck spec;
      spec.host = model::IpAddress::parse(t.host) ? "" : t.host;
      model::HttpUrl url;
      url.path = t.path;
      url.status = t.status;
      url.digest = t.digest;
      spec.urls = {url};
      auto p = std::make_unique<check::HttpProber>(spec, t.type == model::CheckType::Https);
      p->keep_views(true);
      http = p.get();
      prober = std::move(p);
      break;
    }
    case model::CheckType::Icmp:
      icmp.emplace(io.get_executor());
      prober = std::make_unique<check::IcmpProber>(*icmp, model::IcmpCheck{});
      break;
    default:
      tcp.emplace(io.get_executor());
      prober = std::make_unique<check::TcpProber>(*tcp);
      break;
  }
  std::optional<check::Result> result;
  boost::asio::co_spawn(io, check::attempt(*prober, target, timeout), [&](std::exception_ptr e, check::Result r) {
    if (e) std::rethrow_exception(e);
    result = std::move(r);
  });
  io.run();
  const std::string where = t.type == model::CheckType::Icmp ? address->to_string() : target.endpoint.to_string();
  fmt::print("{} {}: {}, {}, {:.1f} ms\n", model::name_of(t.type), where, result->up ? "up" : "down", result->reason,
             static_cast<double>(result->latency.count()) / 1000.0);
  if (http)
    for (const auto& v : http->views()) {
      fmt::print("  {}: status {}, {} bytes\n", v.path, v.status, v.length);
      fmt::print("  md5    {}   (digest = \"{}\")\n", v.md5, v.md5);
      fmt::print("  sha256 {}   (digest = \"sha256:{}\")\n", v.sha256, v.sha256);
    }
  return result->up ? 0 : 1;
}

}  // namespace lvsd::cli
