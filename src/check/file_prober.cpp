// The file check: read a few bytes, parse one decimal weight.
#include "lvsd/check/file_prober.hpp"

#include <boost/system/error_code.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <string_view>

namespace lvsd::check {
namespace {

constexpr std::size_t kMaxBytes = 64;
constexpr std::uint64_t kMaxWeight = 65535;  // the largest weight a real server may have

std::string errno_text(int error) { return boost::system::error_code(error, boost::system::system_category()).message(); }

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Result read_weight(const std::string& path) {
  // O_NONBLOCK: a FIFO nobody writes to must not stall every other check.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return failure(fmt::format("cannot read {}: {}", path, errno_text(errno)));
  // One byte more than a weight file may hold, to tell a longer file from a full one.
  std::array<char, kMaxBytes + 1> buffer{};
  std::size_t size = 0;
  int error = 0;
  while (size < buffer.size()) {
    const auto n = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (n > 0) {
      size += static_cast<std::size_t>(n);
    } else if (n == 0 || errno == EAGAIN) {
      break;
    } else if (errno != EINTR) {
      error = errno;  // EISDIR for a directory
      break;
    }
  }
  ::close(fd);
  if (error != 0) return failure(fmt::format("cannot read {}: {}", path, errno_text(error)));

  const std::string_view text = trim({buffer.data(), size});
  std::uint64_t weight = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), weight);
  // Decimal digits only: from_chars takes no sign or base prefix, and nothing may follow.
  if (size > kMaxBytes || text.empty() || end != text.data() + text.size())
    return failure(fmt::format("no weight in {}", path));
  if (ec == std::errc::result_out_of_range || weight > kMaxWeight)
    return failure(fmt::format("weight {} in {} is above {}", text, path, kMaxWeight));
  if (weight == 0) return failure(fmt::format("weight 0 in {}", path));
  Result r = success(fmt::format("weight {}", weight));
  r.weight = static_cast<std::uint32_t>(weight);
  return r;
}

}  // namespace

FileProber::FileProber(model::FileCheck check) : check_(std::move(check)) {}

boost::asio::awaitable<Result> FileProber::probe(const Target&) { co_return read_weight(check_.path); }

}  // namespace lvsd::check
