// Everything VRRP on one director, on one io_context: a runner per instance, its trackers and
// the link state of its interface, sync groups, notify commands and the notify FIFO. What
// the VRRP process of lvsd runs.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/desired.hpp"
#include "lvsd/vrrp/conflict.hpp"
#include "lvsd/vrrp/instance.hpp"
#include "lvsd/vrrp/notify.hpp"
#include "lvsd/vrrp/runner.hpp"
#include "lvsd/vrrp/trackers.hpp"

namespace lvsd::vrrp {

// One tracker of an instance, named as the config says it ("track_ping 10.0.0.1").
struct TrackerReport {
  std::string name;
  TrackerStatus status;
  bool operator==(const TrackerReport&) const = default;
};

// One instance as an operator asks about it (lvsctl status).
struct InstanceStatus {
  std::string name;
  std::string interface;
  std::uint8_t vrid = 0;
  State state = State::Init;
  std::uint8_t priority = 0;  // effective: configured + trackers' weights
  bool fault = false;
  std::string reason;         // why FAULT: the trackers', "interface eth0 down", or why it cannot run
  bool running = false;       // false: it could not be opened yet (retried every second)
  std::vector<Holder> conflicts;  // other holders of its VIPs seen on the data path now
  bool yielded = false;           // backup because it lost such a conflict
  std::vector<TrackerReport> trackers;  // in config order
  Counters counters;                    // the Instance's (zero until it runs)
  RunnerCounters edge_counters;         // conflicts seen and yielded to, the edges' failures
};

// The instances of a config, run until stop().
//
// - An instance whose interface is missing or has no address yet is not an error for the
//   others: the reason is logged and the opening retried every second, the way an interface
//   that comes up after lvsd is still served.
// - Each instance's own interface is watched (rtnetlink link events): down puts the instance
//   in FAULT, as in keepalived, besides its track_interface trackers.
// - An instance starts once its trackers have all given a first result (at most the longest
//   tracker timeout after start()), so a director does not announce itself as FAULT at every
//   start only because its gateway ping has not come back yet.
// - Every state change runs the instance's notify commands and writes the FIFO line; stop()
//   gives up mastership (priority-0 adverts, VIPs removed) and reports STOP.
// Needs SIGPIPE ignored (the FIFO's reader may leave) and SIGCHLD not ignored (commands).
class Node {
 public:
  using Log = std::function<void(std::string_view)>;
  struct Options {
    model::Millis retry_open{1000};
    model::Millis command_timeout{60'000};  // a notify command is killed after it
  };

  Node(boost::asio::any_io_executor executor, const model::Desired& desired, Log log, Options options);
  Node(boost::asio::any_io_executor executor, const model::Desired& desired, Log log)
      : Node(std::move(executor), desired, std::move(log), Options{}) {}
  ~Node();  // as after SIGKILL: no priority 0, VIPs stay (stop() first for a clean exit)
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void start();
  void stop();
  // Loops (trackers, notify commands) not yet ended after stop(): run the context until 0.
  std::size_t running() const;

  std::vector<InstanceStatus> status() const;
  const NotifierCounters& notify_counters() const;

  struct Core;  // node.cpp

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace lvsd::vrrp
