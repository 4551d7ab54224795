// Error collection and "did you mean" suggestions.
#include "diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

namespace lvsd::config {

std::string Error::to_string() const {
  std::string out = file;
  if (line > 0) out += fmt::format(":{}:{}", line, column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

std::string Place::to_string() const { return fmt::format("{}:{}:{}", file, line, column); }

namespace {
// Config file paths by number, for the short names below. Append-only: a daemon that reloads
// the same files finds them here again, so it grows only with distinct paths.
class FileNumbers {
 public:
  std::size_t number_of(const std::string& file) {
    const std::lock_guard lock(mutex_);
    const auto [it, fresh] = numbers_.emplace(file, files_.size());
    if (fresh) files_.push_back(file);
    return it->second;
  }
  std::optional<std::string> file(std::size_t number) {
    const std::lock_guard lock(mutex_);
    if (number >= files_.size()) return std::nullopt;
    return files_[number];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::size_t> numbers_;
  std::vector<std::string> files_;
};

FileNumbers& file_numbers() {
  static FileNumbers numbers;
  return numbers;
}

constexpr char kChunkMark = '\x01';
constexpr char kLineMark = '\x02';
}  // namespace

// toml11 copies the source's name into every value and every intermediate result it makes
// (region::name() returns it by value): a name that fits std::string's small buffer (15
// characters) spares a heap allocation each time, a third of the parse time of a big file.
std::string chunk_name(const std::string& file, int line_offset) {
  return fmt::format("{}{}{}{}", kChunkMark, file_numbers().number_of(file), kLineMark, line_offset);
}

Place place_of(const toml::value& value) {
  const auto loc = value.location();
  Place p{loc.file_name(), static_cast<int>(loc.line()), static_cast<int>(loc.column())};
  const auto mark = p.file.find(kLineMark);
  if (p.file.empty() || p.file.front() != kChunkMark || mark == std::string::npos) return p;
  const auto file = file_numbers().file(std::strtoul(p.file.c_str() + 1, nullptr, 10));
  if (!file) return p;
  p.line += std::atoi(p.file.c_str() + mark + 1);
  p.file = *file;
  return p;
}

void Diagnostics::add(const Place& at, std::string key, std::string message) {
  errors_.push_back(Error{at.file, at.line, at.column, std::move(key), std::move(message)});
}

std::vector<Error> Diagnostics::take() {
  auto order = [](const Error& e) { return std::tie(e.file, e.line, e.column, e.key, e.message); };
  std::stable_sort(errors_.begin(), errors_.end(),
                   [&](const Error& a, const Error& b) { return order(a) < order(b); });
  errors_.erase(std::unique(errors_.begin(), errors_.end()), errors_.end());
  return std::move(errors_);
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Levenshtein with adjacent transpositions, case-insensitive.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[m];
}
}  // namespace

std::string_view suggest(std::string_view word, std::span<const std::string_view> candidates) {
  if (word.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = 0;
  for (auto c : candidates) {
    const auto d = edit_distance(word, c);
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  // A typo changes at most a third of a word (at least one letter, at most three).
  const std::size_t allowed = std::clamp<std::size_t>(std::max(word.size(), best.size()) / 3, 1, 3);
  if (best.empty() || best_distance > allowed || best == word) return {};
  return best;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  const auto s = suggest(word, candidates);
  return s.empty() ? std::string{} : fmt::format(" (did you mean \"{}\"?)", s);
}

}  // namespace lvsd::config
