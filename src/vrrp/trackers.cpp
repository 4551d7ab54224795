// Trackers: the verdict arithmetic, and the loops that probe, run scripts and read files.
#include "lvsd/vrrp/trackers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "lvsd/check/health_tracker.hpp"
#include "lvsd/check/runner.hpp"

namespace lvsd::vrrp {
namespace asio = boost::asio;

namespace {

constexpr std::int64_t kMaxPart = 254;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

bool is_file(const model::Tracker& t) { return std::holds_alternative<model::TrackFile>(t.what); }

TrackerStatus known(bool up, std::string reason) {
  TrackerStatus s;
  s.up = up;
  s.known = true;
  s.reason = std::move(reason);
  return s;
}

TrackerStatus unknown(std::string reason) {
  TrackerStatus s;
  s.reason = std::move(reason);
  return s;
}

}  // namespace

std::string tracker_name(const model::Tracker& tracker) {
  return std::visit(
      Overloaded{
          [](const model::TrackInterface& i) { return "track_interface " + i.name; },
          [](const model::TrackFile& f) { return "track_file " + f.path; },
          [](const model::TrackScript& s) {
            const auto& argv = s.script.argv;
            // A config string ran as sh -c: show the string the operator wrote.
            if (argv.size() == 3 && argv[0] == "/bin/sh" && argv[1] == "-c") return "track_script " + argv[2];
            return fmt::format("track_script {}", fmt::join(argv, " "));
          },
          [](const model::TrackProbe& p) -> std::string {
            switch (p.check.type) {
              case model::CheckType::Icmp: return "track_ping " + p.target.address.to_string();
              case model::CheckType::Http:
              case model::CheckType::Https: {
                const auto* http = std::get_if<model::HttpCheck>(&p.check.detail);
                const std::string path = http && !http->urls.empty() ? http->urls.front().path : "/";
                return fmt::format("track_http {}://{}{}", p.check.type == model::CheckType::Https ? "https" : "http",
                                   p.target.to_string(), path);
              }
              default: return "track_tcp " + p.target.to_string();
            }
          },
      },
      tracker.what);
}

std::int32_t contribution(const model::Tracker& tracker, const TrackerStatus& status) {
  if (tracker.weight == 0) return 0;
  std::int64_t part = 0;
  if (is_file(tracker)) part = status.number * tracker.weight;  // |number| is kept small by the parser's clamp
  else if (tracker.weight < 0) part = status.up ? 0 : tracker.weight;
  else part = status.up ? tracker.weight : 0;
  return static_cast<std::int32_t>(std::clamp(part, -kMaxPart, kMaxPart));
}

bool faults(const model::Tracker& tracker, const TrackerStatus& status) {
  if (tracker.weight != 0) return false;
  return is_file(tracker) ? status.number == 0 : !status.up;
}

Verdict aggregate(const std::vector<model::Tracker>& trackers, const std::vector<TrackerStatus>& statuses) {
  Verdict v;
  const TrackerStatus none = unknown("not checked yet");
  for (std::size_t i = 0; i < trackers.size(); ++i) {
    const TrackerStatus& s = i < statuses.size() ? statuses[i] : none;
    v.delta += contribution(trackers[i], s);
    if (!faults(trackers[i], s)) continue;
    v.fault = true;
    if (!v.reason.empty()) v.reason += "; ";
    v.reason += fmt::format("{}: {}", tracker_name(trackers[i]), s.reason);
  }
  return v;
}

std::optional<std::int64_t> parse_track_file(std::string_view content) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!content.empty() && space(content.front())) content.remove_prefix(1);
  while (!content.empty() && space(content.back())) content.remove_suffix(1);
  // from_chars takes "-5" but not "+5"; a "+" is taken here, once.
  if (content.size() > 1 && content.front() == '+' && content[1] != '-') content.remove_prefix(1);
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(content.data(), content.data() + content.size(), n);
  if (content.empty() || ec != std::errc() || end != content.data() + content.size()) return std::nullopt;
  // Any number past ±254 moves a priority as far as ±254 does; clamping here keeps
  // number × weight far from overflow.
  return std::clamp<std::int64_t>(n, -kMaxPart, kMaxPart);
}

namespace {

// What a read of a track_file gives.
TrackerStatus read_track_file(const std::string& path) {
  TrackerStatus s;
  s.known = true;
  std::ifstream in(path);
  if (!in) {
    s.reason = fmt::format("cannot read: {}", std::strerror(errno));
    return s;
  }
  std::ostringstream text;
  text << in.rdbuf();
  // A number is a few bytes; more is not a number, and is not worth quoting in full.
  const std::string content = text.str().substr(0, 64);
  if (auto n = parse_track_file(content)) {
    s.up = *n != 0;
    s.number = *n;
    s.reason = fmt::format("value {}", *n);
    return s;
  }
  std::string shown = content;
  while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.pop_back();
  s.reason = fmt::format("not a number: \"{}\"", shown);
  return s;
}

}  // namespace

struct Trackers::Core {
  asio::any_io_executor executor;
  std::vector<model::Tracker> trackers;
  std::vector<TrackerStatus> statuses;
  Verdict verdict;
  OnChange on_change;
  Options options;
  // One per tracker, made in the constructor (probes and scripts; null for the others).
  std::vector<std::unique_ptr<check::Prober>> probers;
  // One per tracker; a loop's cancellation (a signal does not move: hence the pointers).
  std::vector<std::unique_ptr<asio::cancellation_signal>> stop_signals;
  bool started = false;
  bool stopped = false;
  std::size_t running = 0;

  void update(std::size_t i, TrackerStatus status) {
    if (stopped || statuses[i] == status) return;
    statuses[i] = std::move(status);
    publish();
  }

  void publish() {
    if (stopped) return;
    Verdict next = aggregate(trackers, statuses);
    if (next == verdict) return;
    verdict = std::move(next);
    if (on_change) on_change(verdict);  // may stop(): every caller checks `stopped` after
  }
};

namespace {

using Core = Trackers::Core;

// A pause on `timer` to `when`; false once the trackers are stopped.
asio::awaitable<bool> pause(const std::shared_ptr<Core>& core, asio::steady_timer& timer,
                            check::Clock::time_point when) {
  timer.expires_at(when);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !core->stopped;
}

asio::awaitable<void> probe_loop(std::shared_ptr<Core> core, std::size_t i, check::Target target,
                                 model::CheckTiming timing) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  check::Prober& prober = *core->probers[i];
  if (timing.warmup.count() > 0 && core->options.random) {
    const auto wait = std::chrono::duration_cast<check::Clock::duration>(timing.warmup * core->options.random());
    if (!co_await pause(core, timer, check::Clock::now() + wait)) co_return;
  }
  std::optional<check::HealthTracker> health;
  for (;;) {
    const auto started = check::Clock::now();
    check::Result result;
    for (std::uint32_t n = 1;; ++n) {
      result = co_await check::attempt(prober, target, timing.timeout);
      if (core->stopped) co_return;
      result.attempts = n;
      if (result.up || n > timing.retry) break;
      if (!co_await pause(core, timer, check::Clock::now() + timing.delay_before_retry)) co_return;
    }
    // The first result decides at once (see the class comment); rise/fall after that. The
    // reason shown is the one that made the verdict, not the latest pending one.
    bool moved = !health;
    if (!health) health.emplace(timing.rise, timing.fall, result.up);
    else {
      const auto change = health->record(result);
      moved = change == check::Change::WentUp || change == check::Change::WentDown;
    }
    if (moved) core->update(i, known(result.up, result.reason));
    if (core->stopped) co_return;
    if (!co_await pause(core, timer, std::max(started + timing.interval, check::Clock::now()))) co_return;
  }
}

asio::awaitable<void> file_loop(std::shared_ptr<Core> core, std::size_t i, std::string path) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    core->update(i, read_track_file(path));
    if (core->stopped) co_return;
    if (!co_await pause(core, timer, check::Clock::now() + core->options.file_interval)) co_return;
  }
}

}  // namespace

Trackers::Trackers(asio::any_io_executor executor, std::vector<model::Tracker> trackers, check::ProberSet& probers,
                   OnChange on_change, Options options)
    : core_(std::make_shared<Core>()) {
  Core& c = *core_;
  c.executor = std::move(executor);
  c.trackers = std::move(trackers);
  c.statuses.assign(c.trackers.size(), unknown("not checked yet"));
  for (std::size_t i = 0; i < c.trackers.size(); ++i)
    if (std::holds_alternative<model::TrackInterface>(c.trackers[i].what)) c.statuses[i].reason = "link state unknown";
  c.verdict = aggregate(c.trackers, c.statuses);
  c.on_change = std::move(on_change);
  c.options = std::move(options);
  for (const auto& t : c.trackers) {
    std::unique_ptr<check::Prober> prober;
    if (const auto* p = std::get_if<model::TrackProbe>(&t.what)) prober = probers.make(p->check);
    if (const auto* s = std::get_if<model::TrackScript>(&t.what)) {
      model::CheckSpec spec;
      spec.type = model::CheckType::Script;
      spec.timing = s->timing;
      spec.detail = s->script;
      prober = probers.make(spec);
    }
    c.probers.push_back(std::move(prober));
    c.stop_signals.push_back(std::make_unique<asio::cancellation_signal>());
  }
}

Trackers::~Trackers() { stop(); }

void Trackers::start() {
  Core& c = *core_;
  if (c.started || c.stopped) return;
  c.started = true;
  for (std::size_t i = 0; i < c.trackers.size(); ++i) {
    asio::awaitable<void> loop;
    if (const auto* p = std::get_if<model::TrackProbe>(&c.trackers[i].what)) {
      check::Target target;
      target.endpoint = p->target;
      target.bind_address = p->check.bind_address;
      target.bind_interface = p->check.bind_interface;
      if (p->check.address) target.endpoint.address = *p->check.address;
      if (p->check.port) target.endpoint.port = *p->check.port;
      loop = probe_loop(core_, i, std::move(target), p->check.timing);
    } else if (const auto* s = std::get_if<model::TrackScript>(&c.trackers[i].what)) {
      loop = probe_loop(core_, i, check::Target{}, s->timing);
    } else if (const auto* f = std::get_if<model::TrackFile>(&c.trackers[i].what)) {
      loop = file_loop(core_, i, f->path);
    } else {
      continue;  // track_interface: set_link()
    }
    ++c.running;
    asio::co_spawn(c.executor, std::move(loop),
                   asio::bind_cancellation_slot(c.stop_signals[i]->slot(), [core = core_](std::exception_ptr e) {
                     --core->running;
                     // Stopped: whatever the cancellation threw. Otherwise a loop never
                     // ends; one that threw is a bug, which must not go unnoticed.
                     if (e && !core->stopped) std::rethrow_exception(e);
                   }));
  }
}

void Trackers::set_link(std::string_view interface, bool up) {
  // Kept alive here: on_change may destroy this object.
  const auto core = core_;
  if (core->stopped) return;
  // Every tracker of the interface moves before the verdict is taken: one event, one change.
  for (std::size_t i = 0; i < core->trackers.size(); ++i) {
    const auto* t = std::get_if<model::TrackInterface>(&core->trackers[i].what);
    if (t && t->name == interface) core->statuses[i] = known(up, up ? "link up" : "link down");
  }
  core->publish();
}

void Trackers::stop() {
  Core& c = *core_;
  if (c.stopped) return;
  // on_change is kept (never called again): stop() may run inside it.
  c.stopped = true;
  if (!c.started) return;
  // Emitted from the loop, never from here: Asio 1.81's co_spawn would otherwise hand the
  // cancellation over holding a pointer into a handler that a loop ending first frees (see
  // check::Engine::Check::halt).
  asio::post(c.executor, [core = core_] {
    for (auto& s : core->stop_signals) s->emit(asio::cancellation_type::terminal);
  });
}

const Verdict& Trackers::verdict() const { return core_->verdict; }
const std::vector<TrackerStatus>& Trackers::statuses() const { return core_->statuses; }
const std::vector<model::Tracker>& Trackers::trackers() const { return core_->trackers; }
bool Trackers::settled() const {
  return std::all_of(core_->statuses.begin(), core_->statuses.end(), [](const auto& s) { return s.known; });
}
std::size_t Trackers::running() const { return core_->running; }

}  // namespace lvsd::vrrp
