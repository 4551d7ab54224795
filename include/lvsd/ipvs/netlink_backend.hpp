// The kernel's IPVS table through generic netlink: one socket, requests pipelined in large
// sends, every acknowledgement matched back to its operation.
#pragma once

#include <boost/system/result.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "lvsd/ipvs/backend.hpp"

namespace lvsd::ipvs {

// The one line a command that needs IPVS prints on a kernel without it.
inline constexpr std::string_view kNoIpvs =
    "kernel has no IPVS: generic netlink family IPVS not found; load module ip_vs";

// The one line to print when open() fails: kNoIpvs, or the socket's error.
std::string open_error_text(const boost::system::error_code& error);

class NetlinkBackend final : public Backend {
 public:
  // Errors: protocol_not_supported when the kernel has no IPVS family (print kNoIpvs);
  // otherwise the socket's errno.
  static boost::system::result<std::unique_ptr<NetlinkBackend>> open();
  ~NetlinkBackend() override;
  NetlinkBackend(const NetlinkBackend&) = delete;
  NetlinkBackend& operator=(const NetlinkBackend&) = delete;

  boost::system::result<Table> dump() override;
  boost::system::result<Settings> dump_settings() override;
  std::vector<Failure> apply(std::span<const Operation> operations) override;
  boost::system::result<Info> info();
  boost::system::result<Timeouts> timeouts();

  // Requests that change the table, sent since open (reads are not counted).
  std::size_t write_requests() const { return write_requests_; }
  // Netlink sends (sendmsg calls) for those writes.
  std::size_t write_sends() const { return write_sends_; }

  struct Impl;  // the socket and its buffers (netlink_backend.cpp)

 private:
  explicit NetlinkBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::size_t write_requests_ = 0;
  std::size_t write_sends_ = 0;
};

}  // namespace lvsd::ipvs
