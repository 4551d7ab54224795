// The prober for each check type, with what probers share (the ICMP sockets, the tcp
// checks' epoll set).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include "lvsd/check/icmp_prober.hpp"
#include "lvsd/check/prober.hpp"
#include "lvsd/check/script_prober.hpp"
#include "lvsd/check/tcp_prober.hpp"
#include "lvsd/model/check.hpp"

namespace lvsd::check {

class ProberSet {
 public:
  // `script_user`: who runs scripts whose check names no user ([global] script_user).
  ProberSet(boost::asio::any_io_executor executor, std::string script_user, ScriptProber::OutputLine script_output = {});

  // A new prober for one check of one real server; every ICMP prober shares one socket per
  // address family, every tcp prober one connector.
  std::unique_ptr<Prober> make(const model::CheckSpec& spec);
  // For the probers made from now on.
  void set_script_user(std::string user) { script_user_ = std::move(user); }

 private:
  IcmpSockets icmp_;
  TcpConnector tcp_;
  std::string script_user_;
  ScriptProber::OutputLine script_output_;
};

}  // namespace lvsd::check
