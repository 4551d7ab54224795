// The namespace scenarios' world on the host's kernel: a switch namespace with bridges, hosts
// (directors, a client, a gateway) plugged into them by veth pairs, lvsd and keepalived run
// inside hosts as real processes, and a capture on the client's port that sees what a client
// on that segment sees: ARP, VRRP adverts and the VIP's echo replies, with the MAC that sent
// each.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lvsd/vrrp/addresses.hpp"
#include "support/netns.hpp"

namespace lvsd::netns {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;
using testing::Entered;
using testing::OtherNetns;

inline bool shell(const std::string& command) { return testing::NetnsScope::run(command); }

// A network namespace of the scenario with a name for messages.
class Host {
 public:
  explicit Host(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  const OtherNetns& ns() const { return ns_; }
  bool ok() const { return ns_.ok(); }
  // A shell command inside the namespace; true when it exits 0.
  bool run(const std::string& command) const {
    Entered in(&ns_);
    return shell(command);
  }
  std::string output(const std::string& command) const {
    Entered in(&ns_);
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) out.append(buffer, n);
      ::pclose(p);
    }
    return out;
  }

 private:
  std::string name_;
  OtherNetns ns_;
};

// Bridges in a namespace of their own, and hosts plugged into them.
class Lan {
 public:
  Lan() : switch_("switch") {}
  bool ok() const { return switch_.ok(); }
  bool add_bridge(const std::string& bridge) {
    // No STP, no forwarding delay: a port forwards as soon as it is up.
    return switch_.run("ip link set lo up && ip link add " + bridge + " type bridge forward_delay 0 && ip link set " +
                       bridge + " up");
  }
  // `host` gets `interface` (with `cidr`, and `mac` when given) on `bridge`; the switch's end
  // is named "<host>-<interface>".
  bool plug(const Host& host, const std::string& interface, const std::string& bridge, const std::string& cidr,
            const std::string& mac = "") {
    const std::string port = port_name(host, interface);
    if (!switch_.run("ip link add " + port + " type veth peer name " + interface + " netns " + host.ns().path() +
                     " && ip link set " + port + " master " + bridge + " && ip link set " + port + " up"))
      return false;
    return host.run("ip link set lo up" + (mac.empty() ? std::string() : " && ip link set " + interface + " address " + mac) +
                    (cidr.empty() ? std::string() : " && ip addr add " + cidr + " dev " + interface) + " && ip link set " +
                    interface + " up");
  }
  // `bridge link set dev <port> <settings>` on the host's port ("mcast_flood off", "isolated on").
  bool port(const Host& host, const std::string& interface, const std::string& settings) {
    return switch_.run("bridge link set dev " + port_name(host, interface) + " " + settings);
  }
  const Host& switch_host() const { return switch_; }

 private:
  static std::string port_name(const Host& host, const std::string& interface) { return host.name() + "-" + interface; }
  Host switch_;
};

// A program run inside a host in a process group of its own, its stderr (and stdout) in a
// log file; stopped with SIGTERM (then SIGKILL) when destroyed.
class Process {
 public:
  Process(const Host& host, std::vector<std::string> argv, std::string log) : log_(std::move(log)) {
    pid_ = ::fork();
    if (pid_ != 0) return;
    if (::setns(host.ns().fd(), CLONE_NEWNET) != 0) ::_exit(126);
    ::setpgid(0, 0);
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ~Process() { stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Signals the whole group (lvsd's children are in it).
  void signal_all(int signo) const {
    if (pid_ > 0) ::kill(-pid_, signo);
  }
  // SIGTERM, then SIGKILL after `grace`; the exit status (-1 when killed or gone).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto end = Clock::now() + grace;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > end) {
        signal_all(SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    signal_all(SIGKILL);  // what is left of the group (a killed parent's children)
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // SIGKILL to the whole group, as a crash of the machine's software would be, and reaped.
  void kill_all() {
    signal_all(SIGKILL);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // lvsd: the pid of its newest child of `role` ("vrrp process 123 started").
  std::optional<pid_t> child(const std::string& role) const {
    std::istringstream in(log());
    std::optional<pid_t> pid;
    const std::string key = " " + role + " process ";
    for (std::string line; std::getline(in, line);) {
      const auto at = line.find(key);
      if (at != std::string::npos && line.ends_with(" started")) pid = std::stoi(line.substr(at + key.size()));
    }
    return pid;
  }
  const std::string& log_path() const { return log_; }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

struct Mac {
  std::array<std::uint8_t, 6> bytes{};
  bool operator==(const Mac&) const = default;
  auto operator<=>(const Mac&) const = default;
  std::string text() const {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4],
                  bytes[5]);
    return s;
  }
};

// What the capture saw, each with its time.
struct ArpSeen {
  Clock::time_point at;
  std::uint16_t op = 0;  // 1 request, 2 reply
  Mac sender_mac;
  std::uint32_t sender_ip = 0;  // network order
  std::uint32_t target_ip = 0;
};
struct AdvertSeen {
  Clock::time_point at;
  std::uint32_t source = 0;  // network order
  std::uint8_t vrid = 0;
  std::uint8_t priority = 0;
};
struct ReplySeen {
  Clock::time_point at;
  Mac from;
  std::uint16_t sequence = 0;
};

inline std::uint32_t ipv4(const char* text) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return a.s_addr;
}

// Every frame the host's interface receives, on a thread of its own: ARP, VRRP (IPv4) and
// echo replies. Opened inside the host.
class Capture {
 public:
  Capture(const Host& host, const std::string& interface) {
    Entered in(&host.ns());
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
    if (fd_ < 0 || a.sll_ifindex == 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      return;
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~Capture() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  std::vector<ArpSeen> arps() const {
    std::lock_guard lock(mutex_);
    return arps_;
  }
  std::vector<AdvertSeen> adverts() const {
    std::lock_guard lock(mutex_);
    return adverts_;
  }
  std::vector<ReplySeen> replies() const {
    std::lock_guard lock(mutex_);
    return replies_;
  }

 private:
  void loop() {
    std::array<std::uint8_t, 2048> frame;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      const auto n = ::recvfrom(fd_, frame.data(), frame.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 14 || from.sll_pkttype == PACKET_OUTGOING) continue;
      const auto now = Clock::now();
      Mac source;
      std::memcpy(source.bytes.data(), frame.data() + 6, 6);
      const std::uint16_t type = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
      const std::uint8_t* p3 = frame.data() + 14;
      const std::size_t left = static_cast<std::size_t>(n) - 14;
      std::lock_guard lock(mutex_);
      if (type == ETH_P_ARP && left >= 28) {
        ArpSeen a;
        a.at = now;
        a.op = static_cast<std::uint16_t>(p3[6] << 8 | p3[7]);
        std::memcpy(a.sender_mac.bytes.data(), p3 + 8, 6);
        std::memcpy(&a.sender_ip, p3 + 14, 4);
        std::memcpy(&a.target_ip, p3 + 24, 4);
        arps_.push_back(a);
      } else if (type == ETH_P_IP && left >= 20) {
        const std::size_t ihl = (p3[0] & 0x0f) * 4u;
        if (left < ihl + 8) continue;
        std::uint32_t src;
        std::memcpy(&src, p3 + 12, 4);
        if (p3[9] == 112) {
          adverts_.push_back({now, src, p3[ihl + 1], p3[ihl + 2]});
        } else if (p3[9] == IPPROTO_ICMP && p3[ihl] == ICMP_ECHOREPLY) {
          replies_.push_back({now, source, static_cast<std::uint16_t>(p3[ihl + 6] << 8 | p3[ihl + 7])});
        }
      }
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<ArpSeen> arps_;
  std::vector<AdvertSeen> adverts_;
  std::vector<ReplySeen> replies_;
};

// Every `period`: an echo request to the VIP from the client (the replies are the capture's),
// and whether each director holds the VIP on its interface (rtnetlink, in its namespace).
class Sampler {
 public:
  struct Sample {
    Clock::time_point at;
    std::uint16_t sequence = 0;
    std::vector<bool> holds;  // per director, in the order given
  };
  struct Director {
    const Host* host;
    std::string interface;
  };

  Sampler(const Host& client, const char* vip, std::vector<Director> directors, model::VirtualIp address,
          std::chrono::milliseconds period = std::chrono::milliseconds(10))
      : address_(std::move(address)), period_(period) {
    {
      Entered in(&client.ns());
      fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    }
    vip_.sin_family = AF_INET;
    vip_.sin_addr.s_addr = ipv4(vip);
    for (const auto& d : directors) {
      Entered in(&d.host->ns());
      auto m = vrrp::AddressManager::open();
      if (!m) continue;
      managers_.push_back({std::move(*m), d.interface});
    }
    if (fd_ >= 0 && managers_.size() == directors.size()) thread_ = std::thread([this] { loop(); });
  }
  ~Sampler() { stop(); }
  bool ok() const { return thread_.joinable(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  std::vector<Sample> samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
  }

 private:
  void loop() {
    auto next = Clock::now();
    for (std::uint16_t seq = 1; !stop_; ++seq) {
      Sample s;
      s.at = Clock::now();
      s.sequence = seq;
      std::array<std::uint8_t, 16> echo{};
      echo[0] = ICMP_ECHO;
      echo[4] = 0x4c;  // identifier "LV"
      echo[5] = 0x56;
      echo[6] = static_cast<std::uint8_t>(seq >> 8);
      echo[7] = static_cast<std::uint8_t>(seq);
      std::uint32_t sum = 0;
      for (std::size_t i = 0; i < echo.size(); i += 2) sum += static_cast<std::uint32_t>(echo[i] << 8 | echo[i + 1]);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      const auto check = static_cast<std::uint16_t>(~sum);
      echo[2] = static_cast<std::uint8_t>(check >> 8);
      echo[3] = static_cast<std::uint8_t>(check);
      ::sendto(fd_, echo.data(), echo.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&vip_), sizeof vip_);
      std::array<std::uint8_t, 512> drain;
      while (::recv(fd_, drain.data(), drain.size(), MSG_DONTWAIT) > 0) {
      }
      for (auto& [manager, interface] : managers_) {
        const auto r = manager.has(address_, interface);
        s.holds.push_back(r && *r);
      }
      {
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(s));
      }
      next += period_;
      std::this_thread::sleep_until(next);
    }
  }

  model::VirtualIp address_;
  std::chrono::milliseconds period_;
  int fd_ = -1;
  sockaddr_in vip_{};
  std::vector<std::pair<vrrp::AddressManager, std::string>> managers_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Sample> samples_;
};

// Polls `done` every 5 ms until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// p-th percentile (0..100) of values, nearest rank.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::max(0.0, std::ceil(p / 100.0 * values.size()) - 1));
  return values[std::min(rank, values.size() - 1)];
}

}  // namespace lvsd::netns
