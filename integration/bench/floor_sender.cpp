// The floor of the IPVS load benchmark: the same requests lvsd sends for a table of
// S services x D destinations, written in the same windows, with no config, no model, no
// diff and no error matching — only the kernel's own cost and the socket's.
// Usage: lvsd_bench_floor SERVICES DESTINATIONS
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "netlink_codec.hpp"

using namespace lvsd;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SERVICES DESTINATIONS\n", argv[0]);
    return 2;
  }
  const int services = std::atoi(argv[1]), dests = std::atoi(argv[2]);
  nl_sock* sock = nl_socket_alloc();
  if (!sock || genl_connect(sock) < 0) return 1;
  const int family = genl_ctrl_resolve(sock, "IPVS");
  if (family < 0) {
    std::fprintf(stderr, "no IPVS\n");
    return 1;
  }
  const int fd = nl_socket_get_fd(sock);
  int size = 32 * 1024 * 1024, one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

  // The table of integration/bench/ipvs_load: VIP 10.100.x.y:80 (wlc), DR destinations
  // 10.(1+i/250).(i%250).j:80, weight 1.
  std::vector<std::uint8_t> all;
  std::uint32_t seq = 1;
  auto add = [&](const ipvs::Operation& op) {
    auto m = ipvs::netlink::encode(op, family);
    nlmsg_hdr(m.get())->nlmsg_seq = seq++;
    const auto b = ipvs::netlink::bytes(m.get());
    all.insert(all.end(), b.begin(), b.end());
    all.resize((all.size() + 3) & ~std::size_t{3});
  };
  std::vector<std::size_t> ends;  // end offset of each message
  for (int i = 0; i < services; ++i) {
    ipvs::Service s;
    s.key.endpoint = {model::IpAddress::v4(0x0a640000u | (i / 250) << 8 | (i % 250 + 1)), 80};
    s.scheduler = "wlc";
    add(ipvs::AddService{s});
    ends.push_back(all.size());
    for (int j = 1; j <= dests; ++j) {
      ipvs::Destination d;
      d.endpoint = {model::IpAddress::v4(0x0a000000u | (1 + i / 250) << 16 | (i % 250) << 8 | j), 80};
      d.forward = ipvs::Forward::Route;
      add(ipvs::AddDestination{s.key, d});
      ends.push_back(all.size());
    }
  }

  const auto start = std::chrono::steady_clock::now();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  std::vector<std::uint8_t> buf(1 << 20);
  std::size_t sent = 0, msg = 0, errors = 0;
  while (msg < ends.size()) {
    std::size_t last = msg;
    while (last < ends.size() && ends[last] - sent <= 256 * 1024) ++last;
    if (last == msg) ++last;
    sendto(fd, all.data() + sent, ends[last - 1] - sent, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    for (std::size_t acks = 0; acks < last - msg;) {
      const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) return 1;
      auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
      int left = static_cast<int>(n);
      for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))
        if (h->nlmsg_type == NLMSG_ERROR) {
          ++acks;
          errors += static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error != 0;
        }
    }
    sent = ends[last - 1];
    msg = last;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("floor: %zu requests, %zu refused, %.0f ms\n", ends.size(), errors, ms);
  nl_socket_free(sock);
  return errors == 0 ? 0 : 1;
}
