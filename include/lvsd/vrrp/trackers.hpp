// A VRRP instance's trackers: what each one sees, and what they all say (fault, priority delta).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/check/probers.hpp"
#include "lvsd/model/vrrp.hpp"

namespace lvsd::vrrp {

// What one tracker sees now. A track_file tracker's verdict is `number`; the others' is `up`.
struct TrackerStatus {
  bool up = false;
  std::int64_t number = 0;  // track_file: the number read (0 when the file cannot be read)
  bool known = false;       // false until the first result, read or link event
  std::string reason;       // "connected", "timeout after 1 s", "link down", "value 3"
  bool operator==(const TrackerStatus&) const = default;
};

// What the trackers together say: give to Instance::set_fault and set_priority_delta.
struct Verdict {
  bool fault = false;
  std::int32_t delta = 0;
  // The weight-0 trackers that put the instance in FAULT, in config order, "; "-separated:
  // "track_ping 10.0.0.1: timeout after 1 s". Empty without a fault.
  std::string reason;
  bool operator==(const Verdict&) const = default;
};

// "track_ping 10.0.0.1", "track_tcp 127.0.0.1:80", "track_http http://127.0.0.1:8080/health",
// "track_file /run/weight", "track_script <command>", "track_interface eth0": the config's
// words, so that a log line points at the config entry.
std::string tracker_name(const model::Tracker& tracker);

// What one tracker adds to the priority (man lvsd.toml(5), TRACKERS): weight 0 adds nothing;
// a negative weight is added when the tracker fails, a positive one when it succeeds; a
// track_file adds number × weight (a file that cannot be read counts as 0). Each tracker's
// part is kept within ±254: more cannot move a priority of 1..254 further.
std::int32_t contribution(const model::Tracker& tracker, const TrackerStatus& status);
// Whether a weight-0 tracker puts the instance in FAULT: failed, or for track_file the number 0.
bool faults(const model::Tracker& tracker, const TrackerStatus& status);
// Pure: `statuses[i]` is `trackers[i]`'s (same size; a missing status counts as unknown).
Verdict aggregate(const std::vector<model::Tracker>& trackers, const std::vector<TrackerStatus>& statuses);

// "5", " -3\n" → the number; nullopt for anything else (empty, "abc", "5x", out of range).
std::optional<std::int64_t> parse_track_file(std::string_view content);

// Runs an instance's trackers on one io_context and reports every change of their verdict.
//
// Start state: every tracker starts unknown, which counts as failed (weight 0: FAULT), and
// its first result decides at once, without waiting for `rise` or `fall`; after that,
// rise/fall as for checks (check::HealthTracker). So a director neither claims its addresses
// on the hope that its gateway answers (keepalived's default, which only `init_fail` turns
// off), nor sits in FAULT for rise × interval at every start. The runner can hold the
// instance back until settled() (every tracker has its first result) to skip that FAULT.
// A track_interface is unknown until the first set_link() for its name.
//
// Probes and scripts: one small loop per tracker with check::attempt (timeout), `retry`
// retries `delay_before_retry` apart, the next round `interval` after the previous one
// started, the first after a random part of `warmup`. Not check::Engine: it keys its checks
// by virtual and real server and only knows up/down start states; an instance has a handful
// of trackers, which need no spreading over ticks.
//
// track_file: re-read every `file_interval` (the config has no key for it). A read per
// second costs nothing, and unlike an inotify watch on the file it follows a file replaced
// by rename, deleted, or whose directory appears later.
class Trackers {
 public:
  using OnChange = std::function<void(const Verdict&)>;
  struct Options {
    model::Millis file_interval{1000};
    std::function<double()> random;  // in [0, 1), for warmup; none: no warmup delay
  };

  // Makes the probers at once (from `probers`, which must outlive the loops: see stop()).
  Trackers(boost::asio::any_io_executor executor, std::vector<model::Tracker> trackers, check::ProberSet& probers,
           OnChange on_change, Options options);
  Trackers(boost::asio::any_io_executor executor, std::vector<model::Tracker> trackers, check::ProberSet& probers,
           OnChange on_change)
      : Trackers(std::move(executor), std::move(trackers), probers, std::move(on_change), Options{}) {}
  ~Trackers();
  Trackers(const Trackers&) = delete;
  Trackers& operator=(const Trackers&) = delete;

  // Starts the probe, script and file loops (once).
  void start();
  // A link event from the link monitor; names no tracker watches are ignored.
  void set_link(std::string_view interface, bool up);
  // Ends every loop: on_change is never called again, from here on. An attempt under way is
  // cancelled from the loop (as check::Engine does), so its loop ends at the context's next
  // turns; the ProberSet must live until then (running() == 0) or until the io_context is
  // destroyed first.
  void stop();

  const Verdict& verdict() const;
  const std::vector<TrackerStatus>& statuses() const;
  const std::vector<model::Tracker>& trackers() const;
  bool settled() const;
  // Loops not yet ended (probe, script, file).
  std::size_t running() const;

  struct Core;  // trackers.cpp

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace lvsd::vrrp
