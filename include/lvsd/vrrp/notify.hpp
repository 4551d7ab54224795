// What the VRRP process tells the world about state changes: the notify commands of an
// instance or a sync group, and the lines of the notify FIFO.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/check.hpp"
#include "lvsd/model/vrrp.hpp"
#include "lvsd/vrrp/instance.hpp"

namespace lvsd::vrrp {

// Who an event is about: one instance, or a sync group as a whole.
enum class Subject : std::uint8_t { Instance, Group };
std::string_view to_string(Subject subject);  // "INSTANCE", "GROUP"

// One thing worth telling. `state` is what the instance or group entered; a stopped one
// (its process leaving) says STOP.
struct NotifyEvent {
  Subject subject = Subject::Instance;
  std::string name;
  std::string state;          // "MASTER", "BACKUP", "FAULT", "STOP"
  std::uint8_t priority = 0;  // the effective priority (instances only)
  bool operator==(const NotifyEvent&) const = default;
};
// The event's state for a State (INIT, which no event enters, reads STOP: where a runner goes
// back when it stops).
std::string state_word(State state);

// The commands an event runs, in order, each as an argv (pure). A command is run by
// /bin/sh as the operator wrote it, with the event in its environment: LVSD_SUBJECT
// (INSTANCE or GROUP), LVSD_NAME, LVSD_STATE, and for instances LVSD_PRIORITY.
//   notify_<state>: no arguments, as keepalived runs them (`systemctl start x` works).
//   notify:         keepalived's four arguments after what the operator wrote:
//                   INSTANCE name STATE priority, or GROUP name STATE.
// The values reach the shell as positional parameters, never as code.
std::vector<std::vector<std::string>> notify_commands(const model::Notify& notify, const NotifyEvent& event);
// notify_conflict: no arguments; LVSD_STATE=CONFLICT, LVSD_ADDRESS and LVSD_MAC (the other
// holder's) in its environment beside LVSD_SUBJECT and LVSD_NAME.
std::vector<std::string> conflict_command(const std::string& command, const std::string& name,
                                          const std::string& address, const std::string& mac);

// The FIFO's line for an event, keepalived's format: `INSTANCE "VI_1" MASTER 100` or
// `GROUP "G1" BACKUP`, newline-terminated.
std::string fifo_line(const NotifyEvent& event);

struct NotifierCounters {
  std::uint64_t commands_run = 0;      // commands that ran to their end
  std::uint64_t commands_failed = 0;   // could not run, exited non-zero, killed or timed out
  std::uint64_t fifo_lines = 0;        // lines written whole
  std::uint64_t fifo_dropped = 0;      // lines not written: no reader, or its pipe full
  bool operator==(const NotifierCounters&) const = default;
};

// Runs the commands and writes the FIFO, never holding up the VRRP process:
// - the commands of one instance (or group) run one after the other, in the order of the
//   events, so that a notify_backup never overtakes the notify_master before it; different
//   instances' commands run side by side. Each runs as the script user, with stdin from
//   /dev/null, its output lines in the log, and is killed with its process group after
//   `command_timeout`. A command that fails is logged and counted; the next one still runs.
// - the FIFO is created (mkfifo, mode 0600) when the path does not exist, and written without
//   blocking: with no reader, or a reader that does not keep up, the line is dropped and
//   counted (a FIFO is what a reader asked for; the adverts must not wait for it). Lines are
//   shorter than PIPE_BUF, so a reader never sees half of one.
class Notifier {
 public:
  using Log = std::function<void(std::string_view)>;
  struct Options {
    std::string fifo_path;  // empty: no FIFO
    std::string script_user = "nobody";
    model::Millis command_timeout{60'000};
  };

  Notifier(boost::asio::any_io_executor executor, Options options, Log log);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The event's FIFO line now, and its commands queued behind the subject's earlier ones.
  void notify(const model::Notify& commands, const NotifyEvent& event);
  // notify_conflict (no FIFO line: conflicts are not states; the log says them).
  void conflict(const model::Notify& commands, const std::string& name, const std::string& address,
                const std::string& mac);
  // Commands still queued or running.
  std::size_t pending() const;
  // Kills the commands under way and drops the queued ones; nothing runs after it. Their
  // coroutines end at the context's next turns.
  void stop();
  const NotifierCounters& counters() const;

  struct Core;  // notify.cpp

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace lvsd::vrrp
