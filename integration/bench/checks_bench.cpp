// The health-check scale benchmark: N real servers with tcp checks (listeners spread over
// 127.0.0.0/8, served by a child process) checked every interval for S seconds by one
// check::Engine on one thread. Prints CPU per 1,000 checks, timer lateness p50/p99, open
// descriptors and RSS per real server.
// Usage: lvsd_bench_checks [TCP_SERVERS [SECONDS [INTERVAL_MS]]]   (default 10000 60 1000)
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "lvsd/check/engine.hpp"
#include "lvsd/check/tcp_prober.hpp"

using namespace lvsd;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t kPort = 8000;

// 127.1.0.1, 127.1.0.2, ... 127.1.0.250, 127.1.1.1, ...
model::IpAddress server_address(int i) {
  return model::IpAddress::v4(0x7f010000u | static_cast<std::uint32_t>(i / 250) << 8 | static_cast<std::uint32_t>(i % 250 + 1));
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n - 3;  // ".", ".." and the directory itself
}

struct Cpu {
  double user = 0, system = 0;
  double total() const { return user + system; }
};
Cpu cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) / 1e6,
          static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6};
}

// The real servers: a child with one listener per address, accepting and closing.
pid_t serve(int servers, int ready_fd) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
  const int ep = ::epoll_create1(0);
  for (int i = 0; i < servers; ++i) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kPort);
    a.sin_addr.s_addr = htonl(server_address(i).v4_host_order());
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 128) != 0) {
      std::perror("listener");
      ::_exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = s;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  }
  char ok = 1;
  if (::write(ready_fd, &ok, 1) != 1) ::_exit(1);
  std::vector<epoll_event> events(1024);
  for (;;) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int k = 0; k < n; ++k)
      for (int c; (c = ::accept4(events[k].data.fd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) ::close(c);
  }
}

// Lateness in microseconds, counted in a fixed table made before the RSS is first read (a
// growing list of samples would count as memory per real server).
class Lateness {
 public:
  Lateness() : counts_(kBuckets, 0) {}
  void add(std::chrono::microseconds late) {
    const auto us = std::clamp<std::int64_t>(late.count(), 0, kBuckets - 1);
    ++counts_[static_cast<std::size_t>(us)];
    ++total_;
  }
  double percentile_ms(double p) const {
    if (total_ == 0) return 0;
    const auto want = static_cast<std::uint64_t>(p * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t us = 0; us < counts_.size(); ++us)
      if ((seen += counts_[us]) >= want) return static_cast<double>(us) / 1000.0;
    return static_cast<double>(kBuckets) / 1000.0;
  }

 private:
  static constexpr std::int64_t kBuckets = 1'000'000;  // up to 1 s, by microsecond
  std::vector<std::uint32_t> counts_;
  std::uint64_t total_ = 0;
};

// Wraps a prober to measure how late each check starts after its due time.
class Timed final : public check::Prober {
 public:
  Timed(std::unique_ptr<check::Prober> inner, model::Millis interval, Lateness& lateness, std::uint64_t& checks)
      : inner_(std::move(inner)), interval_(interval), lateness_(lateness), checks_(checks) {}
  boost::asio::awaitable<check::Result> probe(const check::Target& t) override {
    const auto now = Clock::now();
    if (last_ != Clock::time_point{})
      lateness_.add(std::chrono::duration_cast<std::chrono::microseconds>(now - (last_ + interval_)));
    last_ = now;
    ++checks_;
    co_return co_await inner_->probe(t);
  }

 private:
  std::unique_ptr<check::Prober> inner_;
  model::Millis interval_;
  Lateness& lateness_;
  std::uint64_t& checks_;
  Clock::time_point last_{};
};

}  // namespace

int main(int argc, char** argv) {
  const int servers = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
  const model::Millis interval{argc > 3 ? std::atoi(argv[3]) : 1000};

  rlimit files{static_cast<rlim_t>(servers) * 2 + 4096, static_cast<rlim_t>(servers) * 2 + 4096};
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) std::perror("setrlimit (continuing)");
  int ready[2];
  if (::pipe(ready) != 0) return 1;
  const pid_t child = serve(servers, ready[1]);
  ::close(ready[1]);  // so that a child that fails ends the read below
  char ok = 0;
  if (::read(ready[0], &ok, 1) != 1) {
    std::fprintf(stderr, "lvsd_bench_checks: the real servers did not start\n");
    ::waitpid(child, nullptr, 0);
    return 1;
  }

  model::Desired desired;
  for (int v = 0; v * 100 < servers; ++v) {
    model::VirtualServer vs;
    vs.key.endpoint = {model::IpAddress::v4(0x0a640000u | static_cast<std::uint32_t>(v)), 80};
    for (int i = v * 100; i < std::min(servers, v * 100 + 100); ++i) {
      model::RealServer rs;
      rs.endpoint = {server_address(i), kPort};
      model::CheckSpec c;
      c.type = model::CheckType::Tcp;
      c.timing = {.interval = interval, .timeout = model::Millis{1000}, .rise = 2, .fall = 3};
      rs.checks.push_back(c);
      vs.real_servers.push_back(rs);
    }
    desired.virtual_servers.push_back(std::move(vs));
  }

  boost::asio::io_context io;
  Lateness lateness;
  std::uint64_t checks = 0, transitions = 0, errors = 0;
  const long rss_before = rss_kib();
  const int fds_before = open_fds();
  check::Engine engine(
      io.get_executor(),
      [&](const model::CheckSpec& spec) {
        return std::make_unique<Timed>(std::make_unique<check::TcpProber>(), spec.timing.interval, lateness, checks);
      },
      [&](const check::Transition&) { ++transitions; }, [&](const check::ServerKey&, std::size_t, const std::string&) { ++errors; },
      [] { return 0.0; });
  const Cpu cpu_start = cpu_seconds();
  engine.set(desired);
  int fds_peak = 0;
  long rss_peak = 0;
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    io.run_for(std::chrono::milliseconds(1000));
    fds_peak = std::max(fds_peak, open_fds());
    rss_peak = std::max(rss_peak, rss_kib());
  }
  const Cpu cpu_end = cpu_seconds();
  const double cpu = cpu_end.total() - cpu_start.total();
  const double user = cpu_end.user - cpu_start.user;
  engine.stop();
  io.run_for(std::chrono::milliseconds(100));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  const double per_1000 = checks ? cpu * 1e6 / static_cast<double>(checks) : 0;  // ms of CPU
  fmt::print("RESULT-FIGURES checks: {} tcp real servers every {} ms for {} s: {} checks ({:.0f}/s), {} transitions, "
             "{} errors; CPU {:.2f} s ({:.2f} s user, the rest the kernel's TCP on both ends) = {:.1f} ms per 1,000 checks ({:.0f} checks/s per core); lateness p50 {:.2f} ms "
             "p99 {:.2f} ms; descriptors {} -> peak {}; RSS {} KiB -> peak {} KiB = {:.2f} KiB per real server\n",
             servers, interval.count(), seconds, checks, static_cast<double>(checks) / seconds, transitions, errors,
             cpu, user, per_1000, per_1000 > 0 ? 1e6 / per_1000 : 0.0, lateness.percentile_ms(0.5), lateness.percentile_ms(0.99),
             fds_before, fds_peak, rss_before, rss_peak,
             static_cast<double>(rss_peak - rss_before) / servers);
  return transitions == 0 && errors == 0 ? 0 : 1;
}
