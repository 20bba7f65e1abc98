// When to try an HTTP request again and how long to wait: exponential backoff
// with full jitter between initial_delay and max_delay, and Retry-After hints
// (seconds or HTTP-date) honoured up to 300 s.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace mh::net {

struct RetryPolicy {
  int max_attempts = 5;  // in total, the first try included
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{30'000};
};

inline constexpr std::chrono::seconds kMaxRetryAfter{300};

// A positive Retry-After, capped at 300 s; nullopt when absent, malformed, or
// <= 0 (no hint: the caller backs off instead, never spins).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// The wait before attempt `attempt + 1` (attempt >= 1 failed so far): uniform in
// [initial_delay, min(max_delay, initial_delay * 2^(attempt-1))].
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt, std::mt19937_64& rng);

// Statuses worth another try for a read: 429 and 5xx.
inline bool retryable_status(int status) { return status == 429 || (status >= 500 && status <= 599); }

}  // namespace mh::net
