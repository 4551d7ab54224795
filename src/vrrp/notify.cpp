// Notify commands, one queue per instance or group, and the notify FIFO.
#include "lvsd/vrrp/notify.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <utility>

#include "lvsd/check/runner.hpp"
#include "lvsd/check/script_prober.hpp"

namespace lvsd::vrrp {
namespace asio = boost::asio;

std::string_view to_string(Subject subject) { return subject == Subject::Group ? "GROUP" : "INSTANCE"; }

std::string state_word(State state) {
  return state == State::Init ? std::string("STOP") : std::string(to_string(state));
}

namespace {

// The command as the operator wrote it, run by the shell after the event's facts have been
// exported as LVSD_* variables; with `arguments`, `command "$@"` gets them as its own. The
// values travel as positional parameters, so nothing in them (a name with a quote or a $) is
// ever read as shell code; $0, the command as written, names the process in `ps` and in the
// shell's error messages.
using Variables = std::vector<std::pair<std::string_view, std::string>>;
std::vector<std::string> shell_command(const std::string& command, const Variables& variables,
                                       std::vector<std::string> arguments = {}) {
  std::string script = "export";
  for (std::size_t i = 0; i < variables.size(); ++i) script += fmt::format(" {}=\"${{{}}}\"", variables[i].first, i + 1);
  script += fmt::format("; shift {}; {}", variables.size(), command);
  if (!arguments.empty()) script += " \"$@\"";
  std::vector<std::string> argv{"/bin/sh", "-c", std::move(script), command};
  for (const auto& v : variables) argv.push_back(v.second);
  for (auto& a : arguments) argv.push_back(std::move(a));
  return argv;
}

Variables variables_of(const NotifyEvent& event) {
  Variables v{{"LVSD_SUBJECT", std::string(to_string(event.subject))}, {"LVSD_NAME", event.name},
              {"LVSD_STATE", event.state}};
  if (event.subject == Subject::Instance) v.emplace_back("LVSD_PRIORITY", std::to_string(event.priority));
  return v;
}

const std::string& command_for(const model::Notify& notify, std::string_view state) {
  static const std::string none;
  if (state == "MASTER") return notify.master;
  if (state == "BACKUP") return notify.backup;
  if (state == "FAULT") return notify.fault;
  if (state == "STOP") return notify.stop;
  return none;
}

}  // namespace

std::vector<std::vector<std::string>> notify_commands(const model::Notify& notify, const NotifyEvent& event) {
  std::vector<std::vector<std::string>> out;
  const auto variables = variables_of(event);
  if (const auto& c = command_for(notify, event.state); !c.empty()) out.push_back(shell_command(c, variables));
  if (!notify.any.empty()) {
    std::vector<std::string> args{std::string(to_string(event.subject)), event.name, event.state};
    if (event.subject == Subject::Instance) args.push_back(std::to_string(event.priority));
    out.push_back(shell_command(notify.any, variables, std::move(args)));
  }
  return out;
}

std::vector<std::string> conflict_command(const std::string& command, const std::string& name,
                                          const std::string& address, const std::string& mac) {
  return shell_command(command, {{"LVSD_SUBJECT", "INSTANCE"},
                                 {"LVSD_NAME", name},
                                 {"LVSD_STATE", "CONFLICT"},
                                 {"LVSD_ADDRESS", address},
                                 {"LVSD_MAC", mac}});
}

std::string fifo_line(const NotifyEvent& event) {
  if (event.subject == Subject::Group) return fmt::format("GROUP \"{}\" {}\n", event.name, event.state);
  return fmt::format("INSTANCE \"{}\" {} {}\n", event.name, event.state, event.priority);
}

struct Notifier::Core {
  // The commands of one instance or group, and the one running.
  struct Queue {
    std::deque<std::vector<std::string>> waiting;
    bool running = false;  // its coroutine is spawned
    bool busy = false;     // a command of it is under way (taken off `waiting`)
    asio::cancellation_signal cancel;  // the running command's (a signal does not move)
  };

  asio::any_io_executor executor;
  Options options;
  Log log;
  std::map<std::pair<Subject, std::string>, std::unique_ptr<Queue>> queues;
  int fifo = -1;
  bool fifo_failed_logged = false;  // one log line per failure spell, not per event
  bool stopped = false;
  NotifierCounters counters;

  void say(std::string_view line) const {
    if (log) log(line);
  }

  void enqueue(Subject subject, const std::string& name, std::vector<std::vector<std::string>> commands,
               const std::shared_ptr<Core>& self) {
    if (stopped || commands.empty()) return;
    auto& slot = queues[{subject, name}];
    if (!slot) slot = std::make_unique<Queue>();
    Queue& q = *slot;
    for (auto& c : commands) q.waiting.push_back(std::move(c));
    if (q.running) return;
    q.running = true;
    asio::co_spawn(executor, work(self, &q), asio::bind_cancellation_slot(q.cancel.slot(), [self, &q](std::exception_ptr e) {
                     q.running = false;
                     q.busy = false;
                     // A stop ends the work with whatever the cancellation threw; anything
                     // else thrown here is a bug, which must not go unnoticed.
                     if (e && !self->stopped) std::rethrow_exception(e);
                   }));
  }

  // Runs the queue's commands until it is empty.
  static asio::awaitable<void> work(std::shared_ptr<Core> self, Queue* q) {
    while (!self->stopped && !q->waiting.empty()) {
      const auto argv = std::move(q->waiting.front());
      q->waiting.pop_front();
      q->busy = true;
      const std::string& what = argv[3];  // the command as written (see shell_command)
      check::ScriptProber prober(model::ScriptCheck{.argv = argv, .user = {}, .dynamic_weight = false},
                                 self->options.script_user, [self, what](std::string_view line) {
                                   self->say(fmt::format("notify {}: {}", what, line));
                                 });
      // Named: GCC 12 frees a temporary in a co_await expression wrongly.
      const check::Target none;
      const auto result = co_await check::attempt(prober, none, self->options.command_timeout);
      q->busy = false;
      if (self->stopped) co_return;
      if (result.up) {
        ++self->counters.commands_run;
      } else {
        ++self->counters.commands_failed;
        self->say(fmt::format("notify command failed: {}: {}", what, result.reason));
      }
    }
  }

  void write_fifo(const std::string& line) {
    if (options.fifo_path.empty()) return;
    if (fifo < 0) fifo = open_fifo();
    if (fifo < 0) {
      ++counters.fifo_dropped;
      return;
    }
    const ssize_t n = ::write(fifo, line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) {
      ++counters.fifo_lines;
      fifo_failed_logged = false;
      return;
    }
    ++counters.fifo_dropped;
    const int error = errno;
    if (error == EPIPE) {  // the reader left: find the next one at the next event
      ::close(fifo);
      fifo = -1;
    }
    failed(fmt::format("notify_fifo {}: line dropped: {}", options.fifo_path,
                       error == EAGAIN ? "the reader does not keep up" : std::strerror(error)));
  }

  int open_fifo() {
    struct stat st {};
    if (::stat(options.fifo_path.c_str(), &st) != 0) {
      if (errno != ENOENT || ::mkfifo(options.fifo_path.c_str(), 0600) != 0) {
        failed(fmt::format("notify_fifo {}: cannot create: {}", options.fifo_path, std::strerror(errno)));
        return -1;
      }
    } else if (!S_ISFIFO(st.st_mode)) {
      failed(fmt::format("notify_fifo {}: not a FIFO", options.fifo_path));
      return -1;
    }
    // O_NONBLOCK: ENXIO now when nobody reads, EAGAIN later when the reader's pipe is full.
    const int fd = ::open(options.fifo_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      failed(fmt::format("notify_fifo {}: line dropped: {}", options.fifo_path,
                         errno == ENXIO ? "no reader" : std::strerror(errno)));
    }
    return fd;
  }

  void failed(const std::string& line) {
    if (fifo_failed_logged) return;
    fifo_failed_logged = true;
    say(line);
  }
};

Notifier::Notifier(asio::any_io_executor executor, Options options, Log log) : core_(std::make_shared<Core>()) {
  core_->executor = std::move(executor);
  core_->options = std::move(options);
  core_->log = std::move(log);
  static_assert(PIPE_BUF >= 512, "a FIFO line is at most a name (255) and a few words");
}

Notifier::~Notifier() {
  stop();
  if (core_->fifo >= 0) ::close(core_->fifo);
}

void Notifier::notify(const model::Notify& commands, const NotifyEvent& event) {
  if (core_->stopped) return;
  core_->write_fifo(fifo_line(event));
  core_->enqueue(event.subject, event.name, notify_commands(commands, event), core_);
}

void Notifier::conflict(const model::Notify& commands, const std::string& name, const std::string& address,
                        const std::string& mac) {
  if (commands.conflict.empty()) return;
  core_->enqueue(Subject::Instance, name, {conflict_command(commands.conflict, name, address, mac)}, core_);
}

std::size_t Notifier::pending() const {
  std::size_t n = 0;
  for (const auto& [key, q] : core_->queues) n += q->waiting.size() + (q->busy ? 1 : 0);
  return n;
}

void Notifier::stop() {
  Core& c = *core_;
  if (c.stopped) return;
  c.stopped = true;
  for (auto& [key, q] : c.queues) q->waiting.clear();
  // Emitted from the loop, as Trackers::stop() does (see there).
  asio::post(c.executor, [core = core_] {
    for (auto& [key, q] : core->queues)
      if (q->running) q->cancel.emit(asio::cancellation_type::terminal);
  });
}

const NotifierCounters& Notifier::counters() const { return core_->counters; }

}  // namespace lvsd::vrrp
