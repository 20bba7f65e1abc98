#include "net/retry.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

#include "util/numeric.hpp"

namespace mh::net {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::chrono::milliseconds wait{0};
  double seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && p == value.data() + value.size()) {
    // Clamped before the cast: "-1e300" or "nan" must not be undefined behaviour.
    if (!(seconds > 0)) seconds = 0;
    wait = std::chrono::milliseconds(util::saturate_int64(std::min(seconds, 1e9) * 1000));
  } else {
    std::tm tm{};
    std::string text(value);
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  }
  if (wait.count() <= 0) return std::nullopt;
  return std::min<std::chrono::milliseconds>(wait, kMaxRetryAfter);
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  std::int64_t low = std::max<std::int64_t>(1, policy.initial_delay.count());
  std::int64_t cap = low;
  for (int i = 1; i < attempt && cap < policy.max_delay.count(); ++i) cap *= 2;
  cap = std::max(low, std::min<std::int64_t>(cap, policy.max_delay.count()));
  return milliseconds(std::uniform_int_distribution<std::int64_t>(low, cap)(rng));
}

}  // namespace mh::net
