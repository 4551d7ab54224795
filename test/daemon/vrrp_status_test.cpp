// The VRRP process's `status` end to end: a vrrp::Node and a control::Server on one
// io_context, in a network namespace of the test's own; the question goes through the socket
// as lvsctl asks it, and the answer is printed as lvsctl prints it.
#include "lvsd/daemon/vrrp_status.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "../../src/cli/status.hpp"
#include "lvsd/control/client.hpp"
#include "lvsd/control/server.hpp"
#include "lvsd/vrrp/node.hpp"
#include "support/loop.hpp"
#include "support/netns.hpp"

namespace lvsd::daemon {
namespace {
namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

TEST(VrrpStatus, AMasterAnswersThroughItsControlSocket) {
  std::signal(SIGPIPE, SIG_IGN);
  lvsd::testing::NetnsScope ns;
  if (!ns.ok()) GTEST_SKIP() << "no network namespaces (not root?)";
  ASSERT_TRUE(ns.run("ip link add s0 type veth peer name s1 && ip addr add 10.7.0.1/24 dev s0"
                     " && ip link set s1 up && ip link set s0 up"));
  char name[] = "/tmp/lvsd-status-XXXXXX";
  const std::string dir = ::mkdtemp(name);
  const std::string weight = dir + "/weight";
  std::ofstream(weight) << "5\n";

  model::Desired desired;
  model::VrrpInstance instance;
  instance.name = "VI_S";
  instance.interface = "s0";
  instance.vrid = 61;
  instance.priority = 150;
  instance.advert_interval = model::Millis{100};
  instance.virtual_ips = {model::VirtualIp{.prefix = *model::Prefix::parse("10.7.0.100/24")}};
  instance.garp_master_repeat = 1;
  instance.trackers = {model::Tracker{model::TrackFile{weight}, 10}};  // 5 x 10 = +50
  desired.vrrp_instances.push_back(instance);
  desired.globals.control_socket = dir + "/run/lvsd.sock";

  asio::io_context io;
  std::optional<vrrp::Node> node;
  node.emplace(io.get_executor(), desired, [](std::string_view) {});
  const std::string path = control::vrrp_socket_path(desired.globals.control_socket);
  auto server = control::Server::open(io.get_executor(), control::ServerOptions{.path = path});
  ASSERT_TRUE(server) << server.error();
  (*server)->handle("status", [&](const json&) { return vrrp_status_json(node->status(), node->notify_counters()); });
  node->start();

  // lvsctl's side blocks: on a thread of its own, while this one runs the node and the server.
  const auto ask = [&] {
    std::optional<boost::system::result<json, std::string>> reply;
    std::atomic<bool> done = false;
    std::thread client([&] {
      reply.emplace(control::request(path, json{{"command", "status"}}, 3s));
      done = true;
    });
    lvsd::testing::run_until(io, [&] { return done.load(); }, 5s);
    client.join();
    return *reply;
  };

  ASSERT_TRUE(lvsd::testing::run_until(io, [&] { return node->status().at(0).state == vrrp::State::Master; }, 5s));
  const auto reply = ask();
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->at("ok"), true);
  EXPECT_EQ(reply->at("process"), "vrrp");
  const auto& i = reply->at("instances").at(0);
  EXPECT_EQ(i.at("name"), "VI_S");
  EXPECT_EQ(i.at("interface"), "s0");
  EXPECT_EQ(i.at("vrid"), 61);
  EXPECT_EQ(i.at("state"), "MASTER");
  EXPECT_EQ(i.at("priority"), 200);
  EXPECT_EQ(i.at("fault"), false);
  EXPECT_EQ(i.at("trackers"), json::array({json{{"name", "track_file " + weight},
                                                {"up", true},
                                                {"known", true},
                                                {"number", 5},
                                                {"reason", i.at("trackers").at(0).at("reason")}}}));
  EXPECT_EQ(i.at("counters").at("became_master"), 1);
  EXPECT_GE(i.at("counters").at("adverts_sent"), 1);
  const std::string text = cli::render_vrrp_status(*reply);
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "VI_S  interface s0  VRID 61  MASTER  priority 200\n");

  node->stop();
  lvsd::testing::run_until(io, [&] { return node->running() == 0; }, 3s);
  node.reset();
  server->reset();
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lvsd::daemon
