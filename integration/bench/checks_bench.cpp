// The health-check scale benchmark: real servers with tcp checks and real servers with http
// checks (listeners spread over 127.1.0.0/16, served by a child process), checked every
// interval for S seconds by one check::Engine on one thread. Prints, per run, CPU per 1,000
// checks (user and kernel apart), timer lateness p50/p99, open descriptors (before, peak,
// after the checks stop) and RSS per real server.
//
// Usage:
//   lvsd_bench_checks [--tcp N] [--http M] [--seconds S] [--interval MS] [--timeout MS]
//       Two runs, one after the other on the same servers: N tcp checks alone (the tcp
//       checks/s per core figure), then N tcp plus M http checks. Defaults 10000, 2000, 60,
//       1000 and 1000. With --http 0 only the first.
//   lvsd_bench_checks TCP_SERVERS [SECONDS [INTERVAL_MS]]
//       The tcp run alone (the first form of this benchmark).
//   lvsd_bench_checks --serve [--tcp N] [--http M]
//       Only the servers, in the foreground, for another checker (keepalived) to check:
//       prints "ready" once every listener is up and, at SIGTERM or SIGINT, the number of
//       connections each kind served ("served tcp X http Y").
// The real servers: tcp i (0 <= i < N) is 127.1.(i / 250).(i % 250 + 1):8000, http j is the
// address of number N + j, port 8080, answering "HTTP/1.1 200 OK" with a 2-byte body.
// Exit status 0 when every check stayed up and every descriptor was closed at the end.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <thread>
#include <vector>

#include "lvsd/check/engine.hpp"
#include "lvsd/check/probers.hpp"

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

// Bytes the program has allocated and not freed (glibc's count).
long heap_bytes() { return static_cast<long>(::mallinfo2().uordblks); }

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
  ::getrusage(RUSAGE_THREAD, &u);  // the loop's thread (not the sampler)
  return {static_cast<double>(u.ru_utime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec) / 1e6,
          static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) / 1e6};
}

constexpr std::uint16_t kHttpPort = 8080;
constexpr std::string_view kHttpReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

volatile sig_atomic_t g_stop = 0;
double g_tcp_ms_per_1000 = 0;  // the tcp run's CPU per 1,000 checks
void on_stop(int) { g_stop = 1; }

int listen_on(model::IpAddress address, std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(address.v4_host_order());
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 128) != 0) {
    std::perror("listener");
    ::_exit(1);
  }
  return s;
}

// The real servers, on one epoll: tcp listeners accept and close; http listeners accept,
// read a request to its empty line and answer it. Runs until SIGTERM or SIGINT (the
// benchmark's child also dies with its parent); returns the connections served.
struct Served {
  std::uint64_t tcp = 0, http = 0;
};
Served run_servers(int tcp, int http, int ready_fd) {
  enum Kind : std::uint32_t { TcpListener, HttpListener, HttpConnection };
  const auto tag = [](int fd, Kind kind) { return static_cast<std::uint64_t>(kind) << 32 | static_cast<std::uint32_t>(fd); };
  const int ep = ::epoll_create1(0);
  const auto watch = [&](int fd, Kind kind) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(fd, kind);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  };
  for (int i = 0; i < tcp; ++i) watch(listen_on(server_address(i), kPort), TcpListener);
  for (int j = 0; j < http; ++j) watch(listen_on(server_address(tcp + j), kHttpPort), HttpListener);
  struct sigaction stop {};
  stop.sa_handler = on_stop;
  ::sigaction(SIGTERM, &stop, nullptr);
  ::sigaction(SIGINT, &stop, nullptr);
  char ok = 1;
  if (::write(ready_fd, &ok, 1) != 1) ::_exit(1);
  Served served;
  std::unordered_map<int, std::string> requests;  // http connections: what they sent so far
  std::vector<epoll_event> events(1024);
  char buffer[4096];
  while (!g_stop) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int k = 0; k < n; ++k) {
      const int fd = static_cast<int>(events[k].data.u64 & 0xffffffffu);
      switch (static_cast<Kind>(events[k].data.u64 >> 32)) {
        case TcpListener:
          for (int c; (c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0; ++served.tcp) ::close(c);
          break;
        case HttpListener:
          for (int c; (c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
            requests[c];
            watch(c, HttpConnection);
          }
          break;
        case HttpConnection: {
          auto& request = requests[fd];
          ssize_t got;
          while ((got = ::read(fd, buffer, sizeof buffer)) > 0) request.append(buffer, static_cast<std::size_t>(got));
          const bool complete = request.find("\r\n\r\n") != std::string::npos;
          if (complete) {
            [[maybe_unused]] const auto w = ::write(fd, kHttpReply.data(), kHttpReply.size());
            ++served.http;
          }
          if (complete || got == 0 || (got < 0 && errno != EAGAIN)) {
            requests.erase(fd);
            ::close(fd);
          }
          break;
        }
      }
    }
  }
  return served;
}

// The real servers in a child process that dies with the benchmark.
pid_t serve(int tcp, int http, int ready_fd) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The real servers stand in for other machines: on a director they take none of its CPU.
  // Here they share the host's cores with the checks, and at nice 10 they wait while the
  // checks' loop needs one, instead of taking turns with it (the scheduler's turns of several
  // milliseconds showed as the checks' lateness).
  if (::setpriority(PRIO_PROCESS, 0, 10) != 0) std::perror("setpriority (continuing)");
  run_servers(tcp, http, ready_fd);
  ::_exit(0);
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

struct Options {
  int tcp = 10000;
  int http = 2000;
  int seconds = 60;
  model::Millis interval{1000};
  model::Millis timeout{1000};
  bool serve_only = false;
  bool tcp_only = false;  // the first form: one run
};

Options parse(int argc, char** argv) {
  Options o;
  if (argc > 1 && argv[1][0] != '-') {
    o.tcp_only = true;
    o.http = 0;
    o.tcp = std::atoi(argv[1]);
    if (argc > 2) o.seconds = std::atoi(argv[2]);
    if (argc > 3) o.interval = model::Millis{std::atoi(argv[3])};
    return o;
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lvsd_bench_checks: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--serve") o.serve_only = true;
    else if (arg == "--tcp") o.tcp = value();
    else if (arg == "--http") o.http = value();
    else if (arg == "--seconds") o.seconds = value();
    else if (arg == "--interval") o.interval = model::Millis{value()};
    else if (arg == "--timeout") o.timeout = model::Millis{value()};
    else {
      std::fprintf(stderr, "lvsd_bench_checks: unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  return o;
}

model::CheckSpec spec_of(model::CheckType type, const Options& o) {
  model::CheckSpec c;
  c.type = type;
  c.timing = {.interval = o.interval, .timeout = o.timeout, .rise = 2, .fall = 3};
  if (type == model::CheckType::Http) c.detail = model::HttpCheck{};  // GET / and 200
  return c;
}

// tcp real servers, then http ones, 100 to a virtual server.
model::Desired farm(int tcp, int http, const Options& o) {
  model::Desired desired;
  const int total = tcp + http;
  for (int v = 0; v * 100 < total; ++v) {
    model::VirtualServer vs;
    vs.key.endpoint = {model::IpAddress::v4(0x0a640000u | static_cast<std::uint32_t>(v)), 80};
    for (int i = v * 100; i < std::min(total, v * 100 + 100); ++i) {
      model::RealServer rs;
      const bool is_http = i >= tcp;
      rs.endpoint = {server_address(i), is_http ? kHttpPort : kPort};
      rs.checks.push_back(spec_of(is_http ? model::CheckType::Http : model::CheckType::Tcp, o));
      vs.real_servers.push_back(rs);
    }
    desired.virtual_servers.push_back(std::move(vs));
  }
  return desired;
}

// One run: `tcp` + `http` checks for the options' seconds. False when a check went down,
// failed, or a descriptor stayed open.
bool run(int tcp, int http, const Options& o) {
  const model::Desired desired = farm(tcp, http, o);
  boost::asio::io_context io;
  Lateness lateness;
  std::uint64_t checks = 0, transitions = 0, errors = 0;
  std::string first_transition;
  {  // the io_context's reactor (epoll, eventfd, timerfd) opens at its first wait
    boost::asio::steady_timer warm(io, std::chrono::milliseconds(0));
    warm.async_wait([](boost::system::error_code) {});
    io.run();
    io.restart();
  }
  const long rss_before = rss_kib();
  const long heap_before = heap_bytes();
  const int fds_before = open_fds();
  {
    // Both go before the descriptors are counted at the end: what the probers share (the
    // tcp checks' epoll set) closes with them.
    std::optional<check::ProberSet> probers(std::in_place, io.get_executor(), "nobody");
    std::optional<check::Engine> engine(
        std::in_place, io.get_executor(),
        [&](const model::CheckSpec& spec) {
          return std::make_unique<Timed>(probers->make(spec), spec.timing.interval, lateness, checks);
        },
        [&](const check::Transition& t) {
          if (transitions++ == 0) first_transition = fmt::format("{} {}", t.server.server.to_string(), t.cause.reason);
        },
        [&](const check::ServerKey&, std::size_t, const std::string&) { ++errors; }, [] { return 0.0; });
    const Cpu cpu_start = cpu_seconds();
    engine->set(desired);
    const long heap_set = heap_bytes();
    // The peaks are sampled by a thread of their own, not between turns of the loop:
    // reading /proc/self/fd with 900 descriptors open takes up to 7 ms on a busy host, a
    // stall of the loop that lvsd itself never has, and that made up much of the lateness
    // p99. The heap is read once more at the end (mallinfo2 holds the allocator's lock
    // while it walks the heap, which would stall the loop from any thread).
    std::atomic<int> fds_peak = 0;
    std::atomic<long> rss_peak = 0;
    std::atomic<bool> sampling = true;
    std::thread sampler([&] {
      while (sampling) {
        fds_peak = std::max(fds_peak.load(), open_fds());
        rss_peak = std::max(rss_peak.load(), rss_kib());
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
    });
    io.run_for(std::chrono::seconds(o.seconds));
    sampling = false;
    sampler.join();
    const Cpu cpu_end = cpu_seconds();
    const long heap_end = heap_bytes();
    engine->stop();
    // The cancelled checks unwind (their sockets close); on a loaded machine this may take
    // more than one turn of the loop.
    io.run_for(std::chrono::milliseconds(100));
    engine.reset();
    probers.reset();
    int fds_after = open_fds();
    for (const auto deadline = Clock::now() + std::chrono::seconds(5); fds_after != fds_before && Clock::now() < deadline;
         fds_after = open_fds())
      io.run_for(std::chrono::milliseconds(100));
    const double cpu = cpu_end.total() - cpu_start.total();
    const double user = cpu_end.user - cpu_start.user;
    const double per_1000 = checks ? cpu * 1e6 / static_cast<double>(checks) : 0;  // ms of CPU
    if (http == 0) g_tcp_ms_per_1000 = per_1000;
    const int servers = tcp + http;
    fmt::print("RESULT-FIGURES checks: {} tcp + {} http real servers every {} ms for {} s: {} checks ({:.0f}/s), "
               "{} transitions, {} errors; CPU {:.2f} s ({:.2f} s user, {:.2f} s kernel: TCP on both ends) = "
               "{:.1f} ms per 1,000 checks ({:.0f} checks/s per core); lateness p50 {:.2f} ms p99 {:.2f} ms; "
               "descriptors {} -> peak {} -> {} after; RSS {} KiB -> peak {} KiB = {:.2f} KiB per real server "
               "(heap {:.0f} bytes per real server once set, {:.0f} at the end)\n",
               tcp, http, o.interval.count(), o.seconds, checks, static_cast<double>(checks) / o.seconds, transitions,
               errors, cpu, user, cpu - user, per_1000, per_1000 > 0 ? 1e6 / per_1000 : 0.0,
               lateness.percentile_ms(0.5), lateness.percentile_ms(0.99), fds_before, fds_peak.load(), fds_after, rss_before,
               rss_peak.load(), static_cast<double>(rss_peak - rss_before) / servers,
               static_cast<double>(heap_set - heap_before) / servers, static_cast<double>(heap_end - heap_before) / servers);
    if (transitions) fmt::print("first transition: {}\n", first_transition);
    if (fds_after != fds_before) fmt::print("descriptors left open: {}\n", fds_after - fds_before);
    return transitions == 0 && errors == 0 && fds_after == fds_before;
  }
}

// The floor: the same connects at the same pace (the checks of one tick of the engine's
// clock started together) with nothing but the system calls a connect check needs (socket,
// connect, epoll_ctl, epoll_wait, getsockopt, setsockopt, close), for a few seconds. What a
// check costs the kernel moves with the host; lvsd's CPU per check over this floor's,
// measured one after the other, does not move as much. CPU ms per 1,000 connects.
double floor_ms_per_1000(int tcp, const Options& o) {
  const int seconds = std::clamp(o.seconds / 4, 2, 10);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  const double per_tick = static_cast<double>(tcp) / static_cast<double>(o.interval.count());
  double owed = 0;
  int next = 0;
  long connects = 0, in_flight = 0;
  const auto start_one = [&] {
    const model::Endpoint to{server_address(next++ % tcp), kPort};
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to.port);
    a.sin_addr.s_addr = htonl(to.address.v4_host_order());
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EINPROGRESS) {
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLONESHOT;
      ev.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      ++in_flight;
    } else {
      ::close(fd);
      ++connects;
    }
  };
  const Cpu before = cpu_seconds();
  const auto end = Clock::now() + std::chrono::seconds(seconds);
  auto tick = Clock::now();
  std::array<epoll_event, 128> events;
  while (tick < end) {
    tick += std::chrono::milliseconds(1);
    for (owed += per_tick; owed >= 1; owed -= 1) start_one();
    for (;;) {
      const auto left = std::max<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(tick - Clock::now()).count(), 0);
      const timespec wait{static_cast<time_t>(left / 1000000000), static_cast<long>(left % 1000000000)};
      const int n = ::epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &wait, nullptr);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
        const linger reset{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        ::close(fd);
        ++connects;
        --in_flight;
      }
      if (n <= 0 && Clock::now() >= tick) break;
    }
  }
  const Cpu after = cpu_seconds();
  // The last connects end (each closes its socket) before the epoll set goes.
  for (const auto deadline = Clock::now() + std::chrono::seconds(2); in_flight > 0 && Clock::now() < deadline;) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
    for (int i = 0; i < n; ++i, --in_flight) ::close(events[static_cast<std::size_t>(i)].data.fd);
  }
  ::close(ep);
  return connects ? (after.total() - before.total()) * 1e6 / static_cast<double>(connects) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const int servers = o.tcp + o.http;
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, static_cast<rlim_t>(servers) * 3 + 4096);
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) std::perror("setrlimit (continuing)");
  int ready[2];
  if (::pipe(ready) != 0) return 1;
  if (o.serve_only) {
    const pid_t pid = ::fork();  // so that "ready" is printed after the listeners are up
    if (pid == 0) {
      ::close(ready[0]);
      const Served served = run_servers(o.tcp, o.http, ready[1]);
      fmt::print("served tcp {} http {}\n", served.tcp, served.http);
      return 0;
    }
    ::close(ready[1]);
    char ok = 0;
    if (::read(ready[0], &ok, 1) != 1) return 1;
    fmt::print("ready\n");
    std::fflush(stdout);
    // The parent forwards the stop and waits for the count.
    struct sigaction stop {};
    stop.sa_handler = on_stop;
    ::sigaction(SIGTERM, &stop, nullptr);
    ::sigaction(SIGINT, &stop, nullptr);
    while (!g_stop) ::pause();
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return 0;
  }
  const pid_t child = serve(o.tcp, o.http, ready[1]);
  ::close(ready[1]);  // so that a child that fails ends the read below
  char ok = 0;
  if (::read(ready[0], &ok, 1) != 1) {
    std::fprintf(stderr, "lvsd_bench_checks: the real servers did not start\n");
    ::waitpid(child, nullptr, 0);
    return 1;
  }
  ::close(ready[0]);
  bool good = run(o.tcp, 0, o);
  const double floor = floor_ms_per_1000(o.tcp, o);
  fmt::print("RESULT-FIGURES floor: the same connects with nothing but their system calls: {:.1f} ms per 1,000 "
             "({:.0f} per second per core); lvsd/floor = {:.2f}\n",
             floor, floor > 0 ? 1e6 / floor : 0.0, floor > 0 ? g_tcp_ms_per_1000 / floor : 0.0);
  if (!o.tcp_only && o.http > 0) good = run(o.tcp, o.http, o) && good;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return good ? 0 : 1;
}
