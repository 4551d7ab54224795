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

// The interface of an instance with use_vmac: a macvlan on the instance's interface with the
// virtual router's MAC, so that the VIPs a master holds on it answer with a MAC that moves
// with them (neighbours' caches and switches' tables need no update on a failover).
struct Vmac {
  std::string name;    // vmac_name; vrrp.<vrid> when the instance names none
  std::string parent;  // the instance's interface
  std::uint8_t vrid = 0;
  // Its MAC (RFC 5798 7.3): 00:00:5e:00:01:<vrid> for V4, 00:00:5e:00:02:<vrid> for V6.
  model::Family family = model::Family::V4;
  // V6: the link-local address it gets, which VRRPv3 adverts over IPv6 must come from. The
  // instance's unicast_source when that is link-local; unset: the parent's link-local
  // address, or without one the EUI-64 address of the parent's MAC (as keepalived).
  std::optional<model::IpAddress> link_local;
  bool operator==(const Vmac&) const = default;
};
Vmac vmac_of(const model::VrrpInstance& instance);

enum class VmacOutcome : std::uint8_t { Created, Reused };

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

  // Makes the vmac what keepalived makes it, creating it or reusing one already there (from a
  // run that did not remove it); calling it again changes nothing:
  // - a macvlan in private mode: the master's adverts come from the same VMAC, and the
  //   default vepa mode would drop frames whose source is the macvlan's own MAC. In the
  //   parent's interface group (firewall rules on the group keep matching); on a parent that
  //   is itself a macvlan, the kernel puts it on that macvlan's lower interface.
  // - addrgenmode none (no link-local address from the VMAC, RFC 5798 7.4), then up. It stays
  //   up whatever the instance's state, as keepalived: a backup receives adverts on it.
  // - V4, in /proc/sys/net/ipv4/conf (this network namespace's): on the vmac arp_ignore=1
  //   (no ARP answer with the VMAC for the parent's addresses), accept_local=1 (adverts from
  //   our own addresses: another instance of this host), rp_filter=0 (adverts reach it while
  //   it has no address), promote_secondaries=1 (removing one VIP keeps the others of its
  //   subnet); IPv6 disabled on it. On the parent (its lower interface, for a macvlan parent)
  //   arp_ignore=1 and arp_filter=1: only the vmac answers ARP for the VIPs. The kernel uses
  //   the larger of conf/all/rp_filter and the interface's, so a non-zero all is first copied
  //   to default and to every interface below it, then set to 0: no other interface changes.
  // - V6: arp_ignore=1 on the vmac; its link-local address (see Vmac), nodad.
  // A link of that name that is not a macvlan of the parent with that MAC is an error
  // (EEXIST), never changed; a missing parent is ENODEV.
  NetlinkResult<VmacOutcome> ensure_vmac(const Vmac& vmac);
  // Deletes the macvlan `name`; one that is not there is fine, an interface of that name that
  // is not a macvlan is an error and stays. Once the last IPv4 vmac on a parent is gone, the
  // parent's arp_ignore and arp_filter get their values from before ensure_vmac() back (and
  // conf/all/rp_filter and what was raised with it, once the last in the namespace is gone),
  // where they still hold what ensure_vmac() set. What this manager changed is known to it
  // alone: one manager should make and remove all the vmacs of a process.
  NetlinkResult<void> remove_vmac(const std::string& name);

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
