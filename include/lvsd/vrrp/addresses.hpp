// Virtual addresses and routes on the interfaces, and the interfaces' link state, through
// rtnetlink (libnl-route-3).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "lvsd/model/vrrp.hpp"

namespace lvsd::vrrp {

// A request the kernel (or the socket) refused: a failure that is part of normal operation
// (a missing interface, a prefix the kernel rejects), never an exception.
struct NetlinkError {
  boost::system::error_code code;  // the errno, generic category
  std::string text;                // the line to log: "cannot add 192.0.2.10/24 on eth9: No such device"
  bool operator==(const NetlinkError&) const = default;
};
std::ostream& operator<<(std::ostream& out, const NetlinkError& error);
// What value() of a failed NetlinkResult throws (found by ADL): std::runtime_error(text).
[[noreturn]] void throw_exception_from_error(const NetlinkError& error, const boost::source_location& location);

template <class T>
using NetlinkResult = boost::system::result<T, NetlinkError>;

// The VIPs and virtual routes of the VRRP instances on their interfaces. Every change is
// idempotent, so a master can re-assert its addresses (and a backup release them) without
// first asking what is there:
// - add() of an address the interface already has with the same prefix length succeeds
//   (whatever its label); remove() of an address it does not have, or from an interface that
//   does not exist, succeeds. The same for routes (same destination, table, metric, device
//   and gateway).
// - IPv6 addresses are added with IFA_F_NODAD (as keepalived does): usable at once, and they
//   cannot get stuck in "dadfailed" after a short split brain; VRRP is the duplicate
//   detection. IPv6 takes neither a label nor a scope (the kernel derives it): both are
//   ignored.
// - Routes go in with protocol "static" and, without `via`, scope link (as `ip route add`).
// Calls block on the kernel's answer (microseconds): the VRRP process makes them between
// adverts, from one thread.
class AddressManager {
 public:
  // A socket of its own, in the network namespace of the calling thread.
  static NetlinkResult<AddressManager> open();
  AddressManager(AddressManager&&) noexcept;
  AddressManager& operator=(AddressManager&&) noexcept;
  ~AddressManager();

  // `default_device`: the instance's interface, for a VIP or route that names none.
  NetlinkResult<void> add(const model::VirtualIp& vip, const std::string& default_device);
  NetlinkResult<void> remove(const model::VirtualIp& vip, const std::string& default_device);
  // Whether the interface has the address with this prefix length (label and scope are not
  // compared). False when the interface does not exist.
  NetlinkResult<bool> has(const model::VirtualIp& vip, const std::string& default_device);

  NetlinkResult<void> add_route(const model::VirtualRoute& route, const std::string& default_device);
  NetlinkResult<void> remove_route(const model::VirtualRoute& route, const std::string& default_device);
  // Whether that route (destination, table, metric, device, gateway) is in the kernel.
  NetlinkResult<bool> has_route(const model::VirtualRoute& route, const std::string& default_device);

  struct Impl;  // the socket and its callbacks (addresses.cpp)

 private:
  explicit AddressManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A change in an interface's link state, for track_interface.
struct LinkEvent {
  std::string name;
  // IFF_UP and IFF_RUNNING, as keepalived: administratively up and the kernel's operational
  // state up (IFF_RUNNING is set for operstate UP or UNKNOWN, so a dummy or a tunnel without
  // carrier reporting counts as up once set up).
  bool up = false;
  // False: the interface is gone (deleted, moved to another namespace, or renamed: the new
  // name comes as an event of its own). `up` is then false.
  bool present = true;
  bool operator==(const LinkEvent&) const = default;
};
std::ostream& operator<<(std::ostream& out, const LinkEvent& event);

// Link state from rtnetlink events (RTNLGRP_LINK), never by polling. It subscribes first and
// then dumps every interface, so nothing that happens in between is missed; each interface of
// the dump is reported once, then each change of `up`, each deletion and each rename. If the
// kernel drops events (the socket's queue overflowed: ENOBUFS) it dumps again and reports
// what changed meanwhile, interfaces gone included.
class LinkMonitor {
 public:
  using Callback = std::function<void(const LinkEvent&)>;

  // The callback runs on `executor` (one thread, like every use of the monitor), never inside
  // open(), and must not throw. Destroy the monitor before its io_context.
  static NetlinkResult<LinkMonitor> open(const boost::asio::any_io_executor& executor, Callback on_change);
  LinkMonitor(LinkMonitor&&) noexcept;
  LinkMonitor& operator=(LinkMonitor&&) noexcept;
  ~LinkMonitor();  // no callback after this, even one already queued

  // True once the first dump is in (every interface then present has been reported).
  bool synced() const;
  // nullopt: no interface of that name (or not yet dumped).
  std::optional<bool> is_up(std::string_view name) const;
  // Dumps after the first, each because the kernel dropped events.
  std::uint64_t resyncs() const;

  struct Impl;  // the socket, the interfaces by index (addresses.cpp)

 private:
  explicit LinkMonitor(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // shared with the pending read, which may outlive us
};

}  // namespace lvsd::vrrp
