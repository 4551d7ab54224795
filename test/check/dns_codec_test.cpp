// The DNS codec: golden query bytes; replies written by hand, every record type, compressed
// names; and malformed packets, which must be errors and never an overread.
#include "lvsd/check/dns_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string_view>

namespace lvsd::check::dns {
namespace {
using Bytes = std::vector<std::uint8_t>;

// Builds a packet byte by byte, remembering where things are for compression pointers.
struct Wire {
  Bytes b;
  std::size_t here() const { return b.size(); }
  Wire& u8(std::uint8_t v) { return b.push_back(v), *this; }
  Wire& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
  Wire& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  Wire& text(std::string_view s) { return b.insert(b.end(), s.begin(), s.end()), *this; }
  Wire& label(std::string_view s) { return u8(static_cast<std::uint8_t>(s.size())).text(s); }
  Wire& pointer(std::size_t to) { return u16(static_cast<std::uint16_t>(0xC000 | to)); }
  Wire& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns = 0,
               std::uint16_t ar = 0) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // TYPE, CLASS IN, TTL and RDLENGTH, which is patched by `end_rdata`.
  std::size_t rr(std::uint16_t type, std::uint32_t ttl = 300) {
    u16(type).u16(1).u32(ttl).u16(0);
    return here();
  }
  void end_rdata(std::size_t start) {
    const auto length = here() - start;
    b[start - 2] = static_cast<std::uint8_t>(length >> 8);
    b[start - 1] = static_cast<std::uint8_t>(length);
  }
};

constexpr std::uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, SRV = 33;
constexpr std::uint16_t kReply = 0x8180;  // QR, RD, RA, NOERROR

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

// A reply with one record of each type we read, nearly every name compressed.
Bytes every_type() {
  Wire w;
  w.header(0xBEEF, kReply | 0x0400, 1, 10, 1, 1);  // AA too
  const auto origin = w.here();                    // "example.org." at 12
  w.label("example").label("org").u8(0).u16(SOA).u16(1);
  std::size_t d;
  w.pointer(origin);
  d = w.rr(A), w.u8(192).u8(0).u8(2).u8(1), w.end_rdata(d);
  const auto www = w.here();
  w.label("www").pointer(origin);
  d = w.rr(AAAA), w.u32(0x20010db8).u32(0).u32(0).u32(1), w.end_rdata(d);
  const auto alias = w.here();
  w.label("alias").pointer(origin);
  d = w.rr(CNAME), w.label("web").pointer(origin), w.end_rdata(d);
  w.pointer(origin);
  d = w.rr(NS);
  const auto ns1 = w.here();
  w.label("ns1").pointer(origin), w.end_rdata(d);
  w.label("1").label("2").label("0").label("192").label("in-addr").label("arpa").u8(0);  // not compressed
  d = w.rr(PTR), w.pointer(www), w.end_rdata(d);
  w.pointer(origin);
  d = w.rr(MX), w.u16(10).label("mail").pointer(origin), w.end_rdata(d);
  w.pointer(origin);
  d = w.rr(TXT), w.label("v=spf1 -all").label("say \"hi\"").label(""), w.end_rdata(d);
  w.pointer(origin);
  d = w.rr(SOA, 3600), w.pointer(ns1).label("hostmaster").pointer(origin);
  w.u32(2024010101).u32(7200).u32(900).u32(1209600).u32(300), w.end_rdata(d);
  w.label("_sip").label("_udp").pointer(origin);
  d = w.rr(SRV), w.u16(0).u16(5).u16(5060).label("sip").pointer(origin), w.end_rdata(d);
  w.pointer(alias);
  d = w.rr(99), w.u8(0xab).u8(0xcd), w.end_rdata(d);  // a type we do not read
  // Authority and additional: present, not read.
  w.pointer(origin), d = w.rr(NS), w.pointer(ns1), w.end_rdata(d);
  w.pointer(ns1), d = w.rr(A), w.u32(0xC0000235), w.end_rdata(d);
  return w.b;
}

Record rr(std::string name, std::uint16_t type, Rdata data, std::uint32_t ttl = 300) {
  return Record{.name = std::move(name), .type = type, .klass = 1, .ttl = ttl, .data = std::move(data)};
}

TEST(DnsCodec, AQueryInGoldenBytes) {
  auto q = encode_query(0xBEEF, "www.example.org", model::DnsType::A);
  ASSERT_TRUE(q) << q.error();
  const Bytes golden{0xBE, 0xEF, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // id, RD, 1 question
                     3,    'w',  'w',  'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
                     3,    'o',  'r',  'g',  0,    0x00, 0x01, 0x00, 0x01};  // A, IN
  EXPECT_EQ(*q, golden);
  EXPECT_EQ(*encode_query(0xBEEF, "www.example.org.", model::DnsType::A), golden);  // the final dot is optional

  const Bytes root{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x06, 0x00, 0x01};
  EXPECT_EQ(*encode_query(0x1234, ".", model::DnsType::Soa), root);
  const auto srv = *encode_query(1, "_sip._udp.example.org", model::DnsType::Srv);
  EXPECT_EQ(Bytes(srv.end() - 4, srv.end()), (Bytes{0x00, 0x21, 0x00, 0x01}));
  const auto any = *encode_query(1, "example.org", model::DnsType::Any);
  EXPECT_EQ(Bytes(any.end() - 4, any.end()), (Bytes{0x00, 0xFF, 0x00, 0x01}));
}

TEST(DnsCodec, NamesThatCannotBeSent) {
  EXPECT_EQ(encode_query(1, "a..b", model::DnsType::A).error(), "empty label in the name");
  EXPECT_EQ(encode_query(1, ".a", model::DnsType::A).error(), "empty label in the name");
  const std::string label(64, 'x');
  EXPECT_EQ(encode_query(1, label + ".org", model::DnsType::A).error(), "label \"" + label + "\" longer than 63 bytes");
  EXPECT_TRUE(encode_query(1, std::string(63, 'x') + ".org", model::DnsType::A));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";  // 64 * 4 + 1 = 257 bytes on the wire
  EXPECT_EQ(encode_query(1, long_name, model::DnsType::A).error(), "name longer than 255 bytes");
  EXPECT_TRUE(encode_query(1, long_name.substr(8), model::DnsType::A));  // 249 bytes
}

TEST(DnsCodec, AQueryDecodesToItself) {
  auto m = decode(*encode_query(0x4242, "Example.ORG", model::DnsType::Mx));
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->id, 0x4242);
  EXPECT_FALSE(m->qr);
  EXPECT_TRUE(m->rd);
  EXPECT_EQ(m->questions, (std::vector<Question>{{.name = "Example.ORG.", .type = MX, .klass = 1}}));
  EXPECT_TRUE(m->answers.empty());
}

TEST(DnsCodec, EveryRecordTypeWithCompressedNames) {
  auto m = decode(every_type());
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->id, 0xBEEF);
  EXPECT_TRUE(m->qr);
  EXPECT_TRUE(m->aa);
  EXPECT_FALSE(m->tc);
  EXPECT_TRUE(m->rd);
  EXPECT_TRUE(m->ra);
  EXPECT_EQ(m->opcode, 0);
  EXPECT_EQ(m->rcode, 0);
  EXPECT_EQ(m->questions, (std::vector<Question>{{.name = "example.org.", .type = SOA, .klass = 1}}));
  const std::vector<Record> expected{
      rr("example.org.", A, ip("192.0.2.1")),
      rr("www.example.org.", AAAA, ip("2001:db8::1")),
      rr("alias.example.org.", CNAME, NameData{"web.example.org."}),
      rr("example.org.", NS, NameData{"ns1.example.org."}),
      rr("1.2.0.192.in-addr.arpa.", PTR, NameData{"www.example.org."}),
      rr("example.org.", MX, MxData{10, "mail.example.org."}),
      rr("example.org.", TXT, TxtData{{"v=spf1 -all", "say \"hi\"", ""}}),
      rr("example.org.", SOA,
         SoaData{.mname = "ns1.example.org.",
                 .rname = "hostmaster.example.org.",
                 .serial = 2024010101,
                 .refresh = 7200,
                 .retry = 900,
                 .expire = 1209600,
                 .minimum = 300},
         3600),
      rr("_sip._udp.example.org.", SRV,
         SrvData{.priority = 0, .weight = 5, .port = 5060, .target = "sip.example.org."}),
      rr("alias.example.org.", 99, OpaqueData{{0xab, 0xcd}}),
  };
  ASSERT_EQ(m->answers.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(m->answers[i], expected[i]) << i;
}

TEST(DnsCodec, RecordDataAsText) {
  auto m = decode(every_type());
  ASSERT_TRUE(m) << m.error();
  std::vector<std::string> texts;
  for (const auto& a : m->answers) texts.push_back(to_text(a.data));
  EXPECT_EQ(texts, (std::vector<std::string>{
                       "192.0.2.1",
                       "2001:db8::1",
                       "web.example.org.",
                       "ns1.example.org.",
                       "www.example.org.",
                       "10 mail.example.org.",
                       R"("v=spf1 -all" "say \"hi\"" "")",
                       "ns1.example.org. hostmaster.example.org. 2024010101 7200 900 1209600 300",
                       "0 5 5060 sip.example.org.",
                       "\\# 2 abcd",
                   }));
  EXPECT_EQ(to_text(OpaqueData{}), "\\# 0");
}

TEST(DnsCodec, WhatAnExpectedAnswerMatches) {
  const auto m = *decode(every_type());
  const auto& a = m.answers;
  EXPECT_TRUE(matches(a[0], "192.0.2.1"));
  EXPECT_FALSE(matches(a[0], "192.0.2.10"));
  EXPECT_TRUE(matches(a[1], "2001:db8::1"));
  EXPECT_TRUE(matches(a[1], "2001:DB8:0:0::1"));  // the address, not its spelling
  EXPECT_TRUE(matches(a[2], "web.example.org."));
  EXPECT_TRUE(matches(a[2], "WEB.example.org"));  // case and the final dot aside
  EXPECT_FALSE(matches(a[2], "web.example.org.uk"));
  EXPECT_TRUE(matches(a[5], "mail.example.org."));
  EXPECT_TRUE(matches(a[5], "10 mail.example.org."));  // the whole record data
  EXPECT_FALSE(matches(a[5], "10"));
  EXPECT_TRUE(matches(a[6], "v=spf1 -all"));
  EXPECT_FALSE(matches(a[6], "v=spf1"));
  EXPECT_TRUE(matches(a[7], "ns1.example.org."));
  EXPECT_TRUE(matches(a[8], "sip.example.org."));
  EXPECT_FALSE(matches(a[9], "abcd"));
}

TEST(DnsCodec, RcodeNames) {
  EXPECT_EQ(rcode_name(0), "NOERROR");
  EXPECT_EQ(rcode_name(1), "FORMERR");
  EXPECT_EQ(rcode_name(2), "SERVFAIL");
  EXPECT_EQ(rcode_name(3), "NXDOMAIN");
  EXPECT_EQ(rcode_name(5), "REFUSED");
  EXPECT_EQ(rcode_name(10), "NOTZONE");
  EXPECT_EQ(rcode_name(11), "RCODE 11");
}

TEST(DnsCodec, HeaderBits) {
  Wire w;
  w.header(7, 0x8000 | 5 << 11 | 0x0200 | 3, 0, 0);  // QR, opcode 5, TC, NXDOMAIN
  auto m = decode(w.b);
  ASSERT_TRUE(m) << m.error();
  EXPECT_TRUE(m->qr);
  EXPECT_EQ(m->opcode, 5);
  EXPECT_TRUE(m->tc);
  EXPECT_FALSE(m->rd);
  EXPECT_EQ(m->rcode, 3);
}

// A reply whose only answer is written by `answer` after the question "example.org. A".
Bytes one_answer(const std::function<void(Wire&)>& answer) {
  Wire w;
  w.header(1, kReply, 1, 1);
  w.label("example").label("org").u8(0).u16(A).u16(1);
  answer(w);
  return w.b;
}

std::string decode_error(const Bytes& packet) {
  auto m = decode(packet);
  return m ? "decoded" : m.error();
}

TEST(DnsCodec, PointerLoopsAreRejected) {
  Wire self;
  self.header(1, kReply, 1, 0).pointer(12).u16(A).u16(1);  // a name that is a pointer to itself
  EXPECT_EQ(decode_error(self.b), "name pointer loop");

  Wire two;  // 12 -> 16 -> 12: the first jump is forwards
  two.header(1, kReply, 1, 0).label("a").pointer(16).pointer(12).u16(A).u16(1);
  EXPECT_EQ(decode_error(two.b), "name pointer loop");

  EXPECT_EQ(decode_error(one_answer([](Wire& w) {  // an answer's name pointing at itself
              const auto at = w.here();
              w.pointer(at).u16(A).u16(1).u32(0).u16(4).u32(0);
            })),
            "name pointer loop");
  EXPECT_EQ(decode_error(one_answer([](Wire& w) {  // inside record data, back to its own start
              w.pointer(12);
              const auto d = w.rr(CNAME);
              w.label("x").pointer(d);
              w.end_rdata(d);
            })),
            "name pointer loop");
}

TEST(DnsCodec, PointersOutOfBoundsAreRejected) {
  Wire w;
  w.header(1, kReply, 1, 0).pointer(0x3FFF).u16(A).u16(1);
  EXPECT_EQ(decode_error(w.b), "name pointer out of bounds");
  EXPECT_EQ(decode_error(one_answer([](Wire& a) {
              a.pointer(12);
              const auto d = a.rr(NS);
              a.pointer(d + 100);
              a.end_rdata(d);
            })),
            "name pointer out of bounds");
  Wire half;  // a pointer's first byte at the very end
  half.header(1, kReply, 1, 0).u8(0xC0);
  EXPECT_EQ(decode_error(half.b), "truncated name");
}

TEST(DnsCodec, MalformedNamesAndDataAreRejected) {
  Wire label_type;
  label_type.header(1, kReply, 1, 0).u8(0x41).text("a").u8(0).u16(A).u16(1);
  EXPECT_EQ(decode_error(label_type.b), "bad label type 0x40");

  Wire too_long;  // 128 one-byte labels: 257 bytes
  too_long.header(1, kReply, 1, 0);
  for (int i = 0; i < 128; ++i) too_long.label("a");
  too_long.u8(0).u16(A).u16(1);
  EXPECT_EQ(decode_error(too_long.b), "name too long");

  auto bad = [](std::uint16_t type, const std::function<void(Wire&)>& data) {
    return decode_error(one_answer([&](Wire& w) {
      w.pointer(12);
      const auto d = w.rr(type);
      data(w);
      w.end_rdata(d);
    }));
  };
  EXPECT_EQ(bad(A, [](Wire& w) { w.u8(1).u8(2).u8(3).u8(4).u8(5); }), "A record of 5 bytes");
  EXPECT_EQ(bad(AAAA, [](Wire& w) { w.u32(1); }), "AAAA record of 4 bytes");
  EXPECT_EQ(bad(NS, [](Wire& w) { w.label("ns1").pointer(12).u8(0); }), "record data longer than its contents");
  EXPECT_EQ(bad(MX, [](Wire& w) { w.u8(0); }), "truncated MX record");
  EXPECT_EQ(bad(TXT, [](Wire& w) { w.u8(5).text("abc"); }), "truncated TXT string");
  EXPECT_EQ(bad(SRV, [](Wire& w) { w.u16(1).u16(2); }), "truncated SRV record");
  EXPECT_EQ(bad(SOA, [](Wire& w) { w.pointer(12).pointer(12).u32(1); }), "truncated SOA record");
  // A name that runs on past its record's data (into the next bytes of the packet).
  EXPECT_EQ(decode_error(one_answer([](Wire& w) {
              w.pointer(12).u16(CNAME).u16(1).u32(0).u16(2);
              w.label("web").pointer(12);
            })),
            "truncated name");
}

TEST(DnsCodec, EveryTruncationIsRejected) {
  const Bytes full = every_type();
  EXPECT_EQ(decode_error(Bytes(full.begin(), full.begin() + 11)), "truncated header");
  // The authority and additional sections are not read: cutting into them is not an error.
  const auto answers_end = full.size() - (2 + 10 + 2) - (2 + 10 + 4);
  for (std::size_t n = 0; n < answers_end; ++n) {
    const Bytes cut(full.begin(),
                    full.begin() + static_cast<std::ptrdiff_t>(n));  // exactly n bytes: ASan sees an overread
    EXPECT_FALSE(decode(cut)) << n;
  }
  EXPECT_TRUE(decode(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(answers_end))));
}

TEST(DnsCodec, RandomBytesNeverCrash) {
  std::mt19937 random(20240101);
  const Bytes valid = every_type();
  std::size_t decoded = 0;
  for (int i = 0; i < 30000; ++i) {  // a few seconds under the sanitizers
    Bytes packet;
    if (i % 2) {  // noise, with a plausible header half the time
      packet.resize(random() % 600);
      for (auto& b : packet) b = static_cast<std::uint8_t>(random());
      if (i % 4 == 1 && packet.size() >= 12) packet[4] = 0, packet[6] = 0, packet[5] = 1, packet[7] = random() % 8;
    } else {  // a valid reply with a few bytes changed and perhaps its end cut off
      packet = valid;
      for (int k = 0, n = 1 + static_cast<int>(random() % 4); k < n; ++k)
        packet[random() % packet.size()] = static_cast<std::uint8_t>(random());
      if (random() % 2) packet.resize(random() % packet.size());
    }
    if (decode(packet)) ++decoded;  // either way, no crash and no overread
  }
  EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace lvsd::check::dns
