// The running daemon's health checks: every check of the declared pools on the daemon's
// event loop, each change of a real server's verdict logged with its reason. (Taking a
// failed real server out of the IPVS table builds on this.)
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>

#include "lvsd/check/engine.hpp"
#include "lvsd/check/probers.hpp"
#include "lvsd/model/desired.hpp"

namespace lvsd::daemon {

// "TCP 192.0.2.10:80: real server 10.0.0.1:80 down: connect refused (check 1, tcp, 2
// attempts, 0.3 ms)"; with a weight given by a check: "... up, weight 5: exit 7: weight 5 ...".
std::string transition_text(const check::Transition& t);

class Health {
 public:
  enum class Level { Debug, Info, Warning, Error };
  using Log = std::function<void(Level, const std::string&)>;

  Health(boost::asio::any_io_executor executor, Log log);
  ~Health();

  // Runs the checks of `desired`: at startup, and at each reload (unchanged checks keep
  // running with their verdicts; a changed [global] script_user restarts every check).
  void set(const model::Desired& desired);
  // Stops every check; their probes unwind on the loop (run it a little before the
  // probers go: an ICMP probe uses the shared sockets).
  void stop();
  // Null before set() and after stop().
  const check::Engine* engine() const { return engine_.get(); }

 private:
  boost::asio::any_io_executor executor_;
  Log log_;
  std::string script_user_;
  std::function<double()> random_;
  check::ProberSet probers_;  // outlives every engine
  std::unique_ptr<check::Engine> engine_;
};

}  // namespace lvsd::daemon
