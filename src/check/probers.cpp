// Check type → prober.
#include "lvsd/check/probers.hpp"

#include "lvsd/check/dns_prober.hpp"
#include "lvsd/check/file_prober.hpp"
#include "lvsd/check/http_prober.hpp"
#include "lvsd/check/smtp_prober.hpp"
#include "lvsd/check/udp_prober.hpp"

namespace lvsd::check {

ProberSet::ProberSet(boost::asio::any_io_executor executor, std::string script_user,
                     ScriptProber::OutputLine script_output)
    : icmp_(executor), tcp_(std::move(executor)), script_user_(std::move(script_user)), script_output_(std::move(script_output)) {}

std::unique_ptr<Prober> ProberSet::make(const model::CheckSpec& spec) {
  using model::CheckType;
  const auto detail = [&spec]<class T>(T) -> const T& { return std::get<T>(spec.detail); };
  switch (spec.type) {
    case CheckType::Icmp: return std::make_unique<IcmpProber>(icmp_, detail(model::IcmpCheck{}));
    case CheckType::Tcp: return std::make_unique<TcpProber>(tcp_);
    case CheckType::Http: return std::make_unique<HttpProber>(detail(model::HttpCheck{}), false);
    case CheckType::Https: return std::make_unique<HttpProber>(detail(model::HttpCheck{}), true);
    case CheckType::Udp: return std::make_unique<UdpProber>(detail(model::UdpCheck{}));
    case CheckType::Dns: return std::make_unique<DnsProber>(detail(model::DnsCheck{}));
    case CheckType::Smtp: return std::make_unique<SmtpProber>(detail(model::SmtpCheck{}));
    case CheckType::Script:
      return std::make_unique<ScriptProber>(detail(model::ScriptCheck{}), script_user_, script_output_);
    case CheckType::File: return std::make_unique<FileProber>(detail(model::FileCheck{}));
  }
  std::abort();  // every type is above: a new one must be added there
}

}  // namespace lvsd::check
