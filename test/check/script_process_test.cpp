// The script check's process handling on its own: users, the polling fallback, reaping.
#include "script_process.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace lvsd::check {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

RunAs myself() { return *look_up_user(::getpwuid(::geteuid())->pw_name); }

template <class T>
T run(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> out;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    out = std::move(value);
  });
  io.run();
  return std::move(*out);
}

TEST(ScriptProcess, LooksUsersUp) {
  const auto root = look_up_user("root");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->gid, 0u);
  EXPECT_EQ(root->user, "root");
  EXPECT_NE(std::find(root->groups.begin(), root->groups.end(), 0u), root->groups.end());
  const auto none = look_up_user("lvsd-no-such-user");
  ASSERT_TRUE(none.has_error());
  EXPECT_EQ(none.error(), "no such user lvsd-no-such-user");
}

// The exit status of `sh -c script`, noticed by `watch`.
asio::awaitable<std::optional<int>> status_of(std::string script, ExitWatch watch) {
  ScriptProcess command(co_await asio::this_coro::executor, watch);
  const std::vector<std::string> argv{"/bin/sh", "-c", std::move(script)};  // g++ 12: no braced list in co_await
  const auto why = co_await command.start(argv, myself());
  if (!why.empty()) throw std::runtime_error(why);
  co_await command.exited();
  co_return command.reap();
}

TEST(ScriptProcess, TheExitIsNoticedWithAPidfdOrByPolling) {
  for (const auto watch : {ExitWatch::Pidfd, ExitWatch::Polling}) {
    asio::io_context io;
    const auto status = run(io, status_of("sleep 0.05; exit 3", watch));
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 3);
  }
}

// Starts `sleep 60` and abandons it after 50 ms, as a timed-out check does.
asio::awaitable<pid_t> abandoned(ExitWatch watch) {
  ScriptProcess command(co_await asio::this_coro::executor, watch);
  const std::vector<std::string> argv{"sleep", "60"};
  const auto why = co_await command.start(argv, myself());
  if (!why.empty()) throw std::runtime_error(why);
  asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
  co_await pause.async_wait(asio::use_awaitable);
  co_return command.pid();
}

TEST(ScriptProcess, AnAbandonedCommandIsKilledAndReaped) {
  for (const auto watch : {ExitWatch::Pidfd, ExitWatch::Polling}) {
    asio::io_context io;
    const pid_t pid = run(io, abandoned(watch));
    ASSERT_GT(pid, 0);
    const pid_t waited = ::waitpid(pid, nullptr, WNOHANG);
    const int error = errno;
    EXPECT_EQ(waited, -1);
    EXPECT_EQ(error, ECHILD);
  }
}

}  // namespace
}  // namespace lvsd::check
