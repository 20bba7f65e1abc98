// 5-field cron expressions (minute hour day-of-month month day-of-week) parsed
// into bit sets: ranges, steps, lists, month and weekday names, @daily-style macros.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mh::config {

struct CronExpr {
  std::uint64_t minutes = 0;        // bit m: minute m (0-59)
  std::uint32_t hours = 0;          // bit h: hour h (0-23)
  std::uint32_t days_of_month = 0;  // bit d: day d (1-31)
  std::uint16_t months = 0;         // bit m: month m (1-12)
  std::uint8_t days_of_week = 0;    // bit w: weekday w (0 = Sunday … 6)
  // Vixie cron: when both day fields are restricted, a day matching either fires.
  bool dom_restricted = false;
  bool dow_restricted = false;

  bool matches_day(int day_of_month, int month, int day_of_week) const;
  bool matches(int minute, int hour, int day_of_month, int month, int day_of_week) const;
  bool operator==(const CronExpr&) const = default;
};

// Returns the expression, or nullopt with `error` saying which field is wrong and why.
std::optional<CronExpr> parse_cron(std::string_view text, std::string& error);

}  // namespace mh::config
