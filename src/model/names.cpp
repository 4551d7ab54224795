// Name tables for the model's enums.
#include "lvsd/model/names.hpp"

#include <array>

namespace lvsd::model {
namespace {
using namespace std::string_view_literals;

constexpr std::array kProtocol{std::pair{Protocol::Tcp, "tcp"sv}, std::pair{Protocol::Udp, "udp"sv},
                               std::pair{Protocol::Sctp, "sctp"sv}};
constexpr std::array kScheduler{
    std::pair{Scheduler::Rr, "rr"sv},     std::pair{Scheduler::Wrr, "wrr"sv},
    std::pair{Scheduler::Lc, "lc"sv},     std::pair{Scheduler::Wlc, "wlc"sv},
    std::pair{Scheduler::Lblc, "lblc"sv}, std::pair{Scheduler::Lblcr, "lblcr"sv},
    std::pair{Scheduler::Dh, "dh"sv},     std::pair{Scheduler::Sh, "sh"sv},
    std::pair{Scheduler::Sed, "sed"sv},   std::pair{Scheduler::Nq, "nq"sv},
    std::pair{Scheduler::Fo, "fo"sv},     std::pair{Scheduler::Ovf, "ovf"sv},
    std::pair{Scheduler::Mh, "mh"sv}};
constexpr std::array kForward{std::pair{ForwardMethod::Nat, "nat"sv},
                              std::pair{ForwardMethod::Dr, "dr"sv},
                              std::pair{ForwardMethod::Tun, "tun"sv}};
constexpr std::array kTunnelType{std::pair{TunnelType::Ipip, "ipip"sv},
                                 std::pair{TunnelType::Gue, "gue"sv},
                                 std::pair{TunnelType::Gre, "gre"sv}};
constexpr std::array kTunnelChecksum{std::pair{TunnelChecksum::NoCsum, "nocsum"sv},
                                     std::pair{TunnelChecksum::Csum, "csum"sv},
                                     std::pair{TunnelChecksum::RemCsum, "remcsum"sv}};
constexpr std::array kInitialHealth{std::pair{InitialHealth::Up, "up"sv},
                                    std::pair{InitialHealth::Down, "down"sv}};
constexpr std::array kCheckType{
    std::pair{CheckType::Icmp, "icmp"sv},   std::pair{CheckType::Tcp, "tcp"sv},
    std::pair{CheckType::Http, "http"sv},   std::pair{CheckType::Https, "https"sv},
    std::pair{CheckType::Udp, "udp"sv},     std::pair{CheckType::Dns, "dns"sv},
    std::pair{CheckType::Smtp, "smtp"sv},   std::pair{CheckType::Script, "script"sv},
    std::pair{CheckType::File, "file"sv}};
constexpr std::array kHttpMethod{std::pair{HttpMethod::Get, "GET"sv},
                                 std::pair{HttpMethod::Head, "HEAD"sv}};
constexpr std::array kDigest{std::pair{DigestAlgorithm::Md5, "md5"sv},
                             std::pair{DigestAlgorithm::Sha256, "sha256"sv}};
constexpr std::array kDnsType{
    std::pair{DnsType::A, "A"sv},     std::pair{DnsType::Aaaa, "AAAA"sv},
    std::pair{DnsType::Ns, "NS"sv},   std::pair{DnsType::Cname, "CNAME"sv},
    std::pair{DnsType::Soa, "SOA"sv}, std::pair{DnsType::Ptr, "PTR"sv},
    std::pair{DnsType::Mx, "MX"sv},   std::pair{DnsType::Txt, "TXT"sv},
    std::pair{DnsType::Srv, "SRV"sv}, std::pair{DnsType::Any, "ANY"sv}};
constexpr std::array kScope{std::pair{AddressScope::Global, "global"sv},
                            std::pair{AddressScope::Site, "site"sv},
                            std::pair{AddressScope::Link, "link"sv},
                            std::pair{AddressScope::Host, "host"sv}};
constexpr std::array kVrrpState{std::pair{VrrpState::Backup, "backup"sv},
                                std::pair{VrrpState::Master, "master"sv}};
constexpr std::array kOwnership{std::pair{Ownership::Owned, "owned"sv},
                                std::pair{Ownership::Exclusive, "exclusive"sv}};
constexpr std::array kOnExit{std::pair{OnExit::Keep, "keep"sv},
                             std::pair{OnExit::Remove, "remove"sv}};
constexpr std::array kSyncRole{std::pair{SyncRole::Master, "master"sv},
                               std::pair{SyncRole::Backup, "backup"sv}};
constexpr std::array kFamily{std::pair{Family::V4, "inet"sv}, std::pair{Family::V6, "inet6"sv}};
}  // namespace

template <> NameTable<Protocol> names<Protocol>() { return kProtocol; }
template <> NameTable<Scheduler> names<Scheduler>() { return kScheduler; }
template <> NameTable<ForwardMethod> names<ForwardMethod>() { return kForward; }
template <> NameTable<TunnelType> names<TunnelType>() { return kTunnelType; }
template <> NameTable<TunnelChecksum> names<TunnelChecksum>() { return kTunnelChecksum; }
template <> NameTable<InitialHealth> names<InitialHealth>() { return kInitialHealth; }
template <> NameTable<CheckType> names<CheckType>() { return kCheckType; }
template <> NameTable<HttpMethod> names<HttpMethod>() { return kHttpMethod; }
template <> NameTable<DigestAlgorithm> names<DigestAlgorithm>() { return kDigest; }
template <> NameTable<DnsType> names<DnsType>() { return kDnsType; }
template <> NameTable<AddressScope> names<AddressScope>() { return kScope; }
template <> NameTable<VrrpState> names<VrrpState>() { return kVrrpState; }
template <> NameTable<Ownership> names<Ownership>() { return kOwnership; }
template <> NameTable<OnExit> names<OnExit>() { return kOnExit; }
template <> NameTable<SyncRole> names<SyncRole>() { return kSyncRole; }
template <> NameTable<Family> names<Family>() { return kFamily; }

}  // namespace lvsd::model
