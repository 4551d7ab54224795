// Prints the kernel's raw replies to IPVS dumps as hex, one message a line, so that a VM run
// can capture golden bytes for the codec's tests (test/data/ipvs_replies.txt).
// Usage: lvsd_netlink_capture   (in a network namespace whose IPVS table is set up)
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstdio>
#include <vector>

#include "netlink_codec.hpp"

using namespace lvsd::ipvs;

namespace {
void print(const char* label, const nlmsghdr* h) {
  std::printf("%s", label);
  const auto* p = reinterpret_cast<const unsigned char*>(h);
  for (unsigned i = 0; i < h->nlmsg_len; ++i) std::printf("%s%02x", i ? "" : " ", p[i]);
  std::printf("\n");
}

// Sends one request and prints every reply up to DONE (or the single answer).
std::vector<std::vector<unsigned char>> exchange(int fd, nl_msg* m, const char* label, bool dump) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  nlmsghdr* req = nlmsg_hdr(m);
  req->nlmsg_seq = 1;
  sendto(fd, req, req->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  std::vector<std::vector<unsigned char>> replies;
  std::vector<unsigned char> buf(1 << 20);
  for (bool done = false; !done;) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
    int left = static_cast<int>(n);
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        done = true;
        continue;
      }
      print(label, h);
      const auto* p = reinterpret_cast<const unsigned char*>(h);
      replies.emplace_back(p, p + h->nlmsg_len);
      if (!dump) done = true;
    }
  }
  return replies;
}
}  // namespace

int main() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock || genl_connect(sock) < 0) return 1;
  const int family = genl_ctrl_resolve(sock, "IPVS");
  if (family < 0) return 1;
  const int fd = nl_socket_get_fd(sock);
  exchange(fd, netlink::encode_get_info(family).get(), "info", false);
  exchange(fd, netlink::encode_get_config(family).get(), "config", false);
  exchange(fd, netlink::encode_dump_daemons(family).get(), "daemon", true);
  for (const auto& bytes : exchange(fd, netlink::encode_dump_services(family).get(), "service", true)) {
    auto s = netlink::decode_service(const_cast<nlmsghdr*>(reinterpret_cast<const nlmsghdr*>(bytes.data())));
    if (!s) return 1;
    exchange(fd, netlink::encode_dump_destinations(family, s->key).get(), "destination", true);
  }
  nl_socket_free(sock);
  return 0;
}
