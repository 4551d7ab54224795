// Tests that need a network of their own: the test's thread enters a fresh network namespace
// (unshare) and leaves it at the end of the scope; `ip` commands run inside it. A second
// namespace beside it, and the thread inside that one for a scope.
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace lvsd::testing {

// The calling thread (the test's) in a new network namespace while the scope lasts; the
// sockets made inside stay in it. ok() is false where namespaces cannot be made (not root):
// the test then skips.
class NetnsScope {
 public:
  NetnsScope() {
    original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0) return;
    if (::unshare(CLONE_NEWNET) != 0) {
      ::close(original_);
      original_ = -1;
      return;
    }
    ok_ = true;
    // `ip` runs in a child, which inherits the thread's namespace.
    ok_ = run("ip link set lo up");
  }
  ~NetnsScope() {
    if (original_ < 0) return;
    if (::setns(original_, CLONE_NEWNET) != 0) std::abort();  // later tests would run in here
    ::close(original_);
  }
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

  bool ok() const { return ok_; }

  // Runs a shell command (in this namespace); true when it exits 0. Its output goes to the
  // test's stderr.
  static bool run(const std::string& command) {
    const int status = std::system(command.c_str());
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  int original_ = -1;
  bool ok_ = false;
};

// Runs a shell command (in the thread's namespace) until it exits 0, for up to `limit`: the
// kernel's view of a link settles after the command that changed it.
inline bool eventually_shell(const std::string& command, std::chrono::steady_clock::duration limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline)
    if (NetnsScope::run(command)) return true;
  return false;
}

// A second network namespace beside the test's, kept alive by a descriptor that `ip`
// inherits (no O_CLOEXEC), so `ip link set X netns /proc/<pid>/fd/<fd>` can move a link into
// it. The test's thread stays where it was. ok() is false where namespaces cannot be made.
class OtherNetns {
 public:
  OtherNetns() {
    const int here = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (here < 0) return;
    if (::unshare(CLONE_NEWNET) == 0) {
      fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY);
      if (::setns(here, CLONE_NEWNET) != 0) std::abort();  // the test would run in the wrong one
    }
    ::close(here);
  }
  ~OtherNetns() {
    if (fd_ >= 0) ::close(fd_);
  }
  OtherNetns(const OtherNetns&) = delete;
  OtherNetns& operator=(const OtherNetns&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  std::string path() const { return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd_); }

 private:
  int fd_ = -1;
};

// The thread inside `target` while the scope lasts: sockets opened meanwhile belong to it.
// A null target: stay where the thread is.
class Entered {
 public:
  explicit Entered(const OtherNetns* target) {
    if (!target) return;
    back_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (back_ < 0 || ::setns(target->fd(), CLONE_NEWNET) != 0) std::abort();
  }
  ~Entered() {
    if (back_ < 0) return;
    if (::setns(back_, CLONE_NEWNET) != 0) std::abort();
    ::close(back_);
  }
  Entered(const Entered&) = delete;
  Entered& operator=(const Entered&) = delete;

 private:
  int back_ = -1;
};

// Two directors' link: the veth pair v0 (in the thread's namespace: 10.9.0.1/24, fe80::1) and
// v1 (in `other`: 10.9.0.2/24, fe80::2), up, with no link-local address of the kernel's own
// and no DAD, so the IPv6 sources are usable at once; `macs`: 02:00:00:00:00:01 and :02.
// Returns once both ends' queues are up (until the carrier is seen the queue is noop, and
// drops what is sent); false if a step failed.
inline bool director_link(const OtherNetns& other, bool macs = false) {
  const std::string a = macs ? " address 02:00:00:00:00:01" : "", b = macs ? " address 02:00:00:00:00:02" : "";
  if (!NetnsScope::run("ip link add v0" + a + " type veth peer name v1" + b + " && ip link set v1 netns " +
                       other.path() +
                       " && ip link set v0 addrgenmode none && ip addr add 10.9.0.1/24 dev v0"
                       " && ip addr add fe80::1/64 dev v0 nodad && ip link set v0 up"))
    return false;
  {
    Entered in(&other);
    if (!NetnsScope::run("ip link set lo up && ip link set v1 addrgenmode none && ip addr add 10.9.0.2/24 dev v1"
                         " && ip addr add fe80::2/64 dev v1 nodad && ip link set v1 up") ||
        !eventually_shell("ip link show v1 | grep -q 'qdisc noqueue'"))
      return false;
  }
  return eventually_shell("ip link show v0 | grep -q 'qdisc noqueue'");
}

// Runs `body` on a thread of its own in a new network namespace with only loopback, up,
// after `setup` (in that namespace) has made it what the test needs; `setup` gives the
// reason it could not, if it could not. The test's other threads and the host's network are
// not touched. The reason the namespace could not be made ready, if it could not.
inline std::optional<std::string> on_thread_in_new_netns(const std::function<std::optional<std::string>()>& setup,
                                                         const std::function<void()>& body) {
  std::optional<std::string> why;
  std::thread thread([&] {
    // A namespace is a thread's own.
    if (::unshare(CLONE_NEWNET) != 0) {
      why = std::string("cannot make a network namespace: ") + std::strerror(errno);
      return;
    }
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    const bool up =
        ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags |= IFF_UP, ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
    const int error = errno;
    ::close(fd);
    if (!up) {
      why = std::string("cannot bring lo up: ") + std::strerror(error);
      return;
    }
    if ((why = setup())) return;
    body();
  });
  thread.join();
  return why;
}

}  // namespace lvsd::testing
