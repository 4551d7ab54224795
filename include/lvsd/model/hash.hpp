// Hashing for model values: a struct exposes fields() (std::tie of its members) and
// lvsd::model::hash_value() combines them, so equal models hash equal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>
#include <array>

namespace lvsd::model {

inline void hash_combine(std::size_t& seed, std::size_t value) {
  seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 12) + (seed >> 4);
}

template <class T>
std::size_t hash_value(const T& value);

namespace detail {
template <class T>
concept HasFields = requires(const T& t) { t.fields(); };
template <class T>
struct IsByteArray : std::false_type {};
template <std::size_t N>
struct IsByteArray<std::array<std::uint8_t, N>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVariant : std::false_type {};
template <class... T>
struct IsVariant<std::variant<T...>> : std::true_type {};
template <class T>
struct IsDuration : std::false_type {};
template <class R, class P>
struct IsDuration<std::chrono::duration<R, P>> : std::true_type {};
template <class T>
struct IsArray : std::false_type {};
template <class T, std::size_t N>
struct IsArray<std::array<T, N>> : std::true_type {};
template <class T>
struct IsTuple : std::false_type {};
template <class... T>
struct IsTuple<std::tuple<T...>> : std::true_type {};
}  // namespace detail

template <class T>
std::size_t hash_value(const T& value) {
  using U = std::remove_cvref_t<T>;
  if constexpr (detail::HasFields<U>) {
    return hash_value(value.fields());
  } else if constexpr (detail::IsTuple<U>::value) {
    std::size_t seed = std::tuple_size_v<U>;
    std::apply([&](const auto&... m) { (hash_combine(seed, hash_value(m)), ...); }, value);
    return seed;
  } else if constexpr (detail::IsByteArray<U>::value) {
    // Raw bytes (an address) at once: a config of 100,000 real servers hashes one per server.
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
  } else if constexpr (detail::IsVector<U>::value || detail::IsArray<U>::value) {
    std::size_t seed = value.size();
    for (const auto& e : value) hash_combine(seed, hash_value(e));
    return seed;
  } else if constexpr (detail::IsOptional<U>::value) {
    return value ? hash_value(*value) ^ 0x5bd1e995 : 0;
  } else if constexpr (detail::IsVariant<U>::value) {
    std::size_t seed = value.index();
    std::visit([&](const auto& alt) { hash_combine(seed, hash_value(alt)); }, value);
    return seed;
  } else if constexpr (detail::IsDuration<U>::value) {
    return std::hash<typename U::rep>{}(value.count());
  } else if constexpr (std::is_enum_v<U>) {
    return std::hash<std::underlying_type_t<U>>{}(static_cast<std::underlying_type_t<U>>(value));
  } else {
    return std::hash<U>{}(value);
  }
}

// For unordered containers: std::unordered_set<VirtualServer, model::Hasher>.
struct Hasher {
  template <class T>
  std::size_t operator()(const T& value) const {
    return hash_value(value);
  }
};

}  // namespace lvsd::model
