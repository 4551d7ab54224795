// The runner of one VRRP instance: the receive loop, the deadline timer, the garp bursts and
// the actions done in the order the Instance gives them.
#include "lvsd/vrrp/runner.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <set>
#include <utility>

#include "lvsd/vrrp/addresses.hpp"
#include "lvsd/vrrp/announce.hpp"
#include "lvsd/vrrp/conflict.hpp"
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
enum class Noisy : std::uint8_t { SendFailed, AnnounceFailed, AddressMismatch, ReceiveFailed, Count };

// How long a claim must outlive an ordinary handover to be a conflict (see Impl::suspected).
constexpr std::chrono::milliseconds kConflictGrace{50};

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
        garp_refresh_timer(ex),
        receive_retry(ex),
        conflict_timer(ex) {}

  asio::any_io_executor executor;
  model::VrrpInstance config;
  std::string link;  // where the VIPs, adverts and announcements go: the interface, or its vmac
  Log log;
  OnState on_state;
  OnReady on_ready;
  OnConflict on_conflict;
  AdvertSocket socket;
  AddressManager addresses;
  Announcer announcer;
  Instance instance;
  Expect expect;
  asio::steady_timer deadline_timer;
  asio::steady_timer garp_delay_timer;
  asio::steady_timer garp_refresh_timer;
  asio::steady_timer receive_retry;
  // The data-path conflict watch (none when the instance has no VIP on its interface).
  std::optional<ConflictWatch> watch;
  // Why the instance is held back from going master, and why it is in FAULT: each a reason of
  // its own, the instance told the union.
  bool group_hold = false;     // hold(): a sync group's
  bool conflict_hold = false;  // yielded to another master found on the data path
  std::optional<Mac> yielded_to;
  std::set<Mac> conflicting;  // other holders taken for conflicts since we last became master
  // A claim is taken for a conflict only once it outlives an ordinary handover: the master we
  // preempt (or that preempts us) answers for the VIPs until it has processed the other's
  // advert, a few ms. Claims first seen are suspected; `grace` later the VIPs are probed
  // again from scratch, and the claims that come back are conflicts.
  std::set<Mac> suspected;
  TimePoint verifying_until{};
  asio::steady_timer conflict_timer;
  bool tracker_fault = false;  // set_fault(): the trackers' and the link's
  bool receive_fault = false;  // the socket cannot receive: deaf, it must not take over
  // Bumped at every re-arm: a wait that had already completed when the timer was moved must
  // not tick the instance at the old deadline.
  std::uint64_t deadline_generation = 0;
  std::uint64_t garp_generation = 0;
  bool started = false;
  bool closed = false;
  RunnerCounters edge;
  std::array<std::optional<TimePoint>, kDropReasons> drop_logged;
  // The other virtual routers heard on the link, each logged once; at most this many.
  static constexpr std::size_t kOtherRoutersLogged = 256;
  std::set<std::pair<model::IpAddress, std::uint8_t>> other_routers;
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

  void dropped(Drop reason, const model::IpAddress& source, const std::vector<std::uint8_t>& payload) {
    // Another virtual router's adverts are not a fault: on a link with two instances (dual
    // master) each hears the other's all the time. Counted, and logged once for each sender
    // and VRID (not once a second), which still names a peer set to the wrong VRID.
    if (reason == Drop::BadVrid) {
      const std::uint8_t vrid = payload.size() > 1 ? payload[1] : 0;
      if (other_routers.size() < kOtherRoutersLogged && other_routers.emplace(source, vrid).second)
        say(fmt::format("{}: adverts from {} for VRID {} ignored (another virtual router; counted from now on, "
                        "not logged again)",
                        config.name, source.to_string(), vrid));
      return;
    }
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
          watch_state(action.from, action.to);
          if (on_state) on_state(action.from, action.to);
          break;
      }
    }
    if (out.became_ready) {
      asio::post(executor, [self = shared_from_this()] {
        if (!self->closed && self->on_ready) self->on_ready();
      });
    }
  }

  // A call from outside the handlers (trackers, a sync group): the instance's answer done now
  // and the timer moved to its next deadline.
  template <class Call>
  void act(Call call) {
    if (closed) return;
    perform(call(instance, Clock::now()));
    arm();
  }

  void apply_hold() {
    act([on = group_hold || conflict_hold](Instance& in, TimePoint now) { return in.hold(on, now); });
  }
  void apply_fault() {
    act([on = tracker_fault || receive_fault](Instance& in, TimePoint now) { return in.set_fault(on, now); });
  }

  // What our frames say of us (Announcer's GARPs and NAs, the watch's probes): the
  // other master of a conflict evaluates the election with it.
  Signature signature() const {
    return Signature{.vrid = config.vrid, .priority = instance.effective_priority(), .primary = socket.source()};
  }
  void sign() {
    announcer.set_signature(signature());
    if (watch) watch->set_signature(signature());
  }

  // The watch probes while we are master (from the first GARP burst on) and while we have
  // yielded to another master and wait for it to go.
  void watch_state(State from, State to) {
    if (!watch) return;
    if (to == State::Master) {
      conflicting.clear();
      watch->new_epoch();
      watch->probe_now();
    } else if (from == State::Master && !yielded_to) {
      watch->set_probing(false);
    }
  }

  // A conflict event from the watch (never from inside the runner's own handlers).
  void conflict(const ConflictEvent& event) {
    if (closed) return;
    if (event.kind == ConflictEvent::Kind::Gone) {
      if (yielded_to && *yielded_to == event.holder) {
        say(fmt::format("{}: {}; back to the election", config.name, to_string(event)));
        release_conflict_hold();
      } else {
        say(fmt::format("{}: {}", config.name, to_string(event)));
      }
      return;
    }
    if (yielded_to) return;  // the master we yielded to, still answering: stay backup
    if (instance.state() != State::Master) return;
    const auto now = Clock::now();
    if (!conflicting.contains(event.holder) && now >= verifying_until) {
      suspect(event.holder);
      return;
    }
    say(fmt::format("{}: conflict: {}", config.name, to_string(event)));
    // One conflict per other holder while master; its later events (its signature, its lvsd
    // heard) may settle it.
    if (conflicting.insert(event.holder).second) {
      ++edge.conflicts;
      if (on_conflict) on_conflict(event);
    }
    if (!config.resolve_conflict || !event.signature || !event.live) return;
    const Contender mine{.mac = announcer.mac(), .signature = signature()};
    const Contender theirs{.mac = event.holder, .signature = *event.signature};
    if (yields(mine, theirs)) {
      ++edge.conflict_yields;
      say(fmt::format("{}: yields to {} ({}): backup while it answers for the addresses", config.name,
                      to_string(event.holder), to_string(*event.signature)));
      yielded_to = event.holder;
      conflict_hold = true;
      apply_hold();
      act([](Instance& in, TimePoint now) { return in.yield(now); });
    } else {
      // We stay: announce again, for the clients that the other's announcements took away.
      say(fmt::format("{}: keeps its addresses against {} ({}), announcing them again", config.name,
                      to_string(event.holder), to_string(*event.signature)));
      start_announcing();
    }
  }

  void suspect(const Mac& holder) {
    const bool armed = !suspected.empty();
    suspected.insert(holder);
    if (armed) return;
    conflict_timer.expires_after(kConflictGrace);
    conflict_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed) return;
      self->verify();
    });
  }
  // The grace is over: probe from scratch (the holders forgotten, so each claim that comes
  // back is new) and take what comes within another grace for conflicts.
  void verify() {
    suspected.clear();
    if (!watch || instance.state() != State::Master || yielded_to) return;
    verifying_until = Clock::now() + kConflictGrace;
    watch->set_probing(false);
    watch->probe_now();
  }

  void release_conflict_hold() {
    if (!yielded_to) return;
    yielded_to.reset();
    conflict_hold = false;
    if (watch && instance.state() != State::Master) watch->set_probing(false);
    apply_hold();
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
    each(config.virtual_ips, [&](const auto& vip) { return addresses.add(vip, link); },
         edge.address_errors);
    each(config.virtual_routes, [&](const auto& route) { return addresses.add_route(route, link); },
         edge.route_errors);
  }

  void remove_vips() {
    stop_announcing();
    each(config.virtual_routes, [&](const auto& route) { return addresses.remove_route(route, link); },
         edge.route_errors);
    each(config.virtual_ips, [&](const auto& vip) { return addresses.remove(vip, link); },
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
        // Deaf, a backup would take over from a live master: FAULT until the socket
        // receives again, tried every second.
        ++edge.receive_errors;
        say_noisy(Noisy::ReceiveFailed, fmt::format("{}: cannot receive adverts: {}; FAULT, trying again every second",
                                                    config.name, r.error().message()));
        if (!receive_fault) {
          receive_fault = true;
          apply_fault();
        }
        receive_retry.expires_after(std::chrono::seconds(1));
        co_await receive_retry.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (receive_fault) {
        receive_fault = false;
        say(fmt::format("{}: receiving adverts again", config.name));
        apply_fault();
      }
      const Received& packet = *r;
      if (packet.drop) {
        instance.note_drop(*packet.drop);
        dropped(*packet.drop, packet.envelope.source, packet.payload);
        continue;
      }
      const Decoded decoded = decode(packet.payload, packet.envelope, expect);
      if (!decoded.ok) {
        instance.note_drop(decoded.drop);
        dropped(decoded.drop, packet.envelope.source, packet.payload);
        continue;
      }
      const Output out = instance.receive(decoded.advert, packet.envelope.source, Clock::now());
      if (out.address_mismatch)
        say_noisy(Noisy::AddressMismatch, fmt::format("{}: advert from {} lists other addresses than ours",
                                                      config.name, packet.envelope.source.to_string()));
      // Our own adverts (unicast to ourselves, or looped back) are not worth a line.
      if (out.dropped && *out.dropped != Drop::OwnAdvert && *out.dropped != Drop::AddressMismatch)
        dropped(*out.dropped, packet.envelope.source, packet.payload);
      perform(out);
      arm();
      // Adverts again from another director after a yield: the election decides again.
      if (yielded_to && !out.dropped) {
        say(fmt::format("{}: adverts heard again from {}; back to the election", config.name,
                        packet.envelope.source.to_string()));
        release_conflict_hold();
      }
    }
  }

  void close() {
    if (closed) return;
    closed = true;
    deadline_timer.cancel();
    receive_retry.cancel();
    conflict_timer.cancel();
    stop_announcing();
    if (watch) watch->close();
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
  auto addresses = AddressManager::open();
  if (!addresses) return fmt::format("{}: {}", config.name, addresses.error().text);
  // use_vmac: the adverts, the announcements and the VIPs go through the instance's macvlan,
  // from the virtual router's MAC; the adverts' source stays the parent's address (the vmac
  // carries no address of its own, or for IPv6 the parent's link-local).
  std::string link = config.interface;
  if (config.use_vmac) {
    const Vmac vmac = vmac_of(config);
    if (auto made = addresses->ensure_vmac(vmac); !made) return fmt::format("{}: {}", config.name, made.error().text);
    link = vmac.name;
  }
  auto socket = AdvertSocket::open(executor, SocketOptions{.interface = link,
                                                           .family = config.family,
                                                           .source = source,
                                                           .unicast_peers = config.unicast_peers});
  if (!socket) return fmt::format("{}: {}", config.name, socket.error());
  auto announcer = Announcer::open(link);
  if (!announcer) return fmt::format("{}: {}", config.name, announcer.error());
  auto impl = std::make_shared<Impl>(executor, config, std::move(log), std::move(on_state), std::move(*socket),
                                     std::move(*addresses), std::move(*announcer));
  impl->link = link;
  // The VIPs of the instance's own interface are the ones whose holders its frames can see.
  // Not with a vmac: the other director's master would answer from the same virtual MAC as
  // ours, and its frames could not be told from our own.
  std::vector<model::IpAddress> watched;
  for (const auto& vip : config.virtual_ips)
    if ((vip.device.empty() || vip.device == config.interface) && vip.prefix.address.family() == config.family)
      watched.push_back(vip.prefix.address);
  if (!watched.empty() && !config.use_vmac) {
    std::weak_ptr<Impl> weak = impl;
    auto watch = ConflictWatch::open(
        executor,
        ConflictOptions{.interface = link,
                        .family = config.family,
                        .vips = std::move(watched),
                        .probe_interval = config.conflict_probe_interval,
                        .gone_after = HolderLiveness::kRounds,
                        .mac = impl->announcer.mac()},
        [weak](const ConflictEvent& event) {
          if (const auto self = weak.lock()) self->conflict(event);
        },
        [weak](std::string_view line) {
          if (const auto self = weak.lock()) self->say(fmt::format("{}: {}", self->config.name, line));
        });
    if (!watch) return fmt::format("{}: {}", config.name, watch.error());
    impl->watch.emplace(std::move(*watch));
  }
  impl->sign();
  return Runner(std::move(impl));
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
  if (s.watch) s.watch->start();  // signatures are learnt from now on, also as backup
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
  impl_->tracker_fault = fault;
  impl_->apply_fault();
}

void Runner::set_priority_delta(std::int32_t delta) {
  Impl& s = *impl_;
  if (s.closed) return;
  s.instance.set_priority_delta(delta);
  s.sign();
  s.arm();
}

void Runner::hold(bool on) {
  impl_->group_hold = on;
  impl_->apply_hold();
}

void Runner::yield() {
  impl_->act([](Instance& in, TimePoint now) { return in.yield(now); });
}

bool Runner::ready() const { return impl_->instance.ready(Clock::now()); }

void Runner::on_ready(OnReady callback) { impl_->on_ready = std::move(callback); }
void Runner::on_conflict(OnConflict callback) { impl_->on_conflict = std::move(callback); }
bool Runner::yielded() const { return impl_->yielded_to.has_value(); }
std::vector<Holder> Runner::conflicts() const {
  return impl_->watch ? impl_->watch->holders() : std::vector<Holder>{};
}

void Runner::stop() {
  Impl& s = *impl_;
  if (s.closed) return;
  s.perform(s.instance.shutdown());
  s.close();
  // As keepalived: the vmac goes with the instance (a killed run leaves it, to be reused).
  if (s.config.use_vmac) {
    if (auto gone = s.addresses.remove_vmac(s.link); !gone) s.say(fmt::format("{}: {}", s.config.name, gone.error().text));
  }
}

State Runner::state() const { return impl_->instance.state(); }
const Counters& Runner::counters() const { return impl_->instance.counters(); }
const RunnerCounters& Runner::edge_counters() const { return impl_->edge; }
const SocketCounters& Runner::socket_counters() const { return impl_->socket.counters(); }
const model::IpAddress& Runner::primary() const { return impl_->socket.source(); }
const std::string& Runner::name() const { return impl_->config.name; }

}  // namespace lvsd::vrrp
