// Trackers: the verdict arithmetic and reasons, and the loops against real sockets, scripts and files.
#include "lvsd/vrrp/trackers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <thread>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "support/netns.hpp"

namespace lvsd::vrrp {

// For gtest's messages: the values, not their bytes.
void PrintTo(const Verdict& v, std::ostream* os) {
  *os << "{fault " << v.fault << ", delta " << v.delta << ", \"" << v.reason << "\"}";
}
void PrintTo(const TrackerStatus& s, std::ostream* os) {
  *os << "{up " << s.up << ", number " << s.number << ", known " << s.known << ", \"" << s.reason << "\"}";
}

namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

model::IpAddress ip(const char* text) { return *model::IpAddress::parse(text); }

model::Tracker interface(std::string name, std::int32_t weight = 0) {
  return model::Tracker{model::TrackInterface{std::move(name)}, weight};
}

model::Tracker file(std::string path, std::int32_t weight = 0) {
  return model::Tracker{model::TrackFile{std::move(path)}, weight};
}

model::CheckTiming fast(model::Millis timeout = 100ms) {
  model::CheckTiming t;
  t.interval = 50ms;
  t.timeout = timeout;
  t.rise = 2;
  t.fall = 2;
  return t;
}

model::Tracker ping(const char* address, std::int32_t weight = 0, model::CheckTiming timing = fast()) {
  model::TrackProbe p;
  p.target = model::Endpoint{ip(address), 0};
  p.check.type = model::CheckType::Icmp;
  p.check.detail = model::IcmpCheck{};
  p.check.timing = timing;
  return model::Tracker{p, weight};
}

model::Tracker track_tcp(const char* address, std::uint16_t port, std::int32_t weight = 0,
                   model::CheckTiming timing = fast()) {
  model::TrackProbe p;
  p.target = model::Endpoint{ip(address), port};
  p.check.type = model::CheckType::Tcp;
  p.check.timing = timing;
  return model::Tracker{p, weight};
}

model::Tracker http(const char* address, std::uint16_t port, std::string path, bool https) {
  model::TrackProbe p;
  p.target = model::Endpoint{ip(address), port};
  p.check.type = https ? model::CheckType::Https : model::CheckType::Http;
  model::HttpCheck h;
  h.urls[0].path = std::move(path);
  p.check.detail = h;
  return model::Tracker{p, 0};
}

model::Tracker script(std::vector<std::string> argv, std::int32_t weight = 0,
                      model::CheckTiming timing = fast(2000ms)) {
  model::TrackScript s;
  s.script.argv = std::move(argv);
  s.timing = timing;
  s.timing.rise = 1;
  s.timing.fall = 1;
  return model::Tracker{s, weight};
}

TrackerStatus up(std::string reason = "connected") {
  TrackerStatus s;
  s.up = true;
  s.known = true;
  s.reason = std::move(reason);
  return s;
}

TrackerStatus down(std::string reason) {
  TrackerStatus s;
  s.known = true;
  s.reason = std::move(reason);
  return s;
}

TrackerStatus number(std::int64_t n) {
  TrackerStatus s;
  s.up = n != 0;
  s.number = n;
  s.known = true;
  s.reason = "value " + std::to_string(n);
  return s;
}

Verdict verdict(bool fault, std::int32_t delta, std::string reason = "") {
  Verdict v;
  v.fault = fault;
  v.delta = delta;
  v.reason = std::move(reason);
  return v;
}

// ---- The pure core ----

TEST(TrackerName, SaysTheConfigKeyAndWhatItWatches) {
  EXPECT_EQ(tracker_name(interface("eth0")), "track_interface eth0");
  EXPECT_EQ(tracker_name(ping("10.0.0.1")), "track_ping 10.0.0.1");
  EXPECT_EQ(tracker_name(ping("2001:db8::1")), "track_ping 2001:db8::1");
  EXPECT_EQ(tracker_name(track_tcp("127.0.0.1", 80)), "track_tcp 127.0.0.1:80");
  EXPECT_EQ(tracker_name(track_tcp("::1", 8080)), "track_tcp [::1]:8080");
  EXPECT_EQ(tracker_name(http("127.0.0.1", 8080, "/health", false)), "track_http http://127.0.0.1:8080/health");
  EXPECT_EQ(tracker_name(http("::1", 443, "/", true)), "track_http https://[::1]:443/");
  EXPECT_EQ(tracker_name(file("/run/weight")), "track_file /run/weight");
  EXPECT_EQ(tracker_name(script({"/bin/sh", "-c", "pidof haproxy"})), "track_script pidof haproxy");
  EXPECT_EQ(tracker_name(script({"/usr/lib/lvsd/check", "-v"})), "track_script /usr/lib/lvsd/check -v");
}

TEST(Contribution, WeightZeroAddsNothing) {
  for (const auto& t : {interface("eth0"), ping("10.0.0.1"), file("/f"), script({"true"})}) {
    EXPECT_EQ(contribution(t, up()), 0) << tracker_name(t);
    EXPECT_EQ(contribution(t, down("x")), 0) << tracker_name(t);
    EXPECT_EQ(contribution(t, number(7)), 0) << tracker_name(t);
    EXPECT_EQ(contribution(t, TrackerStatus{}), 0) << tracker_name(t);
  }
}

TEST(Contribution, NegativeWeightIsAddedOnFailure) {
  for (const auto& t : {interface("eth0", -20), ping("10.0.0.1", -20), track_tcp("10.0.0.1", 80, -20),
                        script({"true"}, -20)}) {
    EXPECT_EQ(contribution(t, up()), 0) << tracker_name(t);
    EXPECT_EQ(contribution(t, down("connect refused")), -20) << tracker_name(t);
    EXPECT_EQ(contribution(t, TrackerStatus{}), -20) << tracker_name(t) << ": unknown counts as failed";
  }
  EXPECT_EQ(contribution(ping("10.0.0.1", -253), down("x")), -253);
}

TEST(Contribution, PositiveWeightIsAddedOnSuccess) {
  for (const auto& t :
       {interface("eth0", 15), ping("10.0.0.1", 15), track_tcp("10.0.0.1", 80, 15), script({"true"}, 15)}) {
    EXPECT_EQ(contribution(t, up()), 15) << tracker_name(t);
    EXPECT_EQ(contribution(t, down("timeout after 1 s")), 0) << tracker_name(t);
    EXPECT_EQ(contribution(t, TrackerStatus{}), 0) << tracker_name(t);
  }
  EXPECT_EQ(contribution(ping("10.0.0.1", 253), up()), 253);
}

TEST(Contribution, FileAddsNumberTimesWeightWithinPlusMinus254) {
  EXPECT_EQ(contribution(file("/f", 10), number(3)), 30);
  EXPECT_EQ(contribution(file("/f", 10), number(-2)), -20);
  EXPECT_EQ(contribution(file("/f", -10), number(5)), -50);
  EXPECT_EQ(contribution(file("/f", -10), number(-5)), 50);
  EXPECT_EQ(contribution(file("/f", 10), number(0)), 0);
  EXPECT_EQ(contribution(file("/f", 1), number(254)), 254);
  EXPECT_EQ(contribution(file("/f", 100), number(254)), 254);
  EXPECT_EQ(contribution(file("/f", 253), number(-254)), -254);
  EXPECT_EQ(contribution(file("/f", -253), number(3)), -254);
  // A file that cannot be read counts as 0.
  EXPECT_EQ(contribution(file("/f", 10), down("cannot read: No such file or directory")), 0);
}

TEST(Faults, OnlyWeightZeroTrackersThatFail) {
  EXPECT_TRUE(faults(interface("eth0"), down("link down")));
  EXPECT_FALSE(faults(interface("eth0"), up("link up")));
  EXPECT_TRUE(faults(interface("eth0"), TrackerStatus{}));
  EXPECT_FALSE(faults(interface("eth0", -20), down("link down")));
  EXPECT_FALSE(faults(interface("eth0", 20), down("link down")));
  EXPECT_TRUE(faults(file("/f"), number(0)));
  EXPECT_FALSE(faults(file("/f"), number(1)));
  EXPECT_FALSE(faults(file("/f"), number(-1)));
  EXPECT_TRUE(faults(file("/f"), down("not a number: \"x\"")));
  EXPECT_FALSE(faults(file("/f", 5), number(0)));
}

TEST(Aggregate, NoTrackersNoFaultNoDelta) { EXPECT_EQ(aggregate({}, {}), verdict(false, 0)); }

TEST(Aggregate, AllWellAddsThePositiveWeights) {
  const std::vector<model::Tracker> t{interface("eth0"), ping("10.0.0.1", -20), track_tcp("10.0.0.1", 80, 5),
                                      file("/f", 2), script({"true"}, 7)};
  EXPECT_EQ(aggregate(t, {up("link up"), up("echo reply"), up(), number(4), up("exit 0")}), verdict(false, 5 + 8 + 7));
}

TEST(Aggregate, WeightedFailuresSum) {
  const std::vector<model::Tracker> t{ping("10.0.0.1", -20), track_tcp("10.0.0.1", 80, -30), script({"true"}, 10)};
  EXPECT_EQ(aggregate(t, {down("timeout after 1 s"), up(), up("exit 0")}), verdict(false, -10));
  EXPECT_EQ(aggregate(t, {down("timeout after 1 s"), down("connect refused"), down("exit 1")}), verdict(false, -50));
  EXPECT_EQ(aggregate(t, {up(), up(), down("exit 1")}), verdict(false, 0));
}

TEST(Aggregate, AWeightZeroFailureIsAFaultThatNamesIt) {
  const std::vector<model::Tracker> t{ping("10.0.0.1"), track_tcp("127.0.0.1", 80, -20)};
  EXPECT_EQ(aggregate(t, {down("timeout after 1 s"), up()}),
            verdict(true, 0, "track_ping 10.0.0.1: timeout after 1 s"));
  // The delta is still computed: it is right the moment the fault ends.
  EXPECT_EQ(aggregate(t, {down("timeout after 1 s"), down("connect refused")}),
            verdict(true, -20, "track_ping 10.0.0.1: timeout after 1 s"));
}

TEST(Aggregate, EveryFaultIsNamedInConfigOrder) {
  const std::vector<model::Tracker> t{interface("eth0"), ping("10.0.0.1", -20), file("/run/ok"),
                                      script({"/bin/sh", "-c", "exit 1"})};
  EXPECT_EQ(aggregate(t, {down("link down"), down("host unreachable"), number(0), down("exit 1")}),
            verdict(true, -20,
                    "track_interface eth0: link down; track_file /run/ok: value 0; track_script exit 1: exit 1"));
  EXPECT_EQ(aggregate(t, {up("link up"), up("echo reply"), number(0), up("exit 0")}),
            verdict(true, 0, "track_file /run/ok: value 0"));
}

TEST(Aggregate, MissingStatusesCountAsNotChecked) {
  const std::vector<model::Tracker> t{track_tcp("127.0.0.1", 80), ping("10.0.0.1", -20)};
  EXPECT_EQ(aggregate(t, {up()}), verdict(false, -20));
  EXPECT_EQ(aggregate(t, {}), verdict(true, -20, "track_tcp 127.0.0.1:80: not checked yet"));
}

TEST(ParseTrackFile, AcceptsOneIntegerWithWhiteSpace) {
  EXPECT_EQ(parse_track_file("5"), 5);
  EXPECT_EQ(parse_track_file("0\n"), 0);
  EXPECT_EQ(parse_track_file(" -3\n"), -3);
  EXPECT_EQ(parse_track_file("\t+7\r\n"), 7);
  EXPECT_EQ(parse_track_file("254"), 254);
  EXPECT_EQ(parse_track_file("1000"), 254);
  EXPECT_EQ(parse_track_file("-1000"), -254);
  EXPECT_EQ(parse_track_file(""), std::nullopt);
  EXPECT_EQ(parse_track_file("\n"), std::nullopt);
  EXPECT_EQ(parse_track_file("abc"), std::nullopt);
  EXPECT_EQ(parse_track_file("5x"), std::nullopt);
  EXPECT_EQ(parse_track_file("1 2"), std::nullopt);
  EXPECT_EQ(parse_track_file("1.5"), std::nullopt);
  EXPECT_EQ(parse_track_file("+-1"), std::nullopt);
  EXPECT_EQ(parse_track_file("99999999999999999999"), std::nullopt);
}

// ---- The driver ----

// Runs `io` until `done` or 5 s: no test waits for a fixed time.
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.run_one_for(10ms);
    if (io.stopped()) io.restart();
  }
  return true;
}

// A directory that "nobody" (the scripts' user) can read and search.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/lvsd_trackers_XXXXXX";
    path = ::mkdtemp(name);
    ::chmod(path.c_str(), 0755);
  }
  ~TempDir() { (void)std::system(("rm -rf " + path).c_str()); }
  std::string operator/(const std::string& file) const { return path + "/" + file; }
};

void write(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << content;
  std::rename(tmp.c_str(), path.c_str());  // whole at once: the loop never reads half a file
}

struct Fixture : ::testing::Test {
  asio::io_context io;
  check::ProberSet probers{io.get_executor(), "nobody"};
  std::vector<Verdict> changes;

  Trackers make(std::vector<model::Tracker> t, model::Millis file_interval = 50ms) {
    Trackers::Options options;
    options.file_interval = file_interval;
    return Trackers(io.get_executor(), std::move(t), probers, [this](const Verdict& v) { changes.push_back(v); },
                    std::move(options));
  }
  // stop(), then the loops end on the context (the probers must outlive them).
  void finish(Trackers& t) {
    t.stop();
    EXPECT_TRUE(run_until(io, [&] { return t.running() == 0; }));
  }
};

using TrackersTest = Fixture;

TEST_F(TrackersTest, LinkEventsMoveTheVerdict) {
  auto t = make({interface("eth0"), interface("eth1", -20), interface("eth2", 5)});
  EXPECT_EQ(t.verdict(), verdict(true, -20, "track_interface eth0: link state unknown"));
  EXPECT_FALSE(t.settled());
  t.start();
  t.set_link("eth0", true);
  t.set_link("eth1", true);
  EXPECT_FALSE(t.settled());
  t.set_link("eth2", true);
  EXPECT_TRUE(t.settled());
  t.set_link("eth9", false);  // watched by no tracker
  t.set_link("eth2", true);   // the same again: no change
  t.set_link("eth0", false);
  t.set_link("eth1", false);
  EXPECT_EQ(changes, (std::vector<Verdict>{verdict(false, -20), verdict(false, 0), verdict(false, 5),
                                           verdict(true, 5, "track_interface eth0: link down"),
                                           verdict(true, -15, "track_interface eth0: link down")}));
  EXPECT_EQ(t.statuses()[0], down("link down"));
  t.stop();
  t.set_link("eth0", true);
  EXPECT_EQ(changes.size(), 5u) << "no callback after stop()";
  EXPECT_EQ(t.running(), 0u);
}

TEST_F(TrackersTest, TwoTrackersOfOneInterfaceBothMove) {
  auto t = make({interface("eth0"), interface("eth0", 10)});
  EXPECT_EQ(t.verdict(), verdict(true, 0, "track_interface eth0: link state unknown"));
  t.set_link("eth0", true);
  EXPECT_EQ(changes, std::vector<Verdict>{verdict(false, 10)});
}

TEST_F(TrackersTest, TcpFallsWhenTheListenerClosesAndRisesWhenItReopens) {
  using asio::ip::tcp;
  auto listener = std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener->local_endpoint().port();
  auto t = make({track_tcp("127.0.0.1", port)});
  const std::string name = "track_tcp 127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(t.verdict(), verdict(true, 0, name + ": not checked yet"));
  t.start();
  ASSERT_TRUE(run_until(io, [&] { return !changes.empty(); }));
  EXPECT_EQ(t.verdict(), verdict(false, 0)) << "the first result decides at once";
  EXPECT_TRUE(t.settled());

  listener.reset();
  ASSERT_TRUE(run_until(io, [&] { return changes.size() == 2; }));
  EXPECT_EQ(t.verdict(), verdict(true, 0, name + ": connect refused"));

  listener = std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ASSERT_TRUE(run_until(io, [&] { return changes.size() == 3; }));
  EXPECT_EQ(changes, (std::vector<Verdict>{verdict(false, 0), verdict(true, 0, name + ": connect refused"),
                                           verdict(false, 0)}));
  finish(t);
  EXPECT_EQ(changes.size(), 3u);
}

TEST_F(TrackersTest, TcpWithAWeightMovesTheDelta) {
  using asio::ip::tcp;
  auto listener = std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener->local_endpoint().port();
  auto t = make({track_tcp("127.0.0.1", port, -20), track_tcp("127.0.0.1", port, 30)});
  EXPECT_EQ(t.verdict(), verdict(false, -20));
  t.start();
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, 30); }));
  listener.reset();
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, -20); }));
  finish(t);
}

// Runs `body` on a thread of its own in a new network namespace with only loopback, up, and
// 198.51.100.0/24 (TEST-NET-2) routed into it: an echo request to 198.51.100.1 goes out and
// is dropped on the way in (not ours, no forwarding), so its silence is certain wherever the
// test runs (in a container, TEST-NET-1's 192.0.2.1 may well be the gateway). The host's
// network is not touched. The reason it could not, if it could not.
std::optional<std::string> in_network_with_a_silent_address(const std::function<void()>& body) {
  const auto route_into_lo = []() -> std::optional<std::string> {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    rtentry route{};
    auto* dst = reinterpret_cast<sockaddr_in*>(&route.rt_dst);
    dst->sin_family = AF_INET;
    dst->sin_addr.s_addr = htonl(0xc6336400);  // 198.51.100.0
    auto* mask = reinterpret_cast<sockaddr_in*>(&route.rt_genmask);
    mask->sin_family = AF_INET;
    mask->sin_addr.s_addr = htonl(0xffffff00);
    char lo[] = "lo";
    route.rt_dev = lo;
    route.rt_flags = RTF_UP;
    const bool routed = ::ioctl(fd, SIOCADDRT, &route) == 0;
    const int error = errno;
    ::close(fd);
    if (!routed) return std::string("cannot route into lo: ") + std::strerror(error);
    return std::nullopt;
  };
  return lvsd::testing::on_thread_in_new_netns(route_into_lo, body);
}

TEST(TrackersPing, LoopbackUpAndASilentAddressDown) {
  const auto why = in_network_with_a_silent_address([] {
    asio::io_context io;
    check::ProberSet probers(io.get_executor(), "nobody");
    std::vector<Verdict> changes;
    Trackers t(io.get_executor(),
               {ping("127.0.0.1"), ping("198.51.100.1"), ping("198.51.100.1", -20), ping("127.0.0.1", 10)}, probers,
               [&](const Verdict& v) { changes.push_back(v); });
    t.start();
    ASSERT_TRUE(run_until(io, [&] { return t.settled(); }));
    EXPECT_EQ(t.statuses()[0], up("echo reply"));
    EXPECT_EQ(t.statuses()[1], down("timeout after 100 ms"));
    EXPECT_EQ(t.statuses()[2], down("timeout after 100 ms"));
    EXPECT_EQ(t.statuses()[3], up("echo reply"));
    EXPECT_EQ(t.verdict(), verdict(true, -20 + 10, "track_ping 198.51.100.1: timeout after 100 ms"));
    t.stop();
    EXPECT_TRUE(run_until(io, [&] { return t.running() == 0; }));
  });
  if (why) GTEST_SKIP() << *why;
}

TEST_F(TrackersTest, ScriptExitStatusIsTheVerdict) {
  TempDir dir;
  const std::string flag = dir / "up";
  write(flag, "");
  const std::string command = "test -e " + flag;
  auto t = make({script({"/bin/sh", "-c", command}), script({"/bin/sh", "-c", command}, 10)});
  t.start();
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, 10); }));
  EXPECT_EQ(t.statuses()[0], up("exit 0"));

  std::remove(flag.c_str());
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(true, 0, "track_script " + command + ": exit 1"); }));

  write(flag, "");
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, 10); }));
  finish(t);
}

TEST_F(TrackersTest, FileNumbersAreReadAgainOnTheirInterval) {
  TempDir dir;
  const std::string a = dir / "a";  // weight 0: 0 is FAULT
  const std::string b = dir / "b";  // weight 10: the number × 10
  write(a, "1\n");
  write(b, "1\n");
  auto t = make({file(a), file(b, 10)});
  EXPECT_EQ(t.verdict(), verdict(true, 0, "track_file " + a + ": not checked yet"));
  t.start();
  ASSERT_TRUE(run_until(io, [&] { return t.settled(); }));
  EXPECT_EQ(t.verdict(), verdict(false, 10));

  write(b, "3\n");
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, 30); }));
  write(b, "-2");
  ASSERT_TRUE(run_until(io, [&] { return t.verdict() == verdict(false, -20); }));
  write(a, "0");
  ASSERT_TRUE(run_until(io, [&] { return t.verdict().fault; }));
  write(a, "zero");
  ASSERT_TRUE(run_until(io, [&] { return t.verdict().reason != "track_file " + a + ": value 0"; }));
  std::remove(a.c_str());
  ASSERT_TRUE(run_until(io, [&] { return t.verdict().reason != "track_file " + a + ": not a number: \"zero\""; }));
  write(a, "-1");
  ASSERT_TRUE(run_until(io, [&] { return !t.verdict().fault; }));
  EXPECT_EQ(changes, (std::vector<Verdict>{
                         verdict(false, 0), verdict(false, 10), verdict(false, 30), verdict(false, -20),
                         verdict(true, -20, "track_file " + a + ": value 0"),
                         verdict(true, -20, "track_file " + a + ": not a number: \"zero\""),
                         verdict(true, -20, "track_file " + a + ": cannot read: No such file or directory"),
                         verdict(false, -20)}));
  finish(t);
}

TEST_F(TrackersTest, StopEndsEveryLoopAndNoCallbackFollows) {
  TempDir dir;
  write(dir / "n", "1");
  // A script that outlives stop(): its attempt is cancelled, not waited for.
  auto t = make({script({"/bin/sh", "-c", "sleep 5"}), ping("198.51.100.1"), file(dir / "n")});
  t.start();
  EXPECT_EQ(t.running(), 3u);
  ASSERT_TRUE(run_until(io, [&] { return t.statuses()[1].known; }));
  const auto seen = changes.size();
  const auto start = std::chrono::steady_clock::now();
  finish(t);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  write(dir / "n", "0");
  t.set_link("eth0", false);
  io.restart();
  io.poll();  // running() == 0: no loop is left to call back, whatever the context runs
  EXPECT_EQ(changes.size(), seen);
}

TEST_F(TrackersTest, StopInsideOnChangeIsTheLastCall) {
  using asio::ip::tcp;
  auto listener = std::make_unique<tcp::acceptor>(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = listener->local_endpoint().port();
  std::unique_ptr<Trackers> t;
  int calls = 0;
  const std::vector<model::Tracker> watched{track_tcp("127.0.0.1", port), interface("eth0", 5)};
  t = std::make_unique<Trackers>(io.get_executor(), watched, probers, [&](const Verdict&) {
    ++calls;
    t->stop();
  });
  t->start();
  t->set_link("eth0", true);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(run_until(io, [&] { return t->running() == 0; }));
  EXPECT_EQ(calls, 1) << "the tcp tracker's first result came after stop()";
}

TEST_F(TrackersTest, DestroyedWhileRunningLeavesNothingBehind) {
  TempDir dir;
  write(dir / "n", "1");
  {
    auto t = make({ping("127.0.0.1"), file(dir / "n")});
    t.start();
    ASSERT_TRUE(run_until(io, [&] { return t.settled(); }));
  }
  const auto seen = changes.size();
  write(dir / "n", "0");
  io.restart();
  // Returns once the loops have ended (out of work); a callback into the gone Trackers
  // would show in `changes`.
  io.run_for(5s);
  EXPECT_TRUE(io.stopped()) << "a loop is still running";
  EXPECT_EQ(changes.size(), seen);
}

}  // namespace
}  // namespace lvsd::vrrp
