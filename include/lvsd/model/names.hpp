// The text names of model enums, as the config and ipvsadm spell them.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "lvsd/model/check.hpp"
#include "lvsd/model/desired.hpp"
#include "lvsd/model/pool.hpp"
#include "lvsd/model/vrrp.hpp"

namespace lvsd::model {

template <class E>
using NameTable = std::span<const std::pair<E, std::string_view>>;

// The config's spelling of every value of E, in documentation order.
template <class E>
NameTable<E> names();

template <class E>
std::string_view name_of(E value) {
  for (const auto& [v, n] : names<E>())
    if (v == value) return n;
  return "?";
}

template <class E>
std::optional<E> parse_name(std::string_view text) {
  for (const auto& [v, n] : names<E>())
    if (n == text) return v;
  return std::nullopt;
}

template <> NameTable<Protocol> names<Protocol>();
template <> NameTable<Scheduler> names<Scheduler>();
template <> NameTable<ForwardMethod> names<ForwardMethod>();
template <> NameTable<TunnelType> names<TunnelType>();
template <> NameTable<TunnelChecksum> names<TunnelChecksum>();
template <> NameTable<InitialHealth> names<InitialHealth>();
template <> NameTable<CheckType> names<CheckType>();
template <> NameTable<HttpMethod> names<HttpMethod>();
template <> NameTable<DigestAlgorithm> names<DigestAlgorithm>();
template <> NameTable<DnsType> names<DnsType>();
template <> NameTable<AddressScope> names<AddressScope>();
template <> NameTable<VrrpState> names<VrrpState>();
template <> NameTable<Ownership> names<Ownership>();
template <> NameTable<OnExit> names<OnExit>();
template <> NameTable<SyncRole> names<SyncRole>();
template <> NameTable<Family> names<Family>();

}  // namespace lvsd::model
