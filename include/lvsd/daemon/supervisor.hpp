// lvsd's parent process: it runs the pool process and the VRRP process, each a fresh exec of
// lvsd itself, restarts the one that dies, passes reloads on and stops both at SIGTERM.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/desired.hpp"

namespace lvsd::daemon {

// The two children.
enum class Role : std::uint8_t { Pool, Vrrp };
std::string_view to_string(Role role);  // "pool", "vrrp"
std::optional<Role> role_named(std::string_view name);

// Which children a config needs: the pool process when it declares anything for the IPVS
// table (virtual servers, sync daemons, timeouts, or manage = "exclusive", which must empty a
// table it declares nothing for), the VRRP process when it has VRRP instances.
bool needs(Role role, const model::Desired& desired);

// How long to wait before starting a child again after it died (pure). `deaths_in_a_row`:
// this death and those just before it, each within kGoodRun of its start (a death after a
// good run counts 1). The first: at once, so a crashed VRRP process is back well within its
// peer's Master_Down_Interval; then 1 s, 2 s, 4 s ... up to 30 s, so a child that cannot
// start does not spin.
constexpr std::chrono::seconds kGoodRun{30};
std::chrono::milliseconds restart_delay(unsigned deaths_in_a_row);

// "exited with status 1", "killed by signal 9 (core dumped)".
std::string describe_exit(int wait_status);

// The parent's loop. Signals (SIGCHLD, SIGHUP, SIGTERM, SIGINT) are taken synchronously
// (sigtimedwait) rather than by handlers; the children get the mask the parent started with.
//   SIGHUP: the config is read again: with errors it is logged and nothing changes;
//           otherwise children the new config needs are started, those it no longer needs
//           are stopped (SIGTERM), and the others get SIGHUP to reload themselves.
//   SIGTERM, SIGINT: every child gets SIGTERM; after `stop_grace` the ones left get SIGKILL.
// A child runs `program --child ROLE -f CONFIG` (program: /proc/self/exe by default), dies
// with the parent (PR_SET_PDEATHSIG SIGTERM), and is restarted after restart_delay().
class Supervisor {
 public:
  using Log = std::function<void(std::string_view)>;
  // Reads the config: nullopt after logging its errors.
  using Load = std::function<std::optional<model::Desired>()>;
  struct Options {
    std::string program = "/proc/self/exe";
    std::string config_path;
    std::chrono::milliseconds stop_grace{10'000};
  };

  Supervisor(Options options, Load load, Log log);
  // Starts the children `first` needs and supervises them until SIGTERM or SIGINT; returns
  // the exit status for lvsd (0 after a clean stop). Must be called with no other thread
  // running (it changes the process's signal mask).
  int run(const model::Desired& first);

 private:
  struct Child {
    Role role;
    pid_t pid = -1;  // -1: not running
    bool wanted = false;
    std::chrono::steady_clock::time_point started{};
    std::optional<std::chrono::steady_clock::time_point> restart_at;
    unsigned deaths_in_a_row = 0;
  };

  void start(Child& child);
  void reap();
  void reload();
  void want(const model::Desired& desired);
  int stop_all();
  std::optional<std::chrono::steady_clock::time_point> next_restart() const;

  Options options_;
  Load load_;
  Log log_;
  std::vector<Child> children_;
  sigset_t original_mask_{};
};

}  // namespace lvsd::daemon
