// The client side of the control socket (lvsctl), and where each process's socket lives.
#pragma once

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace lvsd::control {

// The VRRP process's socket beside `control_socket` (the pool process's): "-vrrp" before the
// extension, in the same directory. "/run/lvsd/lvsd.sock" → "/run/lvsd/lvsd-vrrp.sock",
// "/run/lvsd/ctl" → "/run/lvsd/ctl-vrrp".
std::string vrrp_socket_path(std::string_view control_socket);

// Sends one request line to the socket at `path` and reads one reply line, blocking for at
// most `timeout` in all. The reply object when it says "ok"; otherwise the error in words:
// the reply's "error", or "cannot connect to PATH: No such file or directory (is lvsd
// running?)", "permission denied on PATH (root only; see control_group in lvsd.toml(5))",
// "no reply from PATH within 5 s".
boost::system::result<nlohmann::json, std::string> request(const std::string& path, const nlohmann::json& request,
                                                           std::chrono::milliseconds timeout);

}  // namespace lvsd::control
