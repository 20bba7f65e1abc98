// When scheduled jobs fire: cron expressions in a job's time zone, `every:` ticks
// anchored at the Unix epoch, and a deterministic jitter per (job, tick).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/cron.hpp"
#include "schedule/time_zone.hpp"

namespace mh::config {
struct JobSchedule;
}

namespace mh::schedule {

// How far next_fire/previous_fire look before giving up: eight years, so that
// "0 0 29 2 *" still finds its day across a skipped century leap year (2100).
inline constexpr int kCronSearchDays = 8 * 366;

// The first instant strictly after `after_utc` (seconds) at which the zone's wall clock
// shows a minute the expression matches. Local times map to instants as TimeZone::to_utc
// says: a repeated local minute (clocks going back) fires once, at its first occurrence;
// a skipped one (clocks going forward) fires once, as far past the gap as it was inside
// it. Minutes that map to the same instant fire once. nullopt when nothing matches
// within kCronSearchDays (e.g. "0 0 31 2 *").
std::optional<std::int64_t> next_fire(const config::CronExpr& cron, const TimeZone& tz, std::int64_t after_utc);

// The latest such instant at or before `at_or_before_utc` (seconds), searching back
// kCronSearchDays at most.
std::optional<std::int64_t> previous_fire(const config::CronExpr& cron, const TimeZone& tz,
                                          std::int64_t at_or_before_utc);

// `every:` ticks are the multiples of the interval since the Unix epoch (UTC), so they
// stay put across restarts and reloads. interval_ms must be positive.
std::int64_t next_every(std::int64_t interval_ms, std::int64_t after_ms);             // first tick > after_ms
std::int64_t previous_every(std::int64_t interval_ms, std::int64_t at_or_before_ms);  // last tick <= it

// The facade the scheduler uses, in epoch milliseconds. Manual jobs have no ticks.
std::optional<std::int64_t> next_tick_ms(const config::JobSchedule& schedule, const TimeZone& tz,
                                         std::int64_t after_ms);
// The latest tick at or before the time: a job that has run before and has
// `catch_up` runs this tick once at start when it is later than its last run.
std::optional<std::int64_t> previous_tick_ms(const config::JobSchedule& schedule, const TimeZone& tz,
                                             std::int64_t at_or_before_ms);

// The tick delayed by a pseudo-random amount, uniform in [tick_ms, tick_ms + jitter],
// that depends only on (seed, tick_ms): restarts and reloads keep the same run time,
// and jobs with different seeds spread out. A jitter <= 0 returns the tick.
std::int64_t jittered(std::int64_t tick_ms, std::chrono::milliseconds jitter, std::uint64_t seed);

// A seed for jittered() from the job's name (FNV-1a 64): stable across processes.
std::uint64_t jitter_seed(std::string_view job_name);

}  // namespace mh::schedule
