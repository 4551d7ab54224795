// The runner of one VRRP instance: the receive loop, the deadline timer, the garp bursts and
// the actions done in the order the Instance gives them.
#include "lvsd/vrrp/runner.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <utility>

#include "lvsd/vrrp/addresses.hpp"
#include "lvsd/vrrp/announce.hpp"
#include "lvsd/vrrp/packet.hpp"

namespace lvsd::vrrp {

namespace asio = boost::asio;

namespace {

Expect expect_of(const model::VrrpInstance& config) {
  Expect e;
  e.version = config.version;
  e.vrid = config.vrid;
  e.family = config.family;
  e.interval = config.advert_interval;
  if (config.version == 2 && !config.auth_pass.empty()) {
    e.auth = AuthType::SimplePassword;
    e.password = config.auth_pass;
  }
  return e;
}

// Log lines that a peer (or a broken kernel) could repeat at every advert: one per second per
// kind, so a misconfigured neighbour at 10 ms cannot flood the journal.
enum class Noisy : std::uint8_t { SendFailed, AnnounceFailed, AddressMismatch, Count };

}  // namespace

struct Runner::Impl : std::enable_shared_from_this<Runner::Impl> {
  Impl(asio::any_io_executor ex, const model::VrrpInstance& cfg, Log lg, OnState on_st, AdvertSocket sock,
       AddressManager addrs, Announcer ann)
      : executor(ex),
        config(cfg),
        log(std::move(lg)),
        on_state(std::move(on_st)),
        socket(std::move(sock)),
        addresses(std::move(addrs)),
        announcer(std::move(ann)),
        instance(cfg, socket.source()),
        expect(expect_of(cfg)),
        deadline_timer(ex),
        garp_delay_timer(ex),
        garp_refresh_timer(ex) {}

  asio::any_io_executor executor;
  model::VrrpInstance config;
  Log log;
  OnState on_state;
  AdvertSocket socket;
  AddressManager addresses;
  Announcer announcer;
  Instance instance;
  Expect expect;
  asio::steady_timer deadline_timer;
  asio::steady_timer garp_delay_timer;
  asio::steady_timer garp_refresh_timer;
  // Bumped at every re-arm: a wait that had already completed when the timer was moved must
  // not tick the instance at the old deadline.
  std::uint64_t deadline_generation = 0;
  std::uint64_t garp_generation = 0;
  bool started = false;
  bool closed = false;
  RunnerCounters edge;
  std::array<std::optional<TimePoint>, kDropReasons> drop_logged;
  std::array<std::optional<TimePoint>, static_cast<std::size_t>(Noisy::Count)> noisy_logged;

  void say(std::string_view line) {
    if (log) log(line);
  }
  void say_now(std::optional<TimePoint>& last, std::string_view line) {
    const auto now = Clock::now();
    if (last && now - *last < std::chrono::seconds(1)) return;
    last = now;
    say(line);
  }
  void say_noisy(Noisy kind, std::string_view line) { say_now(noisy_logged[static_cast<std::size_t>(kind)], line); }

  void dropped(Drop reason, const model::IpAddress& source) {
    say_now(drop_logged[static_cast<std::size_t>(reason)],
            fmt::format("{}: advert from {} dropped: {}", config.name, source.to_string(), to_string(reason)));
  }

  void arm() {
    if (closed) return;
    const auto generation = ++deadline_generation;
    const TimePoint deadline = instance.next_deadline();
    if (deadline == TimePoint::max()) {
      deadline_timer.cancel();
      return;
    }
    deadline_timer.expires_at(deadline);
    deadline_timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
      if (ec || self->closed || generation != self->deadline_generation) return;
      self->perform(self->instance.tick(Clock::now()));
      self->arm();
    });
  }

  void perform(const Output& out) {
    for (const Action& action : out.actions) {
      switch (action.kind) {
        case Action::Kind::SendAdvert: send(action.priority); break;
        case Action::Kind::AddVips: add_vips(); break;
        case Action::Kind::RemoveVips: remove_vips(); break;
        case Action::Kind::Announce: start_announcing(); break;
        case Action::Kind::StateChange:
          if (on_state) on_state(action.from, action.to);
          break;
      }
    }
  }

  void send(std::uint8_t priority) {
    if (const auto ec = socket.send(instance.advert(priority))) {
      ++edge.send_errors;
      say_noisy(Noisy::SendFailed, fmt::format("{}: cannot send advert: {}", config.name, ec.message()));
    }
  }

  // Every item tried, whatever the kernel says of the one before.
  template <class Items, class Change>
  void each(const Items& items, Change change, std::uint64_t& errors) {
    for (const auto& item : items) {
      if (auto r = change(item); !r) {
        ++errors;
        say(fmt::format("{}: {}", config.name, r.error().text));
      }
    }
  }

  // Addresses before routes (a route may need its source or its gateway on the link), and
  // routes off before addresses.
  void add_vips() {
    each(config.virtual_ips, [&](const auto& vip) { return addresses.add(vip, config.interface); },
         edge.address_errors);
    each(config.virtual_routes, [&](const auto& route) { return addresses.add_route(route, config.interface); },
         edge.route_errors);
  }

  void remove_vips() {
    stop_announcing();
    each(config.virtual_routes, [&](const auto& route) { return addresses.remove_route(route, config.interface); },
         edge.route_errors);
    each(config.virtual_ips, [&](const auto& vip) { return addresses.remove(vip, config.interface); },
         edge.address_errors);
  }

  // One burst: garp_master_repeat rounds, each announcing every VIP once, back to back (as
  // keepalived with its default garp_interval of 0).
  void burst() {
    for (std::uint32_t round = 0; round < config.garp_master_repeat; ++round) {
      for (const auto& vip : config.virtual_ips) {
        if (const auto ec = announcer.announce(vip.prefix.address)) {
          ++edge.announce_errors;
          say_noisy(Noisy::AnnounceFailed, fmt::format("{}: cannot announce {}: {}", config.name,
                                                       vip.prefix.address.to_string(), ec.message()));
        } else {
          ++edge.announcements;
        }
      }
    }
  }

  // lvsd.toml(5): a burst now; a second one garp_master_delay later (none when it is 0, as
  // keepalived); and, when garp_master_refresh is set, a burst every refresh period counted from
  // becoming master, while master. Leaving master (RemoveVips) ends them.
  void start_announcing() {
    stop_announcing();
    burst();
    const auto generation = garp_generation;
    if (config.garp_master_delay.count() > 0) {
      garp_delay_timer.expires_after(config.garp_master_delay);
      garp_delay_timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
        if (ec || self->closed || generation != self->garp_generation) return;
        self->burst();
      });
    }
    if (config.garp_master_refresh.count() > 0) refresh_after(generation);
  }

  void refresh_after(std::uint64_t generation) {
    garp_refresh_timer.expires_after(config.garp_master_refresh);
    garp_refresh_timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
      if (ec || self->closed || generation != self->garp_generation) return;
      self->burst();
      self->refresh_after(generation);
    });
  }

  void stop_announcing() {
    ++garp_generation;
    garp_delay_timer.cancel();
    garp_refresh_timer.cancel();
  }

  asio::awaitable<void> receive_loop() {
    auto self = shared_from_this();  // the coroutine may outlive the Runner
    while (!closed) {
      auto r = co_await socket.receive();
      if (closed) co_return;
      if (!r) {
        ++edge.receive_errors;
        say(fmt::format("{}: cannot receive adverts, no longer listening: {}", config.name, r.error().message()));
        co_return;
      }
      const Received& packet = *r;
      if (packet.drop) {
        instance.note_drop(*packet.drop);
        dropped(*packet.drop, packet.envelope.source);
        continue;
      }
      const Decoded decoded = decode(packet.payload, packet.envelope, expect);
      if (!decoded.ok) {
        instance.note_drop(decoded.drop);
        dropped(decoded.drop, packet.envelope.source);
        continue;
      }
      const Output out = instance.receive(decoded.advert, packet.envelope.source, Clock::now());
      if (out.address_mismatch)
        say_noisy(Noisy::AddressMismatch, fmt::format("{}: advert from {} lists other addresses than ours",
                                                      config.name, packet.envelope.source.to_string()));
      // Our own adverts (unicast to ourselves, or looped back) are not worth a line.
      if (out.dropped && *out.dropped != Drop::OwnAdvert && *out.dropped != Drop::AddressMismatch)
        dropped(*out.dropped, packet.envelope.source);
      perform(out);
      arm();
    }
  }

  void close() {
    if (closed) return;
    closed = true;
    deadline_timer.cancel();
    stop_announcing();
    socket.close();
  }
};

boost::system::result<Runner, std::string> Runner::open(asio::any_io_executor executor,
                                                        const model::VrrpInstance& config, Log log,
                                                        OnState on_state) {
  std::optional<model::IpAddress> source = config.unicast_source;
  if (!source) source = interface_address(config.interface, config.family);
  if (!source)
    return fmt::format("{}: no {} address on {}", config.name,
                       config.family == model::Family::V4 ? "IPv4" : "IPv6 link-local", config.interface);
  auto socket = AdvertSocket::open(executor, SocketOptions{.interface = config.interface,
                                                           .family = config.family,
                                                           .source = source,
                                                           .unicast_peers = config.unicast_peers});
  if (!socket) return fmt::format("{}: {}", config.name, socket.error());
  auto addresses = AddressManager::open();
  if (!addresses) return fmt::format("{}: {}", config.name, addresses.error().text);
  auto announcer = Announcer::open(config.interface);
  if (!announcer) return fmt::format("{}: {}", config.name, announcer.error());
  return Runner(std::make_shared<Impl>(executor, config, std::move(log), std::move(on_state),
                                       std::move(*socket), std::move(*addresses), std::move(*announcer)));
}

Runner::Runner(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runner::Runner(Runner&&) noexcept = default;
Runner& Runner::operator=(Runner&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Runner::~Runner() {
  if (impl_) impl_->close();
}

void Runner::start() {
  Impl& s = *impl_;
  if (s.started || s.closed) return;
  s.started = true;
  const Output out = s.instance.start(Clock::now());
  const bool takes_vips = std::any_of(out.actions.begin(), out.actions.end(),
                                      [](const Action& a) { return a.kind == Action::Kind::AddVips; });
  // A run killed while master left its VIPs behind; a backup must not answer for them.
  if (!takes_vips) s.remove_vips();
  s.perform(out);
  s.arm();
  // An exception here is a bug (the kernel's refusals are values): say so, then let it leave
  // io_context::run(), so the process dies and is restarted rather than carrying on deaf.
  asio::co_spawn(s.executor, s.receive_loop(), [self = impl_](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      self->say(fmt::format("{}: receive loop failed: {}", self->config.name, error.what()));
    } catch (...) {
      self->say(fmt::format("{}: receive loop failed", self->config.name));
    }
    std::rethrow_exception(e);
  });
}

void Runner::set_fault(bool fault) {
  Impl& s = *impl_;
  if (s.closed) return;
  s.perform(s.instance.set_fault(fault, Clock::now()));
  s.arm();
}

void Runner::set_priority_delta(std::int32_t delta) {
  Impl& s = *impl_;
  if (s.closed) return;
  s.instance.set_priority_delta(delta);
  s.arm();
}

void Runner::stop() {
  Impl& s = *impl_;
  if (s.closed) return;
  s.perform(s.instance.shutdown());
  s.close();
}

State Runner::state() const { return impl_->instance.state(); }
const Counters& Runner::counters() const { return impl_->instance.counters(); }
const RunnerCounters& Runner::edge_counters() const { return impl_->edge; }
const SocketCounters& Runner::socket_counters() const { return impl_->socket.counters(); }
const model::IpAddress& Runner::primary() const { return impl_->socket.source(); }

}  // namespace lvsd::vrrp
