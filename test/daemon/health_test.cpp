// The daemon's checks: the log line of a verdict, and checks run against a real listener.
#include "lvsd/daemon/health.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace lvsd::daemon {
namespace {
using namespace std::chrono_literals;

model::Endpoint ep(const char* text) { return model::Endpoint::parse(text, true).value(); }

TEST(TransitionText, ReasonCheckTypeAttemptsLatency) {
  check::Transition t;
  t.server = {{.endpoint = ep("192.0.2.10:80")}, ep("10.0.0.1:80")};
  t.up = false;
  t.check = 1;
  t.type = model::CheckType::Http;
  t.cause = check::failure("HTTP 503 for /health");
  t.cause.attempts = 3;
  t.cause.latency = 2500us;
  EXPECT_EQ(transition_text(t), "TCP 192.0.2.10:80: real server 10.0.0.1:80 down: HTTP 503 for /health (check 2, http, "
                                "3 attempts, 2.5 ms)");
  t.up = true;
  t.weight = 5;
  t.type = model::CheckType::Script;
  t.check = 0;
  t.cause = check::success("exit 7: weight 5");
  t.cause.latency = 12ms;
  EXPECT_EQ(transition_text(t),
            "TCP 192.0.2.10:80: real server 10.0.0.1:80 up, weight 5: exit 7: weight 5 (check 1, script, 12.0 ms)");
}

TEST(Health, VerdictsOfARealListenerAreLogged) {
  boost::asio::io_context io;
  std::vector<std::string> lines;
  Health health(io.get_executor(), [&](Health::Level level, const std::string& line) {
    if (level != Health::Level::Debug) lines.push_back(line);
  });
  boost::asio::ip::tcp::acceptor listener(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = listener.local_endpoint().port();
  model::VirtualServer vs;
  vs.key = {.endpoint = ep("192.0.2.10:80")};
  vs.initial_health = model::InitialHealth::Down;
  model::RealServer rs;
  rs.endpoint = {model::IpAddress::v4(0x7f000001), port};
  model::CheckSpec c;
  c.timing = {.interval = 20ms, .timeout = 500ms, .rise = 1, .fall = 1};
  rs.checks = {c};
  vs.real_servers = {rs};
  model::Desired desired{.virtual_servers = {vs}};
  health.set(desired);
  ASSERT_NE(health.engine(), nullptr);
  EXPECT_EQ(health.engine()->checks(), 1u);
  const auto wait_for = [&](std::size_t n) {
    for (const auto deadline = std::chrono::steady_clock::now() + 3s;
         lines.size() < n && std::chrono::steady_clock::now() < deadline;)
      io.run_one_for(10ms);
  };
  wait_for(1);
  ASSERT_EQ(lines.size(), 1u);
  const std::string server = fmt::format("TCP 192.0.2.10:80: real server 127.0.0.1:{}", port);
  EXPECT_EQ(lines[0].rfind(server + " up: connected (check 1, tcp, ", 0), 0u) << lines[0];
  listener.close();
  wait_for(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].rfind(server + " down: connect refused (check 1, tcp, ", 0), 0u) << lines[1];
  // A new script_user restarts every check (from initial_health again).
  desired.globals.script_user = "daemon";
  health.set(desired);
  EXPECT_EQ(lines.back(), "checks: script_user is now daemon: every check restarts");
  EXPECT_EQ(health.engine()->up({vs.key, rs.endpoint}), std::optional<bool>(false));
  health.stop();
  EXPECT_EQ(health.engine(), nullptr);
}

}  // namespace
}  // namespace lvsd::daemon
