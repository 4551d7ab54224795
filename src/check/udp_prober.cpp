// A UDP datagram out, one back: up on a reply (that matches `expect`, when set).
#include "lvsd/check/udp_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <vector>

#include "udp_socket.hpp"

namespace lvsd::check {
namespace asio = boost::asio;

UdpProber::UdpProber(model::UdpCheck check) : check_(std::move(check)) {
  if (!check_.expect.empty()) expect_.emplace(check_.expect, std::regex::ECMAScript);
}

asio::awaitable<Result> UdpProber::probe(const Target& target) {
  asio::ip::udp::socket socket(co_await asio::this_coro::executor);
  if (auto failure = co_await send_connected(socket, target, asio::buffer(check_.payload))) co_return *failure;
  std::vector<char> reply(65536);  // the largest UDP payload fits
  auto [ec, n] = co_await socket.async_receive(asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
  if (ec) co_return failure(udp_failure("receive", ec));
  if (expect_ && !std::regex_search(reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(n), *expect_))
    co_return failure(fmt::format("reply does not match /{}/", check_.expect));
  co_return success("reply");
}

}  // namespace lvsd::check
