// The daemon's checks: the engine, its probers, and the log of verdicts.
#include "lvsd/daemon/health.hpp"

#include <fmt/format.h>

#include <random>

#include "lvsd/model/names.hpp"

namespace lvsd::daemon {

std::string transition_text(const check::Transition& t) {
  const auto& r = t.cause;
  const std::string weight = t.weight ? fmt::format(", weight {}", *t.weight) : std::string();
  const std::string attempts = r.attempts > 1 ? fmt::format("{} attempts, ", r.attempts) : std::string();
  return fmt::format("{}: real server {} {}{}: {} (check {}, {}, {}{:.1f} ms)", t.server.service.to_string(),
                     t.server.server.to_string(), t.up ? "up" : "down", weight, r.reason, t.check + 1,
                     model::name_of(t.type), attempts, static_cast<double>(r.latency.count()) / 1000.0);
}

namespace {

std::function<double()> uniform_random() {
  auto generator = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [generator] { return std::uniform_real_distribution<double>(0.0, 1.0)(*generator); };
}

}  // namespace

Health::Health(boost::asio::any_io_executor executor, Log log)
    : executor_(std::move(executor)),
      log_(std::move(log)),
      random_(uniform_random()),
      probers_(executor_, "nobody", [this](std::string_view line) { log_(Level::Debug, fmt::format("script: {}", line)); }) {}

Health::~Health() { stop(); }

void Health::set(const model::Desired& desired) {
  if (engine_ && desired.globals.script_user != script_user_) {
    log_(Level::Info, fmt::format("checks: script_user is now {}: every check restarts", desired.globals.script_user));
    stop();
  }
  if (!engine_) {
    script_user_ = desired.globals.script_user;
    probers_.set_script_user(script_user_);
    engine_ = std::make_unique<check::Engine>(
        executor_, [this](const model::CheckSpec& spec) { return probers_.make(spec); },
        [this](const check::Transition& t) { log_(t.up ? Level::Info : Level::Warning, transition_text(t)); },
        [this](const check::ServerKey& server, std::size_t index, const std::string& what) {
          log_(Level::Error, fmt::format("{}: real server {}: check {} ended: {}", server.service.to_string(),
                                         server.server.to_string(), index + 1, what));
        },
        random_);
  }
  engine_->set(desired);
}

void Health::stop() {
  if (engine_) engine_->stop();
  engine_.reset();
}

}  // namespace lvsd::daemon
