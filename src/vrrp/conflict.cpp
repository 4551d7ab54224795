// The conflict rule, the liveness of another holder, the claim tracker, and the watch that feeds
// it from an AF_PACKET socket.
#include "lvsd/vrrp/conflict.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/generic/raw_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <utility>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // Linux 4.20; older headers lack it
#endif

namespace lvsd::vrrp {
namespace asio = boost::asio;
using model::Family;
using model::IpAddress;

bool yields(const Contender& mine, const Contender& theirs) {
  const auto rank = [](const Contender& c) { return std::tie(c.signature.priority, c.signature.primary, c.mac); };
  return rank(mine) < rank(theirs);
}

HolderLiveness::HolderLiveness(const Mac& holder, unsigned rounds) : holder_(holder), rounds_(rounds) {
  if (rounds == 0) throw std::invalid_argument("a holder cannot be gone after 0 probe rounds");
}

void HolderLiveness::heard(const Mac& from) {
  if (gone_ || from != holder_) return;
  answered_ = true;
  unanswered_ = 0;
}

bool HolderLiveness::next_round() {
  if (gone_) return false;
  unanswered_ = answered_ ? 0 : unanswered_ + 1;
  answered_ = false;
  gone_ = unanswered_ >= rounds_;
  return gone_;
}

std::string to_string(const ConflictEvent& e) {
  const std::string vip = e.vip.to_string(), holder = to_string(e.holder);
  if (e.kind == ConflictEvent::Kind::Gone) return fmt::format("{} no longer answers for {}", holder, vip);
  if (e.signature && e.live) return fmt::format("{} is also held by {} (lvsd: {})", vip, holder, to_string(*e.signature));
  if (e.signature)
    return fmt::format("{} is also held by {}, whose lvsd is silent (it last said: {}): its kernel keeps the VIP "
                       "that a killed lvsd left, or its lvsd is not heard yet",
                       vip, holder, to_string(*e.signature));
  // Without lvsd's signature it may be a director that runs something else, or the classic DR
  // mistake: a real server that holds the VIP for its traffic and answers the link for it.
  return fmt::format("{} is also held by {}, which sends no lvsd signature: another director without lvsd, or a "
                     "DR real server answering {} for the VIP ({})",
                     vip, holder, e.vip.is_v4() ? "ARP" : "neighbour solicitations",
                     e.vip.is_v4() ? "set arp_ignore=1 and arp_announce=2 on real servers"
                                   : "real servers keep the VIP on lo, not on the interface that faces the directors");
}

namespace {

// Memory for signatures is per MAC; a link flooded with forged frames must not grow it without
// end. No real link has more lvsd directors than this on one VIP.
constexpr std::size_t kRememberedMacs = 256;

void require_family(const IpAddress& address, Family family, const char* what) {
  if (address.family() != family)
    throw std::invalid_argument(
        fmt::format("{} {} is not {}", what, address.to_string(), model::to_string(family)));
}

}  // namespace

ClaimTracker::ClaimTracker(const Mac& ours, Family family, std::vector<IpAddress> vips, unsigned rounds)
    : ours_(ours), family_(family), vips_(std::move(vips)), rounds_(rounds) {
  for (const auto& vip : vips_) require_family(vip, family_, "VIP");
  if (rounds_ == 0) throw std::invalid_argument("a holder cannot be gone after 0 probe rounds");
}

void ClaimTracker::set_reporting(bool on) {
  reporting_ = on;
  if (!on) holders_.clear();
}

bool ClaimTracker::ours(const IpAddress& address) const {
  return std::find(vips_.begin(), vips_.end(), address) != vips_.end();
}

std::optional<ConflictEvent> ClaimTracker::frame(std::span<const std::uint8_t> f) {
  Mac mac{};
  std::optional<Signature> signature;
  std::optional<IpAddress> claimed;
  bool about_ours = false;  // a claim, or a probe for one of our VIPs
  if (family_ == Family::V4) {
    const auto m = parse_arp(f);
    if (!m) {
      ++counters_.ignored;
      return std::nullopt;
    }
    ++counters_.frames;
    if (m->op != 1 && m->op != 2) return std::nullopt;  // RARP and friends say nothing of the VIP
    mac = m->sender_mac;
    if (ours(m->sender_ip)) claimed = m->sender_ip;
    about_ours = claimed || (m->sender_ip.is_unspecified() && ours(m->target_ip));
    signature = m->signature;
  } else if (const auto na = parse_na(f)) {
    ++counters_.frames;
    mac = na->target_mac.value_or(na->ethernet_source);
    if (ours(na->target)) claimed = na->target;
    about_ours = claimed.has_value();
    signature = na->signature;
  } else if (const auto ns = parse_ns(f)) {
    ++counters_.frames;
    mac = ns->source_mac.value_or(ns->ethernet_source);
    if (ours(ns->source)) claimed = ns->source;
    about_ours = claimed || (ns->source.is_unspecified() && ours(ns->target));
    signature = ns->signature;
  } else {
    ++counters_.ignored;
    return std::nullopt;
  }
  // Our own frames, whichever MAC field says so (the socket drops our outgoing frames; a
  // bridge that echoes them back is caught here).
  if (mac == ours_ || (f.size() >= 12 && std::equal(ours_.begin(), ours_.end(), f.begin() + 6)))
    return std::nullopt;
  if (!about_ours) return std::nullopt;
  return seen(mac, signature, claimed);
}

std::optional<ConflictEvent> ClaimTracker::seen(const Mac& mac, const std::optional<Signature>& signature,
                                                const std::optional<IpAddress>& claimed) {
  if (signature && (signatures_.contains(mac) || signatures_.size() < kRememberedMacs)) signatures_[mac] = *signature;
  // Signed since the epoch began: its lvsd runs now (a probe or an announcement of its may
  // come before its kernel's reply to ours, which is the claim).
  if (signature && (live_.contains(mac) || live_.size() < kRememberedMacs)) live_.insert(mac);
  if (!reporting_) return std::nullopt;
  const std::optional<Signature> latest = signature_of(mac);
  const bool signed_now = live_.contains(mac);
  auto it = holders_.find(mac);
  if (it == holders_.end()) {
    if (!claimed) return std::nullopt;
    holders_.emplace(mac, Known{HolderLiveness(mac, rounds_), *claimed, latest, signed_now});
    ++counters_.conflicts;
    return ConflictEvent{
        .kind = ConflictEvent::Kind::Claimed, .holder = mac, .vip = *claimed, .signature = latest, .live = signed_now};
  }
  Known& known = it->second;
  if (claimed) {
    known.liveness.heard(mac);
    known.vip = *claimed;
  }
  // A holder's probe can bring its first signature (the claim was its kernel's unsigned reply),
  // the first sign that its lvsd runs now, or a new priority: the rule must be evaluated again.
  const bool woke = signed_now && !known.live;
  if (known.reported == latest && !woke) return std::nullopt;
  known.reported = latest;
  known.live = known.live || signed_now;
  return ConflictEvent{
      .kind = ConflictEvent::Kind::Claimed, .holder = mac, .vip = known.vip, .signature = latest, .live = known.live};
}

void ClaimTracker::new_epoch() { live_.clear(); }

std::vector<ConflictEvent> ClaimTracker::next_round() {
  std::vector<ConflictEvent> gone;
  for (auto it = holders_.begin(); it != holders_.end();) {
    if (it->second.liveness.next_round()) {
      gone.push_back(ConflictEvent{.kind = ConflictEvent::Kind::Gone,
                                   .holder = it->first,
                                   .vip = it->second.vip,
                                   .signature = it->second.reported,
                                   .live = it->second.live});
      it = holders_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

std::vector<Holder> ClaimTracker::holders() const {
  std::vector<Holder> out;
  for (const auto& [mac, known] : holders_)
    out.push_back(Holder{.mac = mac, .vip = known.vip, .signature = known.reported,
                         .unanswered = known.liveness.unanswered()});
  return out;
}

std::optional<Signature> ClaimTracker::signature_of(const Mac& mac) const {
  const auto it = signatures_.find(mac);
  if (it == signatures_.end()) return std::nullopt;
  return it->second;
}

namespace {

constexpr std::size_t kBufferSize = 2048;  // an Ethernet frame; anything longer is no ARP or ND
constexpr int kFramesPerWake = 64;         // then the loop's other handlers get a turn

// Classic BPF: only what the tracker reads reaches user space.
std::vector<sock_filter> arp_filter() {
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),             // EtherType
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xFFFF),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
}

// ICMPv6 right after the IPv6 header (neighbour discovery has no extension headers), of type
// 135 (solicitation) or 136 (advert).
std::vector<sock_filter> nd_filter() {
  return {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),  // EtherType
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 6),  // next header
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 3),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14 + 40),  // ICMPv6 type
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 135, 0, 1),
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 136, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xFFFF),
  };
}

std::string system_words(int error) { return std::error_code(error, std::system_category()).message(); }

}  // namespace

struct ConflictWatch::Impl : std::enable_shared_from_this<ConflictWatch::Impl> {
  Impl(asio::any_io_executor executor, ConflictOptions opts, OnEvent on_ev, Log lg, Announcer ann)
      : options(std::move(opts)),
        on_event(std::move(on_ev)),
        log(std::move(lg)),
        announcer(std::move(ann)),
        tracker(announcer.mac(), options.family, options.vips, options.gone_after),
        socket(executor),
        timer(executor) {}

  ConflictOptions options;
  OnEvent on_event;
  Log log;
  Announcer announcer;
  ClaimTracker tracker;
  asio::generic::raw_protocol::socket socket;
  asio::steady_timer timer;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(kBufferSize);
  std::uint64_t timer_generation = 0;  // a wait that completed before a re-arm must not probe
  bool listening = false;
  bool closed = false;
  std::uint64_t receive_errors = 0;
  std::optional<std::chrono::steady_clock::time_point> send_error_logged;

  void say(std::string_view line) {
    if (log) log(line);
  }
  void report(const ConflictEvent& event) {
    if (on_event && !closed) on_event(event);
  }

  void listen() {
    if (listening || closed) return;
    listening = true;
    wait();
  }

  void wait() {
    socket.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (self->closed) return;
      if (ec) return self->receive_failed(ec.value());
      if (self->drain()) self->wait();
    });
  }

  void receive_failed(int error) {
    ++receive_errors;
    say(fmt::format("conflict watch on {}: cannot read {}, no longer watching: {}", options.interface,
                    options.family == Family::V4 ? "ARP" : "neighbour discovery", system_words(error)));
  }

  // Reads what is queued, up to kFramesPerWake frames; false when the socket failed.
  bool drain() {
    for (int i = 0; i < kFramesPerWake && !closed; ++i) {
      sockaddr_ll from{};
      socklen_t size = sizeof from;
      const auto n = ::recvfrom(socket.native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC,
                                reinterpret_cast<sockaddr*>(&from), &size);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        receive_failed(errno);
        return false;
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;  // a kernel without PACKET_IGNORE_OUTGOING
      // Truncated (MSG_TRUNC gives the whole length): no ARP or ND message is this long. An
      // empty frame parses as nothing, which the tracker counts as ignored.
      const std::size_t length = static_cast<std::size_t>(n) > buffer.size() ? 0 : static_cast<std::size_t>(n);
      if (const auto event = tracker.frame(std::span(buffer.data(), length))) report(*event);
    }
    return true;
  }

  void arm() {
    const auto generation = ++timer_generation;
    timer.expires_after(options.probe_interval);
    timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
      if (ec || self->closed || generation != self->timer_generation || !self->tracker.reporting()) return;
      self->round();
      self->arm();
    });
  }

  void round() {
    const auto gone = tracker.next_round();
    for (const auto& vip : options.vips) {
      const auto ec = announcer.probe(vip);
      if (!ec) continue;
      // A link that is down refuses every probe of every round: one line a second is enough.
      const auto now = std::chrono::steady_clock::now();
      if (send_error_logged && now - *send_error_logged < std::chrono::seconds(1)) continue;
      send_error_logged = now;
      say(fmt::format("conflict watch on {}: cannot probe {}: {}", options.interface, vip.to_string(), ec.message()));
    }
    for (const auto& event : gone) report(event);
  }

  void set_probing(bool on) {
    if (closed || on == tracker.reporting()) return;
    tracker.set_reporting(on);
    if (on) {
      listen();
      arm();
    } else {
      ++timer_generation;
      timer.cancel();
    }
  }

  void close() {
    if (closed) return;
    closed = true;
    timer.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
  }
};

boost::system::result<ConflictWatch, std::string> ConflictWatch::open(asio::any_io_executor executor,
                                                                      ConflictOptions options, OnEvent on_event,
                                                                      Log log) {
  using Result = boost::system::result<ConflictWatch, std::string>;
  auto fail = [interface = options.interface](std::string why) {
    return Result(boost::system::in_place_error, fmt::format("conflict watch on {}: {}", interface, why));
  };
  for (const auto& vip : options.vips)
    if (vip.family() != options.family)
      return fail(fmt::format("VIP {} is not {}", vip.to_string(), model::to_string(options.family)));
  if (options.gone_after == 0) return fail("gone_after must be at least one probe round");
  if (options.probe_interval.count() <= 0) return fail("the probe interval must be positive");
  auto announcer = Announcer::open(options.interface, options.mac);
  if (!announcer) return fail(announcer.error());
  const bool v4 = options.family == Family::V4;
  const std::uint16_t protocol = v4 ? ETH_P_ARP : ETH_P_IPV6;

  // Protocol 0 reads nothing until bind(): no frame gets in before the filter is attached.
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(fmt::format("cannot open a packet socket: {}", system_words(errno)));
  auto impl = std::make_shared<Impl>(executor, std::move(options), std::move(on_event), std::move(log),
                                     std::move(*announcer));
  boost::system::error_code ec;
  impl->socket.assign(asio::generic::raw_protocol(AF_PACKET, htons(protocol)), fd, ec);
  if (ec) {
    ::close(fd);
    return fail(fmt::format("cannot use the packet socket: {}", ec.message()));
  }
  const ConflictOptions& o = impl->options;
  auto program = v4 ? arp_filter() : nd_filter();
  const sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    return fail(fmt::format("cannot attach the socket filter: {}", system_words(errno)));
  // Our own probes would come back as PACKET_OUTGOING; older kernels refuse the option and
  // drain() skips them instead.
  const int yes = 1;
  std::ignore = ::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &yes, sizeof yes);
  const int ifindex = static_cast<int>(impl->announcer.interface_index());
  if (!v4) {
    // Other directors' probes go to the VIPs' solicited-node groups, which the NIC drops unless
    // someone joined them; the kernel does only for addresses it holds.
    for (const auto& vip : o.vips) {
      const Mac group = multicast_mac(solicited_node_group(vip));
      packet_mreq request{};
      request.mr_ifindex = ifindex;
      request.mr_type = PACKET_MR_MULTICAST;
      request.mr_alen = 6;
      std::memcpy(request.mr_address, group.data(), 6);
      if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, sizeof request) != 0)
        return fail(fmt::format("cannot join {}: {}", to_string(group), system_words(errno)));
    }
  }
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(protocol);
  at.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
    return fail(fmt::format("cannot bind the packet socket: {}", system_words(errno)));
  return ConflictWatch(std::move(impl));
}

ConflictWatch::ConflictWatch(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConflictWatch::ConflictWatch(ConflictWatch&&) noexcept = default;
ConflictWatch& ConflictWatch::operator=(ConflictWatch&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
ConflictWatch::~ConflictWatch() {
  if (impl_) impl_->close();
}

void ConflictWatch::start() { impl_->listen(); }

void ConflictWatch::set_signature(std::optional<Signature> signature) {
  if (signature) require_family(signature->primary, impl_->options.family, "signature primary");
  impl_->announcer.set_signature(std::move(signature));
}

void ConflictWatch::set_probing(bool on) { impl_->set_probing(on); }

void ConflictWatch::probe_now() {
  Impl& s = *impl_;
  if (s.closed) return;
  if (!s.tracker.reporting()) {
    s.tracker.set_reporting(true);
    s.listen();
  }
  s.arm();
  s.round();
}

void ConflictWatch::new_epoch() { impl_->tracker.new_epoch(); }

void ConflictWatch::close() { impl_->close(); }

bool ConflictWatch::probing() const { return impl_->tracker.reporting(); }
std::vector<Holder> ConflictWatch::holders() const { return impl_->tracker.holders(); }

ConflictCounters ConflictWatch::counters() const {
  ConflictCounters c = impl_->tracker.counters();
  c.probes_sent = impl_->announcer.sent();
  c.send_errors = impl_->announcer.send_errors();
  c.receive_errors = impl_->receive_errors;
  return c;
}

const Mac& ConflictWatch::mac() const { return impl_->announcer.mac(); }

}  // namespace lvsd::vrrp
