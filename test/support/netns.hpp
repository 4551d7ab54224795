// Tests that need a network of their own: the test's thread enters a fresh network namespace
// (unshare) and leaves it at the end of the scope; `ip` commands run inside it.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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

}  // namespace lvsd::testing
