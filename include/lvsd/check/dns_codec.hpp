// DNS messages as the DNS check needs them: a query out, a reply in (RFC 1035 wire format).
#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check::dns {

// A failure is the reason in words ("name pointer out of bounds"), never an exception.
template <class T>
using Decoded = boost::system::result<T, std::string>;

// Names are in presentation form with the final dot: "mail.example.org.", the root ".".
// A label byte that is a dot, a backslash or not printable is written \DDD.

struct Question {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 1;  // IN
  bool operator==(const Question&) const = default;
};

struct NameData {  // CNAME, NS, PTR
  std::string name;
  bool operator==(const NameData&) const = default;
};
struct MxData {
  std::uint16_t preference = 0;
  std::string exchange;
  bool operator==(const MxData&) const = default;
};
struct TxtData {
  std::vector<std::string> strings;
  bool operator==(const TxtData&) const = default;
};
struct SoaData {
  std::string mname;
  std::string rname;
  std::uint32_t serial = 0;
  std::uint32_t refresh = 0;
  std::uint32_t retry = 0;
  std::uint32_t expire = 0;
  std::uint32_t minimum = 0;
  bool operator==(const SoaData&) const = default;
};
struct SrvData {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;
  bool operator==(const SrvData&) const = default;
};
struct OpaqueData {  // a type we do not read: its bytes as they came
  std::vector<std::uint8_t> bytes;
  bool operator==(const OpaqueData&) const = default;
};
// A and AAAA are an IpAddress.
using Rdata = std::variant<model::IpAddress, NameData, MxData, TxtData, SoaData, SrvData, OpaqueData>;

struct Record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 1;
  std::uint32_t ttl = 0;
  Rdata data;
  bool operator==(const Record&) const = default;
};

struct Message {
  std::uint16_t id = 0;
  bool qr = false;  // a reply
  std::uint8_t opcode = 0;
  bool aa = false;
  bool tc = false;  // truncated: the full answer needs TCP
  bool rd = false;
  bool ra = false;
  std::uint8_t rcode = 0;  // the header's 4 bits (no EDNS extension)
  std::vector<Question> questions;
  std::vector<Record> answers;  // the answer section only; authority and additional are skipped
  bool operator==(const Message&) const = default;
};

// A query with one question, RD set, class IN. Fails for a name with an empty label (other
// than the root's), a label longer than 63 bytes or more than 255 bytes on the wire.
Decoded<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name, model::DnsType type);

// Every length and pointer is checked against the packet: a malformed one is an error.
// Compression pointers must point backwards, so a loop cannot be written.
Decoded<Message> decode(std::span<const std::uint8_t> packet);

// Whether two names are one: ASCII case aside, the final dot optional.
bool same_name(std::string_view a, std::string_view b);

// "NOERROR", "SERVFAIL", "NXDOMAIN", …; "RCODE 12" for one without a name.
std::string rcode_name(std::uint8_t rcode);

// The record's data in zone-file form: "192.0.2.1", "10 mail.example.org.",
// "\"v=spf1 -all\"", "ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 300",
// "0 5 5060 sip.example.org.", "\\# 2 abcd" (RFC 3597) for other types.
std::string to_text(const Rdata& data);

// Whether `expect` names this record's data: an address equal to an A/AAAA answer, a name
// equal (case aside, final dot optional) to a CNAME/NS/PTR, the exchange of an MX, the
// target of an SRV or the primary server of an SOA, one of a TXT's strings, or the
// record's whole to_text().
bool matches(const Record& record, std::string_view expect);

}  // namespace lvsd::check::dns
