// Split brain that VRRP cannot see: two masters whose adverts are lost between them both
// answer for the VIPs. Found on the data path (probes for our VIPs, and the ARP / neighbour
// discovery frames in which another MAC says it holds one), and settled by the VRRP election
// evaluated on the signatures those frames carry (announce.hpp).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lvsd/model/address.hpp"
#include "lvsd/vrrp/announce.hpp"

namespace lvsd::vrrp {

// One of two masters that hold the same VIP: the MAC its frames come from and its signature.
struct Contender {
  Mac mac{};
  Signature signature;
  bool operator==(const Contender&) const = default;
};

// The VRRP election (RFC 5798 6.4.3) between two masters, evaluated on the data path: the
// higher effective priority wins, then the higher primary address. Each side evaluates it with
// its own signature and the other's, the same facts both ways round, so exactly one of two
// contenders with different MACs yields, and it is the one the election will also drop once
// adverts come back. Equal priorities and addresses (a misconfiguration: two instances with
// one primary address) fall to the higher MAC. The VRID takes no part (one VIP in two
// instances is a misconfiguration too; it is still settled). True: `mine` yields.
// With no signature from the other holder (no lvsd there) there is nothing to evaluate: the
// caller does not yield, and logs it.
bool yields(const Contender& mine, const Contender& theirs);

// Whether one other holder still answers, counted in probe rounds: alive while it claims one
// of our VIPs; gone once `rounds` rounds in a row have closed without a claim from it (a round
// closes when the next begins, so a reply has the whole interval to arrive). Once gone it stays
// gone: a later claim is a new conflict. Pure.
// The watch keeps one per other holder (its Gone event is this verdict). The side that yielded
// is the same case seen from the other end: it stays backup while the winner keeps answering
// for the VIP (a data-path sign of a live master, when no advert gets through), and is
// released when this says gone, so nothing flaps while the partition lasts.
class HolderLiveness {
 public:
  static constexpr unsigned kRounds = 3;
  // Created on a claim from `holder`: the current round counts as answered. `rounds` >= 1
  // (0 is a programmer error: std::invalid_argument).
  explicit HolderLiveness(const Mac& holder, unsigned rounds = kRounds);

  void heard(const Mac& from);  // a claim for one of our VIPs; only the holder's count
  // A probe round begins, closing the one before. True once: when that made the holder gone.
  bool next_round();

  bool gone() const { return gone_; }
  const Mac& holder() const { return holder_; }
  unsigned unanswered() const { return unanswered_; }  // rounds closed in a row without a claim

 private:
  Mac holder_;
  unsigned rounds_;
  unsigned unanswered_ = 0;
  bool answered_ = true;
  bool gone_ = false;
};

// What the watch reports: once per change, never per frame.
struct ConflictEvent {
  enum class Kind : std::uint8_t {
    Claimed,  // `holder` answers for `vip`: a new holder, or the signature known for it changed
    Gone,     // `holder` no longer claims any of our VIPs (HolderLiveness)
  };
  Kind kind = Kind::Claimed;
  Mac holder{};
  model::IpAddress vip;  // the VIP of its latest claim
  // The latest seen from `holder` (its probes, its gratuitous ARPs / NAs); nullopt: it never
  // sent one. A kernel's replies to our probes carry none: this is what its lvsd said.
  std::optional<Signature> signature;
  // A signed frame came from `holder` since the epoch began (ClaimTracker::new_epoch: when we
  // became master): its lvsd runs now, as master or yielded. False: the signature, if any, is older, and may be
  // that of an lvsd that died and left the VIPs on its kernel, which answers for them alone.
  // Only a live signature may make anyone yield. A holder's first live frame is an event of
  // its own, whether or not its signature changed.
  bool live = false;
  bool operator==(const ConflictEvent&) const = default;
};

// One line for the log. "10.9.0.100 is also held by 02:00:00:00:00:02 (lvsd: VRID 51, priority
// 100, primary 10.9.0.2)"; without a signature it says what else the holder can be: another
// director without lvsd, or a DR real server answering for the VIP, and the cure for that.
// Gone: "02:00:00:00:00:02 no longer answers for 10.9.0.100".
std::string to_string(const ConflictEvent& event);

struct ConflictCounters {
  std::uint64_t conflicts = 0;       // other holders found (Claimed for a new holder)
  std::uint64_t frames = 0;          // frames parsed: ARP, or neighbour solicitations / adverts
  std::uint64_t ignored = 0;         // frames past the socket filter that did not parse
  std::uint64_t probes_sent = 0;     // one per VIP per round
  std::uint64_t send_errors = 0;     // probes the kernel refused
  std::uint64_t receive_errors = 0;  // the socket failed (the watch then stops listening)
  bool operator==(const ConflictCounters&) const = default;
};

// One other holder of our VIPs, as the watch knows it now.
struct Holder {
  Mac mac{};
  model::IpAddress vip;                // its latest claim
  std::optional<Signature> signature;  // as last reported
  unsigned unanswered = 0;             // probe rounds closed in a row without a claim from it
  bool operator==(const Holder&) const = default;
};

// The watch's pure core: frames and probe rounds in, events out.
// A claim is a frame in which a MAC other than ours says it holds one of our VIPs: an ARP
// request or reply from the VIP, a neighbour advert for it, a neighbour solicitation from it.
// A probe from another MAC (ARP from 0.0.0.0, NS from ::) for one of our VIPs is no claim,
// but its signature, like that of a claim, is remembered for its MAC. Claims are reported only
// while reporting is on (we hold the VIPs); off, frames only teach signatures.
class ClaimTracker {
 public:
  // `ours`: the MAC of our own frames, never a claim. `vips`: the instance's VIPs, all of
  // `family` (another is a programmer error: std::invalid_argument).
  ClaimTracker(const Mac& ours, model::Family family, std::vector<model::IpAddress> vips,
               unsigned rounds = HolderLiveness::kRounds);

  // Off forgets the holders: the next time on, every one is new again.
  void set_reporting(bool on);
  // Liveness starts again: only signed frames from now on make a holder's claims live. The
  // runner calls it when it becomes master, so that what a backup heard of the old master
  // says nothing of whether that one's lvsd still runs.
  void new_epoch();
  bool reporting() const { return reporting_; }
  // One Ethernet frame as read from the interface (ARP for IPv4, ICMPv6 for IPv6).
  std::optional<ConflictEvent> frame(std::span<const std::uint8_t> frame);
  // A probe round begins: the holders that closing the last one found gone.
  std::vector<ConflictEvent> next_round();

  std::vector<Holder> holders() const;  // by MAC
  std::optional<Signature> signature_of(const Mac& mac) const;
  // conflicts, frames and ignored; the edge counts the rest.
  const ConflictCounters& counters() const { return counters_; }

 private:
  struct Known {
    HolderLiveness liveness;
    model::IpAddress vip;
    std::optional<Signature> reported;
    bool live = false;  // a signed frame from it since it became a holder
  };
  bool ours(const model::IpAddress& address) const;
  std::optional<ConflictEvent> seen(const Mac& mac, const std::optional<Signature>& signature,
                                    const std::optional<model::IpAddress>& claimed);

  Mac ours_;
  model::Family family_;
  std::vector<model::IpAddress> vips_;
  unsigned rounds_;
  bool reporting_ = false;
  std::map<Mac, Known> holders_;
  std::map<Mac, Signature> signatures_;
  std::set<Mac> live_;  // MACs that sent a signed frame since new_epoch()
  ConflictCounters counters_;
};

struct ConflictOptions {
  std::string interface;
  model::Family family = model::Family::V4;
  std::vector<model::IpAddress> vips;  // the instance's, all of `family`
  std::chrono::milliseconds probe_interval{1000};  // conflict_probe_interval
  unsigned gone_after = HolderLiveness::kRounds;  // probe rounds
  // The source of our probes; frames from it are ours. Unset: the interface's MAC (the
  // VMAC when the interface is the instance's macvlan).
  std::optional<Mac> mac;
};

// The ClaimTracker of one instance on one interface, on Asio: an AF_PACKET socket with a
// classic BPF filter, so that only ARP (IPv4) or only neighbour solicitations and adverts
// (IPv6, no extension headers) reach user space, and our own outgoing frames do not; IPv6 also
// joins the VIPs' solicited-node groups, so that a NIC's multicast filter lets other
// directors' probes through. Probes go out through an Announcer of its own, signed with the
// signature set here. Nothing is thrown from its handlers: failures are counted and logged.
class ConflictWatch {
 public:
  using OnEvent = std::function<void(const ConflictEvent&)>;
  using Log = std::function<void(std::string_view)>;

  // Opens the sockets in the calling thread's network namespace; nothing is read or sent
  // before start(). Errors in words. `on_event` gets every event, `log` one line per failure
  // worth an operator's eye (send errors at most once a second). They may call the watch's
  // setters, but must not destroy it.
  static boost::system::result<ConflictWatch, std::string> open(boost::asio::any_io_executor executor,
                                                                ConflictOptions options, OnEvent on_event,
                                                                Log log = {});
  ConflictWatch(ConflictWatch&&) noexcept;
  ConflictWatch& operator=(ConflictWatch&&) noexcept;
  ~ConflictWatch();  // close()

  // Listens from now on, until close(): signatures are learnt even while not probing, so a
  // new master knows its peer's at the first claim.
  void start();
  // Signs our probes (see Announcer::set_signature); its primary address must be of the
  // watch's family (std::invalid_argument).
  void set_signature(std::optional<Signature> signature);
  // On (while master, and while yielded and waiting for the winner to go): claims are
  // reported, and a probe round goes out every probe_interval, the first one interval from
  // now. Off: no probes, nothing reported, the holders forgotten. Starts listening if need be.
  void set_probing(bool on);
  // ClaimTracker::new_epoch.
  void new_epoch();
  // A probe round now, with probing on if it was not; the next timed round one interval later.
  // The runner calls it on becoming master, right after its first gratuitous ARP burst.
  void probe_now();
  // Stops everything; the watch does nothing more.
  void close();

  bool probing() const;
  std::vector<Holder> holders() const;
  ConflictCounters counters() const;
  const Mac& mac() const;

  struct Impl;  // conflict.cpp

 private:
  explicit ConflictWatch(std::shared_ptr<Impl> impl);
  // Shared with the handlers, which may run after the watch is gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace lvsd::vrrp
