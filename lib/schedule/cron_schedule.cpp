#include "schedule/cron_schedule.hpp"

#include <chrono>
#include <limits>
#include <stdexcept>

#include "config/config.hpp"

namespace mh::schedule {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t kDay = 86400;

struct Civil {
  int day_of_month;
  int month;
  int day_of_week;  // 0 = Sunday
  int days_in_month;
};

Civil civil(std::int64_t day) {
  chr::sys_days d{chr::days{day}};
  chr::year_month_day ymd{d};
  chr::year_month_day_last last{ymd.year() / ymd.month() / chr::last};
  return Civil{static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(chr::weekday{d}.c_encoding()), static_cast<int>(static_cast<unsigned>(last.day()))};
}

bool never_fires(const config::CronExpr& c) { return c.minutes == 0 || c.hours == 0 || c.months == 0; }

bool month_set(const config::CronExpr& c, int month) { return (c.months & (1u << month)) != 0; }

}  // namespace

// The mapping from local minutes to instants is not monotonic around a spring-forward
// gap (02:30 maps past 03:10), so each matching day is scanned with bounds instead of
// stopping at its first match; the search stops once no later day can beat the best.
std::optional<std::int64_t> next_fire(const config::CronExpr& cron, const TimeZone& tz, std::int64_t after_utc) {
  if (never_fires(cron)) return std::nullopt;
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  std::int64_t best = kNone;
  // A wall time L firing after `after_utc` has L = instant + offset > after_utc + min_offset.
  // (Not to_local(after_utc): a skipped wall time lands after later ones, see above.)
  const std::int64_t first_day = floor_div(after_utc + tz.min_offset(), kDay);
  for (std::int64_t day = first_day; day <= first_day + kCronSearchDays;) {
    const std::int64_t day_start = day * kDay;
    if (best != kNone && day_start - tz.max_offset() > best) break;  // later days fire later
    Civil c = civil(day);
    if (!month_set(cron, c.month)) {
      day += c.days_in_month - c.day_of_month + 1;  // to the 1st of the next month
      continue;
    }
    if (cron.matches_day(c.day_of_month, c.month, c.day_of_week)) {
      LocalTimeMapper map(tz, day_start, day_start + kDay - 60);
      const int lo = map.min_offset();
      const int hi = map.max_offset();
      for (int h = 0; h < 24; ++h) {
        if (!(cron.hours & (1u << h))) continue;
        std::int64_t hour_start = day_start + h * 3600;
        if (hour_start + 3540 - lo <= after_utc) continue;
        if (hour_start - hi > best) break;
        for (int m = 0; m < 60; ++m) {
          if (!(cron.minutes & (std::uint64_t{1} << m))) continue;
          std::int64_t local = hour_start + m * 60;
          if (local - lo <= after_utc) continue;
          if (local - hi > best) break;
          std::int64_t utc = map.to_utc(local);
          if (utc > after_utc && utc < best) best = utc;
        }
      }
    }
    ++day;
  }
  if (best == kNone) return std::nullopt;
  return best;
}

std::optional<std::int64_t> previous_fire(const config::CronExpr& cron, const TimeZone& tz,
                                          std::int64_t at_or_before_utc) {
  if (never_fires(cron)) return std::nullopt;
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();
  std::int64_t best = kNone;
  // A wall time L firing at or before the time has L <= at_or_before_utc + max_offset.
  // (Not to_local(): a repeated wall time fires at its first occurrence, so it can read
  // later than the clock shows during the second one.)
  const std::int64_t first_day = floor_div(at_or_before_utc + tz.max_offset(), kDay);
  for (std::int64_t day = first_day; day >= first_day - kCronSearchDays;) {
    const std::int64_t day_start = day * kDay;
    if (best != kNone && day_start + kDay - tz.min_offset() <= best) break;  // earlier days fire earlier
    Civil c = civil(day);
    if (!month_set(cron, c.month)) {
      day -= c.day_of_month;  // to the last day of the previous month
      continue;
    }
    if (cron.matches_day(c.day_of_month, c.month, c.day_of_week)) {
      LocalTimeMapper map(tz, day_start, day_start + kDay - 60);
      const int lo = map.min_offset();
      const int hi = map.max_offset();
      for (int h = 23; h >= 0; --h) {
        if (!(cron.hours & (1u << h))) continue;
        std::int64_t hour_start = day_start + h * 3600;
        if (hour_start - hi > at_or_before_utc) continue;
        if (hour_start + 3540 - lo <= best) break;
        for (int m = 59; m >= 0; --m) {
          if (!(cron.minutes & (std::uint64_t{1} << m))) continue;
          std::int64_t local = hour_start + m * 60;
          if (local - hi > at_or_before_utc) continue;
          if (local - lo <= best) break;
          std::int64_t utc = map.to_utc(local);
          if (utc <= at_or_before_utc && utc > best) best = utc;
        }
      }
    }
    --day;
  }
  if (best == kNone) return std::nullopt;
  return best;
}

std::int64_t next_every(std::int64_t interval_ms, std::int64_t after_ms) {
  if (interval_ms <= 0) throw std::invalid_argument("every: the interval must be positive");
  return (floor_div(after_ms, interval_ms) + 1) * interval_ms;
}

std::int64_t previous_every(std::int64_t interval_ms, std::int64_t at_or_before_ms) {
  if (interval_ms <= 0) throw std::invalid_argument("every: the interval must be positive");
  return floor_div(at_or_before_ms, interval_ms) * interval_ms;
}

std::optional<std::int64_t> next_tick_ms(const config::JobSchedule& schedule, const TimeZone& tz,
                                         std::int64_t after_ms) {
  switch (schedule.kind) {
    case config::JobSchedule::Kind::manual: return std::nullopt;
    case config::JobSchedule::Kind::every: return next_every(schedule.every.count(), after_ms);
    case config::JobSchedule::Kind::cron: {
      // Fire times are whole seconds: the first one > floor(after / 1s) is the first > after.
      auto t = next_fire(schedule.cron, tz, floor_div(after_ms, 1000));
      if (!t) return std::nullopt;
      return *t * 1000;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> previous_tick_ms(const config::JobSchedule& schedule, const TimeZone& tz,
                                             std::int64_t at_or_before_ms) {
  switch (schedule.kind) {
    case config::JobSchedule::Kind::manual: return std::nullopt;
    case config::JobSchedule::Kind::every: return previous_every(schedule.every.count(), at_or_before_ms);
    case config::JobSchedule::Kind::cron: {
      auto t = previous_fire(schedule.cron, tz, floor_div(at_or_before_ms, 1000));
      if (!t) return std::nullopt;
      return *t * 1000;
    }
  }
  return std::nullopt;
}

namespace {
// SplitMix64's finaliser: a cheap, well-mixed bijection of 64-bit values.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

std::int64_t jittered(std::int64_t tick_ms, std::chrono::milliseconds jitter, std::uint64_t seed) {
  if (jitter.count() <= 0) return tick_ms;
  auto span = static_cast<std::uint64_t>(jitter.count()) + 1;
  std::uint64_t h = mix(seed ^ mix(static_cast<std::uint64_t>(tick_ms)));
  // The modulo bias is below span / 2^64: nothing for jitters of hours in milliseconds.
  return tick_ms + static_cast<std::int64_t>(h % span);
}

std::uint64_t jitter_seed(std::string_view job_name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char ch : job_name) {
    h ^= static_cast<unsigned char>(ch);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace mh::schedule
