#include "util/duration.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

namespace mh::util {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    error = "empty duration; write a number with a unit (ms, s, m, h, d), e.g. 30s";
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      error = quoted + " is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s";
      return std::nullopt;
    }
    std::int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > std::numeric_limits<std::int64_t>::max() / 10 - 10) {
        error = quoted + " is too long a duration";
        return std::nullopt;
      }
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    std::size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(u, i - u);
    std::int64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else if (unit.empty()) {
      error = quoted + " has no unit; write e.g. " + std::string(text) + "s (units: ms, s, m, h, d)";
      return std::nullopt;
    } else {
      error = "unknown unit '" + std::string(unit) + "' in " + quoted + " (units: ms, s, m, h, d)";
      return std::nullopt;
    }
    if (n > (std::numeric_limits<std::int64_t>::max() - total) / scale) {
      error = quoted + " is too long a duration";
      return std::nullopt;
    }
    total += n * scale;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  struct Unit {
    std::int64_t size;
    const char* name;
  };
  for (Unit u : {Unit{86'400'000, "d"}, Unit{3'600'000, "h"}, Unit{60'000, "m"}, Unit{1000, "s"}, Unit{1, "ms"}}) {
    if (ms >= u.size) {
      out += std::to_string(ms / u.size) + u.name;
      ms %= u.size;
    }
  }
  return out;
}

}  // namespace mh::util
