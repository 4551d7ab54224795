// L3: ICMP and ICMPv6 echo, through one raw socket per family shared by every check.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <span>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// The RFC 1071 checksum of `data`: what ICMPv4 carries (the kernel computes ICMPv6's).
std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

// The echo identifier of this process: its pid, cut to 16 bits, as ping does.
std::uint16_t process_identifier();

// The raw sockets of the process's ICMP checks: one per family, opened on first use, each
// with one receive loop (while requests wait) that hands a reply or an ICMP error to the
// request it answers, found by identifier, sequence number and address. Every request waits
// only on its own entry, so a thousand checks cost two descriptors. Used from one thread;
// must outlive the probes that use it and must not outlive its io_context.
class IcmpSockets {
 public:
  explicit IcmpSockets(boost::asio::any_io_executor executor, std::uint16_t identifier = process_identifier());
  ~IcmpSockets();
  IcmpSockets(const IcmpSockets&) = delete;
  IcmpSockets& operator=(const IcmpSockets&) = delete;

  // One echo request of `payload_size` bytes of payload to the target's address, from its
  // bind_address and bind_interface if set (per packet: IP_PKTINFO / IPV6_PKTINFO). Up "echo
  // reply"; down "host unreachable", "network unreachable", … when an ICMP error quoting the
  // request comes back, or when it cannot be sent. Waits for one of those without end: the
  // caller bounds it (attempt()'s timeout), and a cancelled request is forgotten.
  boost::asio::awaitable<Result> echo(const Target& target, std::uint16_t payload_size);

  std::uint16_t identifier() const { return identifier_; }
  // Requests waiting for their answer, both families.
  std::size_t pending() const;
  // Packets that answered no waiting request: other processes' replies, late ones, a bad
  // checksum, too short, the wrong payload or source address.
  std::uint64_t ignored() const;

 private:
  struct Family;  // one raw socket and its waiting requests
  std::uint16_t identifier_;
  std::shared_ptr<Family> v4_;
  std::shared_ptr<Family> v6_;
};

class IcmpProber final : public Prober {
 public:
  IcmpProber(IcmpSockets& sockets, model::IcmpCheck check);
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  IcmpSockets& sockets_;
  model::IcmpCheck check_;
};

}  // namespace lvsd::check
