// What the prober tests share: an attempt run beside the test's own servers, a UDP server,
// and a count of the process's open descriptors.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dirent.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lvsd/check/runner.hpp"

namespace lvsd::check::testing {

// One attempt on `io`, where the test's servers also run (and never run out of work): runs
// handlers until the attempt has its result.
inline Result run_attempt(boost::asio::io_context& io, Prober& prober, const Target& target, model::Millis timeout) {
  std::optional<Result> out;
  boost::asio::co_spawn(io, attempt(prober, target, timeout), [&](std::exception_ptr e, Result r) {
    if (e) std::rethrow_exception(e);
    out = std::move(r);
  });
  io.restart();
  while (!out && io.run_one()) {
  }
  if (!out) throw std::logic_error("the io_context stopped before the attempt ended");
  return std::move(*out);
}

// A UDP server on `io` at a port of its own: sends back the datagrams `answer` makes of each
// one it receives, and keeps who sent what.
using UdpAnswer = std::function<std::vector<std::string>(const std::string& datagram)>;
struct UdpServer {
  struct Received {
    boost::asio::ip::udp::endpoint from;
    std::string datagram;
  };
  std::uint16_t port = 0;
  std::shared_ptr<std::vector<Received>> received = std::make_shared<std::vector<Received>>();
};

inline UdpServer serve_udp(boost::asio::io_context& io, UdpAnswer answer, const char* address = "127.0.0.1") {
  namespace asio = boost::asio;
  using asio::ip::udp;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address(address), 0));
  UdpServer server{.port = socket.local_endpoint().port()};
  auto loop = [](udp::socket s, UdpAnswer answer,
                 std::shared_ptr<std::vector<UdpServer::Received>> received) -> asio::awaitable<void> {
    std::string buffer(65536, '\0');
    for (;;) {
      udp::endpoint from;
      const auto n = co_await s.async_receive_from(asio::buffer(buffer), from, asio::use_awaitable);
      received->push_back({from, buffer.substr(0, n)});
      for (const auto& datagram : answer(received->back().datagram))
        co_await s.async_send_to(asio::buffer(datagram), from, asio::use_awaitable);
    }
  };
  asio::co_spawn(io, loop(std::move(socket), std::move(answer), server.received), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  return server;
}

// A port nothing listens on: bound a moment ago, closed now.
inline std::uint16_t closed_udp_port(boost::asio::io_context& io) {
  boost::asio::ip::udp::socket gone(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return gone.local_endpoint().port();
}

inline std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

}  // namespace lvsd::check::testing
