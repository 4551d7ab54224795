// The DNS wire format: one query out, a reply read with every length and pointer checked.
#include "lvsd/check/dns_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace lvsd::check::dns {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxNameWire = 255;  // RFC 1035 3.1, the final zero byte included
constexpr std::size_t kMaxLabel = 63;

constexpr std::uint16_t kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6, kTypePtr = 12, kTypeMx = 15,
                        kTypeTxt = 16, kTypeAaaa = 28, kTypeSrv = 33;

template <class T>
Decoded<T> error(std::string what) {
  return Decoded<T>(boost::system::in_place_error, std::move(what));
}

// Reads from [pos, end) of the packet; every read checks that the bytes are there.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> packet) : packet_(packet), end_(packet.size()) {}

  std::size_t pos() const { return pos_; }
  std::size_t end() const { return end_; }
  void set_end(std::size_t end) { end_ = end; }
  bool has(std::size_t n) const { return pos_ <= end_ && end_ - pos_ >= n; }

  std::uint8_t u8() { return packet_[pos_++]; }
  std::uint16_t u16() {
    const auto v = static_cast<std::uint16_t>(packet_[pos_] << 8 | packet_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    return hi << 16 | u16();
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    auto s = packet_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

  // A possibly compressed name. Its inline labels must end before end(). A pointer must
  // point before the bytes read so far (those of the name and of every jump's target, as a
  // prior occurrence of a suffix is): each jump lands strictly earlier, so the walk ends.
  Decoded<std::string> name() {
    std::string out;
    std::size_t at = pos_;
    std::size_t limit = end_;  // inline labels up to the record's end, then the packet's
    std::size_t first_read = pos_;
    bool jumped = false;
    std::size_t wire = 1;
    for (;;) {
      if (at >= limit) return error<std::string>("truncated name");
      const std::uint8_t len = packet_[at];
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= limit) return error<std::string>("truncated name");
        const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | packet_[at + 1];
        if (target >= packet_.size()) return error<std::string>("name pointer out of bounds");
        if (target >= first_read) return error<std::string>("name pointer loop");
        if (!jumped) pos_ = at + 2;
        jumped = true;
        at = first_read = target;
        limit = packet_.size();
        continue;
      }
      if (len & 0xC0) return error<std::string>(fmt::format("bad label type 0x{:02x}", len & 0xC0));
      if (len == 0) {
        if (!jumped) pos_ = at + 1;
        break;
      }
      if (limit - at - 1 < len) return error<std::string>("truncated name");
      wire += 1 + len;
      if (wire > kMaxNameWire) return error<std::string>("name too long");
      append_label(out, packet_.subspan(at + 1, len));
      at += 1 + len;
    }
    if (out.empty()) out = ".";
    return Decoded<std::string>(boost::system::in_place_value, std::move(out));
  }

 private:
  static void append_label(std::string& out, std::span<const std::uint8_t> label) {
    for (const std::uint8_t c : label) {
      if (c == '.' || c == '\\')
        out += {'\\', static_cast<char>(c)};
      else if (c <= 0x20 || c >= 0x7F)
        out += fmt::format("\\{:03d}", c);
      else
        out += static_cast<char>(c);
    }
    out += '.';
  }

  std::span<const std::uint8_t> packet_;
  std::size_t end_;
  std::size_t pos_ = 0;
};

Decoded<Rdata> read_rdata(Reader& r, std::uint16_t type, std::size_t length) {
  const std::size_t end = r.pos() + length;
  const std::size_t outer_end = r.end();
  r.set_end(end);
  Rdata data;
  switch (type) {
    case kTypeA:
    case kTypeAaaa: {
      const std::size_t size = type == kTypeA ? 4 : 16;
      if (length != size)
        return error<Rdata>(fmt::format("{} record of {} bytes", type == kTypeA ? "A" : "AAAA", length));
      std::array<std::uint8_t, 16> b{};
      const auto in = r.bytes(size);
      std::copy(in.begin(), in.end(), b.begin());
      data = type == kTypeA
                 ? model::IpAddress::v4(static_cast<std::uint32_t>(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]))
                 : model::IpAddress::v6(b);
      break;
    }
    case kTypeNs:
    case kTypeCname:
    case kTypePtr: {
      auto n = r.name();
      if (!n) return error<Rdata>(n.error());
      data = NameData{std::move(*n)};
      break;
    }
    case kTypeMx: {
      if (!r.has(2)) return error<Rdata>("truncated MX record");
      MxData mx;
      mx.preference = r.u16();
      auto n = r.name();
      if (!n) return error<Rdata>(n.error());
      mx.exchange = std::move(*n);
      data = std::move(mx);
      break;
    }
    case kTypeTxt: {
      TxtData txt;
      while (r.pos() < end) {
        const std::size_t len = r.u8();
        if (!r.has(len)) return error<Rdata>("truncated TXT string");
        const auto s = r.bytes(len);
        txt.strings.emplace_back(s.begin(), s.end());
      }
      data = std::move(txt);
      break;
    }
    case kTypeSoa: {
      SoaData soa;
      auto m = r.name();
      if (!m) return error<Rdata>(m.error());
      auto rn = r.name();
      if (!rn) return error<Rdata>(rn.error());
      if (!r.has(20)) return error<Rdata>("truncated SOA record");
      soa.mname = std::move(*m);
      soa.rname = std::move(*rn);
      soa.serial = r.u32();
      soa.refresh = r.u32();
      soa.retry = r.u32();
      soa.expire = r.u32();
      soa.minimum = r.u32();
      data = std::move(soa);
      break;
    }
    case kTypeSrv: {
      if (!r.has(6)) return error<Rdata>("truncated SRV record");
      SrvData srv;
      srv.priority = r.u16();
      srv.weight = r.u16();
      srv.port = r.u16();
      auto n = r.name();
      if (!n) return error<Rdata>(n.error());
      srv.target = std::move(*n);
      data = std::move(srv);
      break;
    }
    default: {
      const auto b = r.bytes(length);
      data = OpaqueData{{b.begin(), b.end()}};
      break;
    }
  }
  if (r.pos() != end) return error<Rdata>("record data longer than its contents");
  r.set_end(outer_end);
  return data;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\')
      out += {'\\', ch};
    else if (c < 0x20 || c >= 0x7F)
      out += fmt::format("\\{:03d}", c);
    else
      out += ch;
  }
  return out + "\"";
}

}  // namespace

Decoded<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name, model::DnsType type) {
  using Bytes = std::vector<std::uint8_t>;
  Bytes out{static_cast<std::uint8_t>(id >> 8),
            static_cast<std::uint8_t>(id),
            0x01,
            0x00,  // RD
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0};
  if (name != ".") {
    if (name.ends_with('.')) name.remove_suffix(1);
    for (;;) {
      const auto dot = name.find('.');
      const auto label = name.substr(0, dot);
      if (label.empty()) return error<Bytes>("empty label in the name");
      if (label.size() > kMaxLabel) return error<Bytes>(fmt::format("label \"{}\" longer than 63 bytes", label));
      out.push_back(static_cast<std::uint8_t>(label.size()));
      out.insert(out.end(), label.begin(), label.end());
      if (dot == std::string_view::npos) break;
      name.remove_prefix(dot + 1);
    }
  }
  out.push_back(0);
  if (out.size() - kHeaderSize > kMaxNameWire) return error<Bytes>("name longer than 255 bytes");
  const auto t = static_cast<std::uint16_t>(type);
  out.insert(out.end(), {static_cast<std::uint8_t>(t >> 8), static_cast<std::uint8_t>(t), 0, 1});
  return out;
}

Decoded<Message> decode(std::span<const std::uint8_t> packet) {
  Reader r(packet);
  if (!r.has(kHeaderSize)) return error<Message>("truncated header");
  Message m;
  m.id = r.u16();
  const std::uint16_t flags = r.u16();
  m.qr = flags & 0x8000;
  m.opcode = static_cast<std::uint8_t>(flags >> 11 & 0xF);
  m.aa = flags & 0x0400;
  m.tc = flags & 0x0200;
  m.rd = flags & 0x0100;
  m.ra = flags & 0x0080;
  m.rcode = static_cast<std::uint8_t>(flags & 0xF);
  const std::uint16_t qdcount = r.u16();
  const std::uint16_t ancount = r.u16();
  r.u32();  // authority and additional counts: those sections are not read
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    auto name = r.name();
    if (!name) return error<Message>(name.error());
    if (!r.has(4)) return error<Message>("truncated question");
    Question q;
    q.name = std::move(*name);
    q.type = r.u16();
    q.klass = r.u16();
    m.questions.push_back(std::move(q));
  }
  for (std::uint16_t i = 0; i < ancount; ++i) {
    auto name = r.name();
    if (!name) return error<Message>(name.error());
    if (!r.has(10)) return error<Message>("truncated record");
    Record rec;
    rec.name = std::move(*name);
    rec.type = r.u16();
    rec.klass = r.u16();
    rec.ttl = r.u32();
    const std::size_t length = r.u16();
    if (!r.has(length)) return error<Message>("truncated record data");
    auto data = read_rdata(r, rec.type, length);
    if (!data) return error<Message>(data.error());
    rec.data = std::move(*data);
    m.answers.push_back(std::move(rec));
  }
  return m;
}

bool same_name(std::string_view a, std::string_view b) {
  auto without_dot = [](std::string_view s) { return s.size() > 1 && s.back() == '.' ? s.substr(0, s.size() - 1) : s; };
  a = without_dot(a);
  b = without_dot(b);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

std::string rcode_name(std::uint8_t rcode) {
  static constexpr std::array<std::string_view, 11> kNames{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < kNames.size()) return std::string(kNames[rcode]);
  return fmt::format("RCODE {}", rcode);
}

std::string to_text(const Rdata& data) {
  struct Text {
    std::string operator()(const model::IpAddress& a) const { return a.to_string(); }
    std::string operator()(const NameData& n) const { return n.name; }
    std::string operator()(const MxData& mx) const { return fmt::format("{} {}", mx.preference, mx.exchange); }
    std::string operator()(const TxtData& txt) const {
      std::string out;
      for (const auto& s : txt.strings) out += (out.empty() ? "" : " ") + quoted(s);
      return out;
    }
    std::string operator()(const SoaData& s) const {
      return fmt::format("{} {} {} {} {} {} {}", s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum);
    }
    std::string operator()(const SrvData& s) const {
      return fmt::format("{} {} {} {}", s.priority, s.weight, s.port, s.target);
    }
    std::string operator()(const OpaqueData& o) const {
      std::string out = fmt::format("\\# {}", o.bytes.size());
      if (!o.bytes.empty()) out += ' ';
      for (const auto b : o.bytes) out += fmt::format("{:02x}", b);
      return out;
    }
  };
  return std::visit(Text{}, data);
}

bool matches(const Record& record, std::string_view expect) {
  if (to_text(record.data) == expect) return true;
  struct Match {
    std::string_view expect;
    bool operator()(const model::IpAddress& a) const { return model::IpAddress::parse(expect) == a; }
    bool operator()(const NameData& n) const { return same_name(n.name, expect); }
    bool operator()(const MxData& mx) const { return same_name(mx.exchange, expect); }
    bool operator()(const TxtData& txt) const {
      return std::find(txt.strings.begin(), txt.strings.end(), expect) != txt.strings.end();
    }
    bool operator()(const SoaData& s) const { return same_name(s.mname, expect); }
    bool operator()(const SrvData& s) const { return same_name(s.target, expect); }
    bool operator()(const OpaqueData&) const { return false; }
  };
  return std::visit(Match{expect}, record.data);
}

}  // namespace lvsd::check::dns
