// A command whose exit status is the verdict, run as an unprivileged user.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "lvsd/check/prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

// Runs the check's argv as its `user` (or `default_user`, [global] script_user), never as
// root unless that user is root; stdin is /dev/null. Exit 0 is up ("exit 0"); with
// dynamic_weight, exit 2 to 255 is up with weight status - 2 ("exit 7: weight 5"); any
// other exit is down, with the last line of output ("exit 1: disk full"), as is a signal
// ("killed by signal 9"). Down also: "no such user x", "cannot run /x: <why>". When the
// attempt is cancelled (its timeout) the command's whole process group is killed, and in any
// case the command is reaped and nothing it started in its group outlives the attempt.
class ScriptProber final : public Prober {
 public:
  // Each line the command writes to stdout or stderr, as it comes (for the log); a line
  // longer than 4 KiB is cut there.
  using OutputLine = std::function<void(std::string_view line)>;

  explicit ScriptProber(model::ScriptCheck check, std::string default_user = "nobody", OutputLine on_output = {});
  // The target is not used: the command knows what it checks.
  boost::asio::awaitable<Result> probe(const Target& target) override;

 private:
  model::ScriptCheck check_;
  std::string user_;
  OutputLine on_output_;
};

}  // namespace lvsd::check
