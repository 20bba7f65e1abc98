// Fuzz target: 5-field cron expressions (config::parse_cron) and matching.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/cron.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto expr = mh::config::parse_cron(text, error);
  if (!expr) {
    if (error.empty()) __builtin_trap();  // a rejection must say why
    return 0;
  }
  // Every parsed expression stays inside its fields' ranges.
  if ((expr->minutes >> 60) != 0 || (expr->hours >> 24) != 0 || (expr->days_of_month & 1u) != 0 ||
      (expr->months & 1u) != 0 || (expr->months >> 13) != 0 || (expr->days_of_week >> 7) != 0)
    __builtin_trap();
  for (int d = 1; d <= 31; d += 5) (void)expr->matches(d, d % 24, d, (d % 12) + 1, d % 7);
  return 0;
}
