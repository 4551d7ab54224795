// IPVS generic-netlink messages: building requests and reading replies (libnl-genl-3).
// Pure functions of their arguments, so golden-bytes tests need no kernel.
#pragma once

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "lvsd/ipvs/operation.hpp"
#include "lvsd/ipvs/table.hpp"

namespace lvsd::ipvs::netlink {

struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using Msg = std::unique_ptr<nl_msg, MsgFree>;

inline constexpr std::uint8_t kGenlVersion = 1;  // IPVS_GENL_VERSION

// A request for one operation, flagged NLM_F_REQUEST | NLM_F_ACK; sequence number left 0.
Msg encode(const Operation& op, int family_id);
// Dump requests (NLM_F_DUMP) and the two small GETs.
Msg encode_dump_services(int family_id);
Msg encode_dump_destinations(int family_id, const ServiceKey& service);
Msg encode_dump_daemons(int family_id);
Msg encode_get_info(int family_id);
Msg encode_get_config(int family_id);

// The bytes of a message as the kernel receives them.
std::vector<std::uint8_t> bytes(nl_msg* msg);

// One GET_SERVICE dump reply (a whole netlink message) → Service (counters included).
boost::system::result<Service> decode_service(nlmsghdr* hdr);
// One GET_DEST dump reply → Destination; `service_family` fills a missing ADDR_FAMILY.
boost::system::result<Destination> decode_destination(nlmsghdr* hdr, model::Family service_family);
boost::system::result<Info> decode_info(nlmsghdr* hdr);
boost::system::result<Timeouts> decode_config(nlmsghdr* hdr);
// One GET_DAEMON dump reply → the daemon it reports.
boost::system::result<SyncDaemon> decode_daemon(nlmsghdr* hdr);

}  // namespace lvsd::ipvs::netlink
