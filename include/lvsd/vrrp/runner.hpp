// One VRRP instance at work: its Instance driven by the adverts its socket hears and by one
// timer, and the actions it asks for done with the socket, the address manager and the
// announcer, on one io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/vrrp.hpp"
#include "lvsd/vrrp/conflict.hpp"
#include "lvsd/vrrp/instance.hpp"
#include "lvsd/vrrp/socket.hpp"

namespace lvsd::vrrp {

// What went wrong at the edges; the kernel refusing something is counted and logged, never
// thrown, so one failed VIP or send does not stop the adverts.
struct RunnerCounters {
  std::uint64_t send_errors = 0;       // adverts the socket could not send
  std::uint64_t address_errors = 0;    // VIPs the kernel would not add or remove
  std::uint64_t route_errors = 0;      // virtual routes the same
  std::uint64_t announce_errors = 0;   // gratuitous ARPs / NAs not sent
  std::uint64_t announcements = 0;     // gratuitous ARPs / NAs sent
  std::uint64_t receive_errors = 0;    // the socket failed to receive (FAULT until it receives again)
  std::uint64_t conflicts = 0;         // other masters of our VIPs found on the data path while master
  std::uint64_t conflict_yields = 0;   // ... to which we yielded
  bool operator==(const RunnerCounters&) const = default;
};

class Runner {
 public:
  using Log = std::function<void(std::string_view)>;
  using OnState = std::function<void(State from, State to)>;
  using OnReady = std::function<void()>;
  using OnConflict = std::function<void(const ConflictEvent&)>;

  // Opens the socket (source: unicast_source, else the interface's address as
  // interface_address() gives it, which is also the Instance's primary address), the address
  // manager and the announcer, all in the calling thread's network namespace, where they stay.
  // With use_vmac the instance's macvlan is made (or reused) first, and the socket, the
  // announcer and the VIPs use it (the source stays the interface's address; no conflict
  // watch: both directors' masters would answer from the one virtual MAC); stop() removes it.
  // Nothing is sent before start(). Errors in words. `log` gets one line per event worth an
  // operator's eye (no trailing newline); `on_state` every state change, once the addresses
  // are held or released. Neither may call back into the runner (they run inside it).
  static boost::system::result<Runner, std::string> open(boost::asio::any_io_executor executor,
                                                         const model::VrrpInstance& config, Log log,
                                                         OnState on_state);
  Runner(Runner&&) noexcept;
  Runner& operator=(Runner&&) noexcept;
  // Closes everything WITHOUT giving up: no priority-0 advert, the VIPs stay where they are,
  // as after SIGKILL. A clean exit calls stop() first.
  ~Runner();

  // Starts the instance: the receive loop and the timer. VIPs left on the interfaces by an
  // earlier run that died are removed first, unless the instance starts as master (as
  // keepalived does). An exception in the runner's handlers is a bug, never a refusal by the
  // kernel: it is logged and leaves io_context::run(), for the process to die and be restarted.
  void start();
  // The trackers' verdicts, passed to the Instance at once (set_fault acts now: a faulty
  // master gives up its VIPs; a priority delta shows in the next advert or election).
  void set_fault(bool fault);
  void set_priority_delta(std::int32_t delta);
  // A sync group's hold on going master and a master's stepping down (Instance::hold and
  // yield), acted on at once. hold() may come before start(); both do nothing after stop().
  void hold(bool on);
  void yield();
  bool ready() const;  // Instance::ready, now
  // Called each time a held instance becomes ready, posted to the executor: it runs after the
  // handler that found it, never inside the runner, so it may call back into it (and into
  // other runners). Never after stop() or the runner's end.
  void on_ready(OnReady callback);

  // Split brain that VRRP cannot see (conflict.hpp). While master, the runner probes its VIPs
  // every conflict_probe_interval (and at once on becoming master, after the first GARP
  // burst) and listens for other MACs answering for them; every frame it sends is signed with
  // its VRID, effective priority and primary address. A claim that still comes back when the
  // VIPs are probed again 50 ms after it was first seen (longer than an ordinary handover,
  // in which the old master answers until it has heard the new one's advert) is a conflict:
  // logged, counted and given to `callback` (notify_conflict). With resolve_conflict, the loser of the election
  // evaluated on the two signatures yields (priority 0, VIPs removed, BACKUP) and stays
  // backup, held, while the winner keeps answering for the VIPs; it goes back to the
  // election when the winner stops answering (3 probe rounds) or when adverts are heard
  // again. The winner announces its VIPs again. A holder without a signature (no lvsd:
  // another director, or a DR real server answering ARP for the VIP) is logged, not
  // resolved. The callback runs from the watch's handler, never inside the runner.
  void on_conflict(OnConflict callback);
  bool yielded() const;                 // held back by a conflict it lost
  std::vector<Holder> conflicts() const;  // the other holders of our VIPs known now
  // A master sends priority 0 and removes its VIPs; then the socket closes and the timers stop.
  // The runner does nothing more after it; a second call does nothing.
  void stop();

  State state() const;
  const Counters& counters() const;            // the Instance's: adverts, drops, elections
  const RunnerCounters& edge_counters() const;  // the edges' failures
  const SocketCounters& socket_counters() const;
  const model::IpAddress& primary() const;      // the source of our adverts
  const std::string& name() const;              // the instance's

  struct Impl;  // runner.cpp

 private:
  explicit Runner(std::shared_ptr<Impl> impl);
  // Shared with the receive loop and the timers' handlers, which may run after the runner is
  // gone and must then find a closed state rather than a dangling one.
  std::shared_ptr<Impl> impl_;
};

}  // namespace lvsd::vrrp
