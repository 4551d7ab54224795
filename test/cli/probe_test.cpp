// lvsctl probe's targets, and one probe of a real loopback listener.
#include "../../src/cli/probe.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace lvsd::cli {
namespace {

ProbeTarget parsed(std::string_view text) {
  std::string error;
  auto t = parse_probe_target(text, error);
  EXPECT_TRUE(t) << error;
  return t.value_or(ProbeTarget{});
}

std::string error_of(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_probe_target(text, error));
  return error;
}

TEST(ProbeTarget, Forms) {
  const auto h = parsed("http://192.0.2.10/status?full=1");
  EXPECT_EQ(h.type, model::CheckType::Http);
  EXPECT_EQ(h.host, "192.0.2.10");
  EXPECT_EQ(h.port, 80);
  EXPECT_EQ(h.path, "/status?full=1");
  const auto s = parsed("https://www.example.org:8443");
  EXPECT_EQ(s.type, model::CheckType::Https);
  EXPECT_EQ(s.host, "www.example.org");
  EXPECT_EQ(s.port, 8443);
  EXPECT_EQ(s.path, "/");
  const auto t = parsed("tcp://[2001:db8::1]:25");
  EXPECT_EQ(t.type, model::CheckType::Tcp);
  EXPECT_EQ(t.host, "2001:db8::1");
  EXPECT_EQ(t.port, 25);
  const auto i = parsed("icmp://10.0.0.11");
  EXPECT_EQ(i.type, model::CheckType::Icmp);
  EXPECT_EQ(i.host, "10.0.0.11");
}

TEST(ProbeTarget, Errors) {
  EXPECT_EQ(error_of("192.0.2.10"),
            "\"192.0.2.10\" is not a target; expected http://host[:port]/path, https://..., tcp://host:port or "
            "icmp://host");
  EXPECT_EQ(error_of("ftp://h/"), "unknown scheme \"ftp\"; expected http, https, tcp or icmp");
  EXPECT_EQ(error_of("tcp://h"), "a tcp target needs a port: tcp://host:port");
  EXPECT_EQ(error_of("tcp://h:0"), "bad port \"0\"");
  EXPECT_EQ(error_of("tcp://h:99999"), "bad port \"99999\"");
  EXPECT_EQ(error_of("tcp://h:80/x"), "a tcp target has no path");
  EXPECT_EQ(error_of("icmp://h:7"), "an icmp target has no port");
  EXPECT_EQ(error_of("http://[2001:db8::1/"), "an IPv6 address in brackets lacks its ']'");
  EXPECT_EQ(error_of("http:///x"), "no host");
}

TEST(Probe, ATcpListenerIsUpAClosedPortDown) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor listener(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener.local_endpoint().port();
  testing::internal::CaptureStdout();
  EXPECT_EQ(run_probe(ProbeTarget{.type = model::CheckType::Tcp, .host = "127.0.0.1", .port = port}, model::Millis{2000}), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.rfind(fmt::format("tcp 127.0.0.1:{}: up, connected, ", port), 0), 0u) << out;
  listener.close();
  EXPECT_EQ(run_probe(ProbeTarget{.type = model::CheckType::Tcp, .host = "127.0.0.1", .port = port}, model::Millis{2000}), 1);
}

// A plain HTTP server on its own thread (run_probe runs its own io_context): answers each of
// `connections` connections with `status` and `body`, then closes it.
class ThreadServer {
 public:
  ThreadServer(int connections, unsigned status, std::string body)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        thread_([this, connections, status, body = std::move(body)] {
          for (int i = 0; i < connections; ++i) {
            boost::asio::ip::tcp::socket s = acceptor_.accept();
            std::string request;
            char c = 0;
            while (request.find("\r\n\r\n") == std::string::npos && boost::asio::read(s, boost::asio::buffer(&c, 1)))
              request += c;
            requests_.push_back(request);
            const auto reply = fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", status,
                                           body.size(), body);
            boost::asio::write(s, boost::asio::buffer(reply));
          }
        }) {}
  ~ThreadServer() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string probed(const ProbeTarget& t, int expect_exit) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(run_probe(t, model::Millis{2000}), expect_exit);
  return testing::internal::GetCapturedStdout();
}

TEST(Probe, AnHttpBodyIsShownWithTheDigestsAConfigTakes) {
  ThreadServer server(4, 200, "hello\n");
  auto t = parsed(fmt::format("http://127.0.0.1:{}/index.html", server.port()));
  std::string out = probed(t, 0);
  EXPECT_EQ(out.rfind(fmt::format("http 127.0.0.1:{}: up, HTTP 200, ", server.port()), 0), 0u) << out;
  // md5sum and sha256sum of "hello\n", as genhash would print the first.
  EXPECT_NE(out.find("  /index.html: status 200, 6 bytes\n"), std::string::npos) << out;
  EXPECT_NE(out.find("(digest = \"b1946ac92492d2347c6235b4d2611184\")"), std::string::npos) << out;
  EXPECT_NE(out.find("(digest = \"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\")"),
            std::string::npos)
      << out;
  // The digest it printed is the one that passes; another fails.
  t.digest = model::parse_digest("b1946ac92492d2347c6235b4d2611184");
  probed(t, 0);
  t.digest = model::parse_digest("sha256:" + std::string(64, '0'));
  out = probed(t, 1);
  EXPECT_NE(out.find(": down, digest mismatch for /index.html: got 5891b5b5"), std::string::npos) << out;
  // Without a name in the URL the Host header is the address and port.
  t.digest.reset();
  t.status = {{201, 299}};
  out = probed(t, 1);
  EXPECT_NE(out.find(": down, HTTP 200 for /index.html"), std::string::npos) << out;
  EXPECT_NE(out.find("  /index.html: status 200, 6 bytes\n"), std::string::npos) << out;
  ASSERT_EQ(server.requests().size(), 4u);
  EXPECT_EQ(server.requests()[0].rfind("GET /index.html HTTP/1.1\r\n", 0), 0u) << server.requests()[0];
  EXPECT_NE(server.requests()[0].find(fmt::format("Host: 127.0.0.1:{}\r\n", server.port())), std::string::npos);
}

TEST(Probe, AnErrorStatusIsDownAndStillShown) {
  ThreadServer server(1, 503, "busy");
  const std::string out = probed(parsed(fmt::format("http://127.0.0.1:{}/", server.port())), 1);
  EXPECT_NE(out.find(": down, HTTP 503 for /, "), std::string::npos) << out;
  EXPECT_NE(out.find("  /: status 503, 4 bytes\n"), std::string::npos) << out;
}

TEST(Probe, AnUnresolvableNameIsExitTwo) {
  EXPECT_EQ(run_probe(parsed("tcp://no-such-host.invalid:80"), model::Millis{2000}), 2);
}

}  // namespace
}  // namespace lvsd::cli
