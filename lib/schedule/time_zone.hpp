// IANA time zones read from the system's TZif files, so cron jobs can fire at local
// wall-clock times. Our own parser: g++ 12's libstdc++ has no std::chrono::tzdb.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::schedule {

// Integer division rounding toward negative infinity (instants before 1970 included).
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

namespace detail {
struct PosixRule;  // the POSIX TZ string of a TZif footer (time_zone.cpp)
}

// A UTC offset change: from `at` (UTC seconds) on, local time is UTC + offset_after.
struct Transition {
  std::int64_t at = 0;
  int offset_before = 0;  // seconds east of UTC
  int offset_after = 0;
  bool operator==(const Transition&) const = default;
};

// An immutable zone: explicit transitions from the TZif v2+ (64-bit) data, and past the
// last of them the POSIX TZ footer rule (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"), so instants
// in any future year get the right offset. All times are seconds since the Unix epoch;
// "local seconds" are the wall-clock fields of the zone counted as if they were UTC.
// Leap-second records ("right/" zones) are ignored: cron works on POSIX time.
class TimeZone {
 public:
  struct LocalType {
    int offset = 0;  // seconds east of UTC
    bool is_dst = false;
    std::string abbreviation;  // "CEST", "+0545"
  };

  // Loads <$TZDIR or /usr/share/zoneinfo>/<name>. "UTC" and "Etc/UTC" are built in and
  // need no files. Throws std::runtime_error naming the zone and the file when the file
  // cannot be read or is not valid TZif.
  static std::shared_ptr<const TimeZone> load(const std::string& name);
  // The same with an explicit zoneinfo folder (tests; TZDIR is not consulted).
  static std::shared_ptr<const TimeZone> load(const std::string& name, const std::string& tzdir);
  // Parses TZif bytes; `source` names their origin in error messages.
  static std::shared_ptr<const TimeZone> from_tzif(const std::string& name, std::string_view data,
                                                   const std::string& source);
  // A zone described by a POSIX TZ string alone, e.g. "EST5EDT,M3.2.0,M11.1.0".
  static std::shared_ptr<const TimeZone> from_posix(const std::string& name, std::string_view tz);
  static std::shared_ptr<const TimeZone> utc();

  const std::string& name() const { return name_; }

  // Seconds east of UTC in effect at the instant.
  int offset_at(std::int64_t utc_seconds) const;
  LocalType type_at(std::int64_t utc_seconds) const;
  std::int64_t to_local(std::int64_t utc_seconds) const { return utc_seconds + offset_at(utc_seconds); }

  // The instant a local wall-clock time stands for. Local times that occur twice (the
  // repeated hour when clocks go back) map to their FIRST occurrence. Local times that do
  // not exist (skipped when clocks go forward) are read with the offset in effect before
  // the change, i.e. they land as far after the end of the gap as they were after its
  // start: 02:30 on the spring-forward day in Europe/Berlin is 01:30 UTC = 03:30 CEST.
  // A job set for a skipped time then still runs that day, exactly once.
  std::int64_t to_utc(std::int64_t local_seconds) const;

  // The lowest and highest offsets the zone ever uses: a local time L stands for an
  // instant in [L - max_offset(), L - min_offset()], which bounds searches.
  int min_offset() const { return min_offset_; }
  int max_offset() const { return max_offset_; }

  // The first change of UTC offset strictly after the instant (nullopt: none ever again).
  // Changes of only the abbreviation or the DST flag are not reported.
  std::optional<Transition> next_transition(std::int64_t utc_seconds) const;

 private:
  TimeZone() = default;
  const LocalType& type_ref(std::int64_t utc_seconds) const;
  void compute_offset_bounds();

  std::string name_;
  std::vector<std::int64_t> transition_times_;  // ascending
  std::vector<std::uint8_t> transition_types_;  // index into types_, per transition
  std::vector<LocalType> types_;                // types_[0] applies before the first transition
  std::shared_ptr<const detail::PosixRule> footer_;
  int min_offset_ = 0;
  int max_offset_ = 0;
};

// Maps many local times of one stretch of wall-clock time (a day, for cron) to instants
// with TimeZone::to_utc's choices, looking the zone up once instead of per time.
class LocalTimeMapper {
 public:
  LocalTimeMapper(const TimeZone& tz, std::int64_t local_first, std::int64_t local_last);
  // For local_first <= local_seconds <= local_last; equals tz.to_utc(local_seconds).
  std::int64_t to_utc(std::int64_t local_seconds) const;
  // The offsets the stretch's times are read with: L - max <= to_utc(L) <= L - min.
  int min_offset() const { return min_offset_; }
  int max_offset() const { return max_offset_; }

 private:
  std::vector<std::int64_t> changes_;  // ascending instants where the offset changes
  std::vector<int> offsets_;           // offsets_[i] applies between changes_[i-1] and changes_[i]
  int min_offset_ = 0;
  int max_offset_ = 0;
};

}  // namespace mh::schedule
