// The script check: run the command, keep the end of its output, judge its exit status.
#include "lvsd/check/script_prober.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "printable.hpp"
#include "script_process.hpp"

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr std::size_t kKeptBytes = 4096;   // of the output, for the verdict; and of one line
constexpr std::size_t kReasonBytes = 200;  // of the last line, in the reason
// Read after the command's exit, at most: what it wrote before, not what a process that
// left its group may still be writing.
constexpr std::size_t kDrainBytes = 65536;

// What the command writes: each line to the hook as it comes, the last 4 KiB for the verdict.
class Output {
 public:
  explicit Output(const ScriptProber::OutputLine& hook) : hook_(hook) {}

  void add(std::string_view bytes) {
    tail_.append(bytes);
    if (tail_.size() > kKeptBytes) tail_.erase(0, tail_.size() - kKeptBytes);
    while (!bytes.empty()) {
      const auto eol = bytes.find('\n');
      const auto piece = bytes.substr(0, eol);
      line_.append(piece.substr(0, kKeptBytes - std::min(kKeptBytes, line_.size())));
      if (eol == std::string_view::npos) break;
      emit();
      bytes.remove_prefix(eol + 1);
    }
  }

  // The command is gone: a last line without a newline is a line too.
  void finish() { emit(); }

  // The last line that is not blank, made printable and short: "" when there is none.
  std::string last_line() const {
    std::string_view s = tail_;
    constexpr std::string_view kSpace = " \t\r\n";
    const auto end = s.find_last_not_of(kSpace);
    if (end == std::string_view::npos) return {};
    s = s.substr(0, end + 1);
    const auto eol = s.rfind('\n');
    if (eol != std::string_view::npos) s.remove_prefix(eol + 1);
    s.remove_prefix(std::min(s.find_first_not_of(kSpace), s.size()));
    if (s.size() > kReasonBytes) return printable(s, kReasonBytes) + "...";
    return printable(s, kReasonBytes);
  }

 private:
  void emit() {
    if (line_.ends_with('\r')) line_.pop_back();
    if (hook_ && !line_.empty()) hook_(line_);
    line_.clear();
  }

  const ScriptProber::OutputLine& hook_;
  std::string tail_;  // the last kKeptBytes bytes
  std::string line_;  // the line being received, cut at kKeptBytes
};

asio::awaitable<void> pump(asio::posix::stream_descriptor& from, Output& to) {
  std::vector<char> chunk(kKeptBytes);  // not in the frame: see smtp_prober.cpp
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    to.add({chunk.data(), n});
    if (ec) co_return;  // end of file: every writer is gone
  }
}

// What is still in the pipe once the command has exited, without waiting for more.
void drain(asio::posix::stream_descriptor& from, Output& to) {
  boost::system::error_code ec;
  from.non_blocking(true, ec);
  std::array<char, kKeptBytes> chunk;
  for (std::size_t total = 0; !ec && total < kDrainBytes;) {
    const auto n = from.read_some(asio::buffer(chunk), ec);
    to.add({chunk.data(), n});
    total += n;
  }
}

Result verdict(std::optional<int> status, bool dynamic_weight, const std::string& last_line) {
  const std::string said = last_line.empty() ? "" : ": " + last_line;
  if (!status) return failure("exit status lost" + said);
  if (WIFSIGNALED(*status)) return failure(fmt::format("killed by signal {}{}", WTERMSIG(*status), said));
  const int code = WEXITSTATUS(*status);
  if (code == 0) return success("exit 0");
  // keepalived's misc_dynamic: 2 to 255 say the weight, offset by the two verdicts.
  if (dynamic_weight && code >= 2) {
    Result r = success(fmt::format("exit {}: weight {}", code, code - 2));
    r.weight = static_cast<std::uint32_t>(code - 2);
    return r;
  }
  return failure(fmt::format("exit {}{}", code, said));
}

}  // namespace

ScriptProber::ScriptProber(model::ScriptCheck check, std::string default_user, OutputLine on_output)
    : check_(std::move(check)), user_(check_.user.empty() ? std::move(default_user) : check_.user),
      on_output_(std::move(on_output)) {
  if (check_.argv.empty()) throw std::invalid_argument("ScriptProber: a script check needs a command");
}

asio::awaitable<Result> ScriptProber::probe(const Target&) {
  const auto as = look_up_user(user_);
  if (as.has_error()) co_return failure(as.error());
  ScriptProcess command(co_await asio::this_coro::executor);
  if (auto why = co_await command.start(check_.argv, *as); !why.empty()) {
    if (command.pid() >= 0) {  // it failed after fork: collect the child
      co_await command.exited();
      command.reap();
    }
    co_return failure(why);
  }
  Output output(on_output_);
  // Output is read as it comes (a full pipe would stop the command); the exit decides, not
  // the end of the output, which a process left running in the background may hold open.
  const auto first = co_await (pump(command.output(), output) || command.exited());
  if (first.index() == 0) co_await command.exited();
  const auto status = command.reap();
  drain(command.output(), output);
  output.finish();
  co_return verdict(status, check_.dynamic_weight, output.last_line());
}

}  // namespace lvsd::check
