// A command run as a given user in a process group of its own, its output on a pipe: what
// a script check (and any other command lvsd runs) needs besides its verdict.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/result.hpp>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lvsd::check {

// Who a command runs as.
struct RunAs {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary, from the group database
};

// The user's ids and groups (getpwnam_r, getgrouplist), or why not: "no such user x".
boost::system::result<RunAs, std::string> look_up_user(const std::string& user);

// How the end of a command is noticed without SIGCHLD: a pidfd that becomes readable
// (Linux 5.3), or waitid(WNOHANG) on a timer where pidfd_open is refused.
enum class ExitWatch : std::uint8_t { Pidfd, Polling };

// One run of one command. Its process group is the command and everything it starts (that
// does not leave the group itself): when the run ends, by reap() or by destruction (a
// cancelled check), the whole group gets SIGKILL and the command is reaped, so that a check
// leaves neither a daemon nor a zombie behind. Needs SIGCHLD not ignored, and no one else
// calling waitpid(-1).
class ScriptProcess {
 public:
  explicit ScriptProcess(boost::asio::any_io_executor executor, ExitWatch watch = ExitWatch::Pidfd);
  ScriptProcess(const ScriptProcess&) = delete;
  ScriptProcess& operator=(const ScriptProcess&) = delete;
  ~ScriptProcess();

  // Runs argv (argv[0] looked up in PATH when it holds no '/') as `as`, with stdin from
  // /dev/null and stdout and stderr on one pipe. Empty once the program runs, otherwise why
  // not: "cannot run /x: No such file or directory", "cannot run /x as nobody: ...".
  boost::asio::awaitable<std::string> start(const std::vector<std::string>& argv, const RunAs& as);

  pid_t pid() const { return pid_; }
  // The read end of the command's stdout and stderr.
  boost::asio::posix::stream_descriptor& output() { return output_; }
  // Returns once the command has exited (its status stays to be collected by reap()).
  boost::asio::awaitable<void> exited();
  // Kills what is left of the group and collects the command's wait status (nullopt: lost,
  // reaped by someone else).
  std::optional<int> reap();

 private:
  void kill_group() const;

  boost::asio::any_io_executor executor_;
  ExitWatch watch_;
  pid_t pid_ = -1;  // -1: not started or reaped
  boost::asio::posix::stream_descriptor output_;
  boost::asio::posix::stream_descriptor pidfd_;
};

}  // namespace lvsd::check
