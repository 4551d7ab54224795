// A DNS query over UDP: up on NOERROR (with the expected answer, when set).
#include "lvsd/check/dns_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "lvsd/check/dns_codec.hpp"
#include "udp_socket.hpp"

namespace lvsd::check {
namespace asio = boost::asio;

namespace {

// A random id (RFC 5452): a blind spoofer has to guess it as well as the source port.
std::uint16_t random_id() {
  thread_local std::mt19937 engine{std::random_device{}()};
  return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xFFFF)(engine));
}

}  // namespace

DnsProber::DnsProber(model::DnsCheck check) : check_(std::move(check)) {}

asio::awaitable<Result> DnsProber::probe(const Target& target) {
  const std::uint16_t id = random_id();
  auto query = dns::encode_query(id, check_.name, check_.type);
  if (!query) co_return failure("cannot ask for " + check_.name + ": " + query.error());
  asio::ip::udp::socket socket(co_await asio::this_coro::executor);
  if (auto failure = co_await send_connected(socket, target, asio::buffer(*query))) co_return *failure;
  const auto type = static_cast<std::uint16_t>(check_.type);
  std::vector<std::uint8_t> packet(65536);
  for (;;) {
    auto [ec, n] = co_await socket.async_receive(asio::buffer(packet), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return failure(udp_failure("receive", ec));
    // Not our reply (another id, a query, another question): wait on for the real one.
    if (n < 2 || (packet[0] << 8 | packet[1]) != id) continue;
    auto reply = dns::decode(std::span(packet.data(), n));
    if (!reply) co_return failure("malformed reply: " + reply.error());
    if (!reply->qr) continue;
    if (!reply->questions.empty() &&
        (reply->questions[0].type != type || !dns::same_name(reply->questions[0].name, check_.name)))
      continue;
    if (reply->tc) co_return failure("truncated reply (no TCP fallback)");
    if (reply->rcode != 0) co_return failure(dns::rcode_name(reply->rcode));
    if (check_.expect.empty()) co_return success("NOERROR");
    const bool any = check_.type == model::DnsType::Any;
    for (const auto& answer : reply->answers)
      if ((any || answer.type == type) && dns::matches(answer, check_.expect)) co_return success("NOERROR");
    co_return failure("no answer " + check_.expect);
  }
}

}  // namespace lvsd::check
