// Health-check specifications: what to probe, how often, and what counts as healthy.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "lvsd/model/address.hpp"

namespace lvsd::model {

using Millis = std::chrono::milliseconds;

enum class CheckType : std::uint8_t { Icmp, Tcp, Http, Https, Udp, Dns, Smtp, Script, File };

// Timing shared by every check type. A failed attempt is retried `retry` times,
// `delay_before_retry` apart, before it counts as one failure; `fall` consecutive failures
// mark the server down and `rise` consecutive successes mark it up.
struct CheckTiming {
  Millis interval{3000};
  Millis timeout{2000};
  std::uint32_t retry = 0;
  Millis delay_before_retry{1000};
  std::uint32_t rise = 2;
  std::uint32_t fall = 3;
  Millis warmup{0};  // the first check starts after a random delay in [0, warmup]

  bool operator==(const CheckTiming&) const = default;
  auto fields() const {
    return std::tie(interval, timeout, retry, delay_before_retry, rise, fall, warmup);
  }
};

struct IcmpCheck {
  std::uint16_t payload_size = 56;
  bool operator==(const IcmpCheck&) const = default;
  auto fields() const { return std::tie(payload_size); }
};

struct TcpCheck {
  bool operator==(const TcpCheck&) const = default;
  auto fields() const { return std::tuple<>(); }
};

// One inclusive range of acceptable HTTP status codes (200, or 200-299).
struct StatusRange {
  std::uint16_t low = 200;
  std::uint16_t high = 200;
  bool operator==(const StatusRange&) const = default;
  auto fields() const { return std::tie(low, high); }
};

// "200" or "200-299", codes from 100 to 599, low <= high; nullopt for anything else.
std::optional<StatusRange> parse_status_range(std::string_view text);

enum class DigestAlgorithm : std::uint8_t { Md5, Sha256 };

struct Digest {
  DigestAlgorithm algorithm = DigestAlgorithm::Md5;
  std::string hex;  // lower case, 32 (MD5) or 64 (SHA-256) digits
  bool operator==(const Digest&) const = default;
  auto fields() const { return std::tie(algorithm, hex); }
};

// 32 hex digits (MD5, as genhash prints) or 64 (SHA-256), optionally prefixed "md5:" or
// "sha256:", in any case; nullopt for anything else.
std::optional<Digest> parse_digest(std::string_view text);

// One path of an HTTP check; every path of a check must pass.
struct HttpUrl {
  std::string path = "/";
  std::vector<StatusRange> status{StatusRange{}};
  std::optional<Digest> digest;
  std::string regex;                 // empty: no body match
  std::uint32_t regex_bytes = 65536;  // how much of the body the regex sees
  bool operator==(const HttpUrl&) const = default;
  auto fields() const { return std::tie(path, status, digest, regex, regex_bytes); }
};

enum class HttpMethod : std::uint8_t { Get, Head };

struct TlsOptions {
  std::string sni;            // empty: the Host header's name, if any
  bool verify = false;        // verify the server's certificate chain and name
  std::string ca_file;        // empty: the system store
  std::string cert_file;      // client certificate
  std::string key_file;       // its key
  bool operator==(const TlsOptions&) const = default;
  auto fields() const { return std::tie(sni, verify, ca_file, cert_file, key_file); }
};

// http and https; `tls` is used by https only.
struct HttpCheck {
  HttpMethod method = HttpMethod::Get;
  std::string host;  // Host header; empty: the real server's address
  std::vector<HttpUrl> urls{HttpUrl{}};
  std::uint32_t max_redirects = 0;  // 0: a redirect is judged by its own status
  TlsOptions tls;
  bool operator==(const HttpCheck&) const = default;
  auto fields() const { return std::tie(method, host, urls, max_redirects, tls); }
};

struct UdpCheck {
  std::string payload;  // bytes sent
  std::string expect;   // regex the reply must match; empty: any reply
  bool operator==(const UdpCheck&) const = default;
  auto fields() const { return std::tie(payload, expect); }
};

enum class DnsType : std::uint16_t {
  A = 1, Ns = 2, Cname = 5, Soa = 6, Ptr = 12, Mx = 15, Txt = 16, Aaaa = 28, Srv = 33, Any = 255
};

struct DnsCheck {
  std::string name = ".";
  DnsType type = DnsType::Soa;
  std::string expect;  // an answer that must be present (address or name); empty: any NOERROR
  bool operator==(const DnsCheck&) const = default;
  auto fields() const { return std::tie(name, type, expect); }
};

struct SmtpCheck {
  std::string helo_name = "lvsd";
  bool operator==(const SmtpCheck&) const = default;
  auto fields() const { return std::tie(helo_name); }
};

// A command whose exit status is the verdict: 0 up, 1 down, 2-255 weight = status - 2
// when dynamic_weight is set.
struct ScriptCheck {
  std::vector<std::string> argv;  // a config string becomes {"/bin/sh", "-c", string}
  std::string user;               // empty: the global script_user
  bool dynamic_weight = false;
  bool operator==(const ScriptCheck&) const = default;
  auto fields() const { return std::tie(argv, user, dynamic_weight); }
};

// A file holding a number: the weight; 0 means down.
struct FileCheck {
  std::string path;
  bool operator==(const FileCheck&) const = default;
  auto fields() const { return std::tie(path); }
};

using CheckDetail =
    std::variant<IcmpCheck, TcpCheck, HttpCheck, UdpCheck, DnsCheck, SmtpCheck, ScriptCheck, FileCheck>;

struct CheckSpec {
  CheckType type = CheckType::Tcp;
  CheckTiming timing;
  std::optional<IpAddress> address;   // probe this address instead of the real server's
  std::optional<std::uint16_t> port;  // probe this port instead of the real server's
  std::optional<IpAddress> bind_address;
  std::string bind_interface;
  CheckDetail detail = TcpCheck{};

  bool operator==(const CheckSpec&) const = default;
  auto fields() const {
    return std::tie(type, timing, address, port, bind_address, bind_interface, detail);
  }
};

}  // namespace lvsd::model
