// Doubles to int64 without undefined behaviour: a cast of a double outside
// int64's range (or NaN) is UB, so every such conversion goes through here.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace mh::util {

// -2^63 and 2^63 are exact doubles; int64 holds [-2^63, 2^63).
inline constexpr double kInt64Min = -9223372036854775808.0;
inline constexpr double kInt64End = 9223372036854775808.0;

// `d` truncated toward zero, or nothing when it is NaN or outside int64.
inline std::optional<std::int64_t> to_int64(double d) {
  if (!(d >= kInt64Min && d < kInt64End)) return std::nullopt;  // NaN fails both comparisons
  return static_cast<std::int64_t>(d);
}

// `d` truncated toward zero, clamped to int64; NaN gives 0.
inline std::int64_t saturate_int64(double d) {
  if (std::isnan(d)) return 0;
  if (d < kInt64Min) return std::numeric_limits<std::int64_t>::min();
  if (d >= kInt64End) return std::numeric_limits<std::int64_t>::max();
  return static_cast<std::int64_t>(d);
}

}  // namespace mh::util
