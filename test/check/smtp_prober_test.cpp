// The SMTP prober against scripted loopback servers: greetings, EHLO replies, garbage,
// closed and silent connections.
#include "lvsd/check/smtp_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probe_helpers.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// One step of a scripted server: send bytes, send them one per 100 ms, or read a line.
struct Step {
  enum Kind { Send, SendSlowly, Expect } kind;
  std::string text;
};
Step send(std::string text) { return {Step::Send, std::move(text)}; }
Step slowly(std::string text) { return {Step::SendSlowly, std::move(text)}; }
Step expect() { return {Step::Expect, {}}; }

// Accepts one connection on a loopback port and plays its steps; then reads until the client
// closes (a server that says nothing more), or closes at once when told to.
class ScriptedServer {
 public:
  ScriptedServer(asio::io_context& io, std::vector<Step> steps, bool close_after = false)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(std::move(steps), close_after), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
  Target target() const {
    return Target{.endpoint = {model::IpAddress::v4(0x7f000001), acceptor_.local_endpoint().port()}};
  }
  std::vector<std::string> received;  // the command lines, without CRLF

 private:
  asio::awaitable<void> serve(std::vector<Step> steps, bool close_after) {
    auto [accept_error, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (accept_error) co_return;
    std::string in;
    for (const Step& step : steps) {
      if (step.kind == Step::Send) {
        auto [ec, n] = co_await asio::async_write(socket, asio::buffer(step.text), asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      } else if (step.kind == Step::SendSlowly) {
        for (char c : step.text) {
          auto [ec, n] = co_await asio::async_write(socket, asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          asio::steady_timer pause(socket.get_executor(), 100ms);
          co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        }
      } else {
        auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n",
                                                       asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        received.push_back(in.substr(0, n - 2));
        in.erase(0, n);
      }
    }
    if (close_after) co_return;
    for (;;) {  // keep the connection, take what comes, until the client closes
      auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n",
                                                     asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      received.push_back(in.substr(0, n - 2));
      in.erase(0, n);
    }
  }

  tcp::acceptor acceptor_;
};

// One attempt, with the server (if any) on the same io_context; then the server to its end,
// so that it has seen all that the prober sent.
Result probe(asio::io_context& io, const Target& target, model::SmtpCheck check = {},
             model::Millis timeout = 2000ms) {
  SmtpProber prober(std::move(check));
  Result r = testing::run_attempt(io, prober, target, timeout);
  io.run();
  return r;
}

const std::vector<Step> kGoodSession = {send("220 mx.example ESMTP\r\n"), expect(), send("250 mx.example\r\n"),
                                        expect(), send("221 bye\r\n")};

TEST(SmtpProber, AGreetingAndAnAcceptedEhloAreUp) {
  asio::io_context io;
  ScriptedServer server(io, kGoodSession);
  const Result r = probe(io, server.target());
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "SMTP 250");
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO lvsd", "QUIT"}));
}

TEST(SmtpProber, TheHeloNameIsTheChecks) {
  asio::io_context io;
  ScriptedServer server(io, kGoodSession);
  EXPECT_TRUE(probe(io, server.target(), {.helo_name = "director1.example"}).up);
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO director1.example", "QUIT"}));
}

TEST(SmtpProber, MultiLineRepliesAreReadToTheirLastLine) {
  asio::io_context io;
  ScriptedServer server(io, {send("220-mx.example ESMTP\r\n220-no UCE\r\n220 ready\r\n"), expect(),
                             send("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"),
                             expect(), send("221 bye\r\n")});
  const Result r = probe(io, server.target());
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "SMTP 250");
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO lvsd", "QUIT"}));
}

TEST(SmtpProber, ABareCodeAndLineFeedsAloneAreReplies) {
  asio::io_context io;
  ScriptedServer server(io, {send("220\n"), expect(), send("250\r\n"), expect(), send("221\r\n")});
  EXPECT_EQ(probe(io, server.target()).reason, "SMTP 250");
}

TEST(SmtpProber, ARefusingGreetingIsDown) {
  asio::io_context io;
  ScriptedServer server(io, {send("554 no service for you\r\n"), expect(), send("221 bye\r\n")});
  const Result r = probe(io, server.target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "SMTP banner 554");
  EXPECT_EQ(server.received, std::vector<std::string>{"QUIT"});  // RFC 5321 3.1
}

TEST(SmtpProber, ARejectedEhloIsDown) {
  asio::io_context io;
  ScriptedServer server(io, {send("220 mx.example\r\n"), expect(), send("501 5.5.4 invalid domain name\r\n"),
                             expect(), send("221 bye\r\n")});
  const Result r = probe(io, server.target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "SMTP EHLO 501");
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO lvsd", "QUIT"}));
}

TEST(SmtpProber, AServerThatDoesNotKnowEhloIsAskedHelo) {
  asio::io_context io;
  ScriptedServer server(io, {send("220 old.example\r\n"), expect(), send("502 command not implemented\r\n"),
                             expect(), send("250 old.example\r\n"), expect(), send("221 bye\r\n")});
  EXPECT_EQ(probe(io, server.target()).reason, "SMTP 250");
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO lvsd", "HELO lvsd", "QUIT"}));

  asio::io_context io2;
  ScriptedServer refusing(io2, {send("220 old.example\r\n"), expect(), send("500 unrecognized\r\n"), expect(),
                                send("550 go away\r\n"), expect(), send("221 bye\r\n")});
  EXPECT_EQ(probe(io2, refusing.target()).reason, "SMTP HELO 550");
}

TEST(SmtpProber, AnUnansweredQuitDoesNotDelayTheVerdict) {
  asio::io_context io;
  ScriptedServer server(io, {send("220 mx.example\r\n"), expect(), send("250 mx.example\r\n")});  // then silence
  const Result r = probe(io, server.target(), {}, 200ms);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.reason, "SMTP 250");
  EXPECT_EQ(server.received, (std::vector<std::string>{"EHLO lvsd", "QUIT"}));
}

TEST(SmtpProber, GarbageIsABadReply) {
  asio::io_context io;
  ScriptedServer server(io, {send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")});
  const Result r = probe(io, server.target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "bad SMTP reply: HTTP/1.1 400 Bad Request");
}

TEST(SmtpProber, ABadReplyIsQuotedPrintableAndShort) {
  asio::io_context io;
  ScriptedServer server(io, {send("22\x01\xff\tx" + std::string(100, 'y') + "\r\n")});
  EXPECT_EQ(probe(io, server.target()).reason, "bad SMTP reply: 22?? x" + std::string(34, 'y'));
}

TEST(SmtpProber, ACodeThatChangesWithinAReplyIsBad) {
  asio::io_context io;
  ScriptedServer server(io, {send("220-mx.example\r\n250 mx.example\r\n")});
  EXPECT_EQ(probe(io, server.target()).reason, "bad SMTP reply: 250 mx.example");
}

TEST(SmtpProber, RepliesAreBounded) {
  asio::io_context io;
  std::string many;
  for (int i = 0; i < 64; ++i) many += "220-line\r\n";
  ScriptedServer server(io, {send(many + "220 last\r\n")});
  EXPECT_EQ(probe(io, server.target()).reason, "SMTP reply of more than 64 lines");

  asio::io_context io2;
  ScriptedServer endless(io2, {send("220 " + std::string(5000, 'x'))});
  EXPECT_EQ(probe(io2, endless.target()).reason, "SMTP reply longer than 4096 bytes");
}

TEST(SmtpProber, AServerThatClosesAfterTheGreetingIsDown) {
  asio::io_context io;
  ScriptedServer server(io, {send("220 mx.example\r\n")}, /*close_after=*/true);
  const Result r = probe(io, server.target());
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connection closed");
}

TEST(SmtpProber, AServerThatNeverAnswersTimesOut) {
  asio::io_context io;
  ScriptedServer server(io, {});
  const Result r = probe(io, server.target(), {}, 200ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 200 ms");
}

TEST(SmtpProber, TheTimeoutBoundsTheWholeDialogueNotEachRead) {
  asio::io_context io;
  ScriptedServer server(io, {slowly("220 mx.example\r\n")});  // one byte every 100 ms
  const Result r = probe(io, server.target(), {}, 300ms);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "timeout after 300 ms");
  EXPECT_LT(r.latency, 1s);
}

TEST(SmtpProber, AClosedPortIsRefused) {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor gone(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = gone.local_endpoint().port();
  }
  asio::io_context io;
  const Result r = probe(io, {.endpoint = {model::IpAddress::v4(0x7f000001), port}});
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.reason, "connect refused");
}

}  // namespace
}  // namespace lvsd::check
