#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/cron.hpp"
#include "schedule/cron_schedule.hpp"
#include "schedule/time_zone.hpp"
#include "support/temp_dir.hpp"

using mh::schedule::jittered;
using mh::schedule::next_every;
using mh::schedule::next_fire;
using mh::schedule::previous_every;
using mh::schedule::previous_fire;
using mh::schedule::TimeZone;
using mh::schedule::Transition;
using Zone = std::shared_ptr<const TimeZone>;

namespace {

// Seconds since the epoch of a wall-clock time read as UTC. The expected instants
// below were worked out by hand and cross-checked with `TZ=<zone> date -d @<t>` and
// Python's zoneinfo (whose fold=0 makes the same gap and repeat choices).
std::int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  namespace chr = std::chrono;
  auto days = chr::sys_days{chr::year{y} / chr::month{static_cast<unsigned>(mo)} / chr::day{static_cast<unsigned>(d)}};
  return days.time_since_epoch().count() * 86400 + h * 3600 + mi * 60 + s;
}
// Local wall-clock seconds (TimeZone::to_local/to_utc) use the same arithmetic.
std::int64_t local(int y, int mo, int d, int h = 0, int mi = 0) { return utc(y, mo, d, h, mi); }

mh::config::CronExpr cron(const char* text) {
  std::string err;
  auto c = mh::config::parse_cron(text, err);
  INFO(text << ": " << err);
  REQUIRE(c.has_value());
  return *c;
}

Zone zone(const std::string& name) { return TimeZone::load(name, "/usr/share/zoneinfo"); }

bool have_zone(const std::string& name) { return ::access(("/usr/share/zoneinfo/" + name).c_str(), R_OK) == 0; }

std::int64_t next(const char* expr, const Zone& tz, std::int64_t after) {
  auto t = next_fire(cron(expr), *tz, after);
  INFO(expr << " in " << tz->name() << " after " << after);
  REQUIRE(t.has_value());
  return *t;
}

std::int64_t prev(const char* expr, const Zone& tz, std::int64_t at) {
  auto t = previous_fire(cron(expr), *tz, at);
  INFO(expr << " in " << tz->name() << " at or before " << at);
  REQUIRE(t.has_value());
  return *t;
}

// Every fire in [from, to], by repeated next_fire.
std::vector<std::int64_t> fires(const char* expr, const Zone& tz, std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  auto c = cron(expr);
  std::int64_t t = from - 1;
  while (auto n = next_fire(c, *tz, t)) {
    if (*n > to) break;
    out.push_back(*n);
    t = *n;
  }
  return out;
}

// Wraps a braced list so it can sit inside CHECK(...) (commas in braces split macro arguments).
std::vector<std::int64_t> utc_times(const std::vector<std::int64_t>& v) { return v; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// ---------------------------------------------------------------------------------
// TimeZone

TEST_CASE("time zone: UTC is built in and needs no files") {
  for (const char* name : {"UTC", "Etc/UTC"}) {
    auto tz = TimeZone::load(name, "/nonexistent/zoneinfo");
    CHECK(tz->name() == name);
    CHECK(tz->offset_at(utc(2026, 7, 1)) == 0);
    CHECK(tz->to_local(1'800'000'000) == 1'800'000'000);
    CHECK(tz->to_utc(1'800'000'000) == 1'800'000'000);
    CHECK(tz->type_at(0).abbreviation == "UTC");
    CHECK_FALSE(tz->next_transition(0).has_value());
  }
  CHECK(TimeZone::utc()->name() == "UTC");
}

TEST_CASE("time zone: Europe/Berlin offsets and the 2026 changes") {
  auto tz = zone("Europe/Berlin");
  CHECK(tz->name() == "Europe/Berlin");
  // Spring forward: 29 Mar 2026 01:00 UTC (02:00 CET -> 03:00 CEST).
  CHECK(tz->offset_at(utc(2026, 3, 29, 0, 59, 59)) == 3600);
  CHECK(tz->offset_at(utc(2026, 3, 29, 1)) == 7200);
  // Fall back: 25 Oct 2026 01:00 UTC (03:00 CEST -> 02:00 CET).
  CHECK(tz->offset_at(utc(2026, 10, 25, 0, 59, 59)) == 7200);
  CHECK(tz->offset_at(utc(2026, 10, 25, 1)) == 3600);
  CHECK(tz->type_at(utc(2026, 1, 15)).abbreviation == "CET");
  CHECK_FALSE(tz->type_at(utc(2026, 1, 15)).is_dst);
  CHECK(tz->type_at(utc(2026, 7, 15)).abbreviation == "CEST");
  CHECK(tz->type_at(utc(2026, 7, 15)).is_dst);
  CHECK(tz->to_local(utc(2026, 7, 15, 12)) == local(2026, 7, 15, 14));

  CHECK(tz->next_transition(utc(2026, 1, 1)) == Transition{utc(2026, 3, 29, 1), 3600, 7200});
  CHECK(tz->next_transition(utc(2026, 3, 29, 1)) == Transition{utc(2026, 10, 25, 1), 7200, 3600});
  CHECK(tz->next_transition(utc(2026, 3, 29, 0, 59, 59)) == Transition{utc(2026, 3, 29, 1), 3600, 7200});
  // 1893: Berlin leaves local mean time (+0:53:28) for CET.
  CHECK(tz->offset_at(utc(1880, 1, 1)) == 3208);
  CHECK(tz->offset_at(utc(1900, 1, 1)) == 3600);
}

TEST_CASE("time zone: local to UTC in Europe/Berlin, gaps and repeats") {
  auto tz = zone("Europe/Berlin");
  CHECK(tz->to_utc(local(2026, 1, 10, 12)) == utc(2026, 1, 10, 11));
  CHECK(tz->to_utc(local(2026, 7, 10, 12)) == utc(2026, 7, 10, 10));
  // 29 Mar: 02:00-02:59 do not exist; they land as far past 03:00 CEST as they were past 02:00.
  CHECK(tz->to_utc(local(2026, 3, 29, 1, 59)) == utc(2026, 3, 29, 0, 59));
  CHECK(tz->to_utc(local(2026, 3, 29, 2, 0)) == utc(2026, 3, 29, 1, 0));
  CHECK(tz->to_utc(local(2026, 3, 29, 2, 30)) == utc(2026, 3, 29, 1, 30));
  CHECK(tz->to_utc(local(2026, 3, 29, 3, 0)) == utc(2026, 3, 29, 1, 0));
  CHECK(tz->to_utc(local(2026, 3, 29, 3, 30)) == utc(2026, 3, 29, 1, 30));
  // 25 Oct: 02:00-02:59 happen twice; the first (CEST) occurrence wins.
  CHECK(tz->to_utc(local(2026, 10, 25, 1, 59)) == utc(2026, 10, 24, 23, 59));
  CHECK(tz->to_utc(local(2026, 10, 25, 2, 0)) == utc(2026, 10, 25, 0, 0));
  CHECK(tz->to_utc(local(2026, 10, 25, 2, 30)) == utc(2026, 10, 25, 0, 30));
  CHECK(tz->to_utc(local(2026, 10, 25, 2, 59)) == utc(2026, 10, 25, 0, 59));
  CHECK(tz->to_utc(local(2026, 10, 25, 3, 0)) == utc(2026, 10, 25, 2, 0));
  // Round trip everywhere outside the repeated hour.
  for (std::int64_t t = utc(2026, 3, 28); t < utc(2026, 3, 31); t += 600) CHECK(tz->to_utc(tz->to_local(t)) == t);
}

TEST_CASE("time zone: the POSIX footer governs instants after the last transition (2045)") {
  struct Case {
    const char* zone;
    int january;
    int july;
    Transition first;  // the first change in 2045
  };
  const Case cases[] = {
      {"Europe/Berlin", 3600, 7200, {utc(2045, 3, 26, 1), 3600, 7200}},
      {"America/New_York", -18000, -14400, {utc(2045, 3, 12, 7), -18000, -14400}},
      {"Australia/Sydney", 39600, 36000, {utc(2045, 4, 1, 16), 39600, 36000}},
      // IST is standard time with a negative-DST winter (GMT): "IST-1GMT0,M10.5.0,M3.5.0/1".
      {"Europe/Dublin", 0, 3600, {utc(2045, 3, 26, 1), 0, 3600}},
      // "/24" rule times: "<-04>4<-03>,M9.1.6/24,M4.1.6/24".
      {"America/Santiago", -10800, -14400, {utc(2045, 4, 2, 3), -10800, -14400}},
      // Negative rule times: "<-02>2<-01>,M3.5.0/-1,M10.5.0/0".
      {"America/Nuuk", -7200, -3600, {utc(2045, 3, 26, 1), -7200, -3600}},
  };
  for (const Case& c : cases) {
    INFO(c.zone);
    auto tz = zone(c.zone);
    CHECK(tz->offset_at(utc(2045, 1, 15, 12)) == c.january);
    CHECK(tz->offset_at(utc(2045, 7, 1, 12)) == c.july);
    CHECK(tz->next_transition(utc(2045, 1, 1)) == c.first);
    CHECK(tz->offset_at(c.first.at - 1) == c.first.offset_before);
    CHECK(tz->offset_at(c.first.at) == c.first.offset_after);
  }
  auto berlin = zone("Europe/Berlin");
  CHECK(berlin->next_transition(utc(2045, 3, 26, 1)) == Transition{utc(2045, 10, 29, 1), 7200, 3600});
  CHECK(berlin->type_at(utc(2045, 7, 1)).abbreviation == "CEST");
  CHECK(berlin->to_utc(local(2045, 3, 26, 2, 30)) == utc(2045, 3, 26, 1, 30));
  CHECK(berlin->to_utc(local(2045, 10, 29, 2, 30)) == utc(2045, 10, 29, 0, 30));
  // Far future still follows the rule: 2300 summer and winter.
  CHECK(berlin->offset_at(utc(2300, 7, 1)) == 7200);
  CHECK(berlin->offset_at(utc(2300, 12, 1)) == 3600);
}

TEST_CASE("time zone: fixed offsets (Asia/Kathmandu +05:45)") {
  auto tz = zone("Asia/Kathmandu");
  CHECK(tz->offset_at(utc(2026, 1, 1)) == 20700);
  CHECK(tz->offset_at(utc(2045, 7, 1)) == 20700);
  CHECK(tz->type_at(utc(2026, 1, 1)).abbreviation == "+0545");
  CHECK_FALSE(tz->next_transition(utc(2000, 1, 1)).has_value());
  CHECK(tz->to_utc(local(2026, 5, 1, 6)) == utc(2026, 5, 1, 0, 15));
}

TEST_CASE("time zone: POSIX TZ strings") {
  SUBCASE("fixed, quoted name, minutes") {
    auto tz = TimeZone::from_posix("x", "<+0545>-5:45");
    CHECK(tz->offset_at(0) == 20700);
    CHECK(tz->type_at(0).abbreviation == "+0545");
    CHECK(TimeZone::from_posix("x", "<-03>3")->offset_at(0) == -10800);
    CHECK(TimeZone::from_posix("x", "XYZ-5:30:15")->offset_at(0) == 19815);
  }
  SUBCASE("US rules: the same 2026 changes as America/New_York") {
    auto tz = TimeZone::from_posix("x", "EST5EDT,M3.2.0,M11.1.0");
    CHECK(tz->next_transition(utc(2026, 1, 1)) == Transition{utc(2026, 3, 8, 7), -18000, -14400});
    CHECK(tz->next_transition(utc(2026, 3, 8, 7)) == Transition{utc(2026, 11, 1, 6), -14400, -18000});
    CHECK(tz->type_at(utc(2026, 7, 1)).abbreviation == "EDT");
    // A DST name without a rule means these US rules (as glibc), one hour ahead.
    auto bare = TimeZone::from_posix("x", "EST5EDT");
    CHECK(bare->next_transition(utc(2026, 1, 1)) == Transition{utc(2026, 3, 8, 7), -18000, -14400});
  }
  SUBCASE("Jn never counts 29 February, n does") {
    // Start on day J60 (1 March every year) or day 59 (1 March, or 29 February in leap years).
    auto j = TimeZone::from_posix("x", "AAA3BBB,J60/2,J300/2");
    auto n = TimeZone::from_posix("x", "AAA3BBB,59/2,299/2");
    CHECK(j->next_transition(utc(2027, 1, 1)) == Transition{utc(2027, 3, 1, 5), -10800, -7200});
    CHECK(n->next_transition(utc(2027, 1, 1)) == Transition{utc(2027, 3, 1, 5), -10800, -7200});
    CHECK(j->next_transition(utc(2028, 1, 1)) == Transition{utc(2028, 3, 1, 5), -10800, -7200});
    CHECK(n->next_transition(utc(2028, 1, 1)) == Transition{utc(2028, 2, 29, 5), -10800, -7200});
    // J300 is 27 October; 0-based day 299 is 27 October too, or 26 October in a leap year.
    CHECK(j->next_transition(utc(2028, 6, 1)) == Transition{utc(2028, 10, 27, 4), -7200, -10800});
    CHECK(n->next_transition(utc(2028, 6, 1)) == Transition{utc(2028, 10, 26, 4), -7200, -10800});
  }
  SUBCASE("southern hemisphere: DST spans the new year") {
    auto tz = TimeZone::from_posix("x", "AEST-10AEDT,M10.1.0,M4.1.0/3");
    CHECK(tz->offset_at(utc(2026, 1, 1)) == 39600);
    CHECK(tz->offset_at(utc(2026, 7, 1)) == 36000);
    CHECK(tz->offset_at(utc(2026, 12, 31)) == 39600);
    CHECK(tz->next_transition(utc(2026, 1, 1)) == Transition{utc(2026, 4, 4, 16), 39600, 36000});
    CHECK(tz->next_transition(utc(2026, 4, 4, 16)) == Transition{utc(2026, 10, 3, 16), 36000, 39600});
  }
  SUBCASE("permanent DST changes nothing") {
    auto tz = TimeZone::from_posix("x", "EST5EDT4,0/0,J365/25");
    CHECK(tz->offset_at(utc(2026, 1, 1)) == -14400);
    CHECK(tz->offset_at(utc(2026, 7, 1)) == -14400);
    CHECK(tz->offset_at(utc(2026, 12, 31, 23)) == -14400);
    CHECK_FALSE(tz->next_transition(utc(2026, 1, 1)).has_value());
  }
  SUBCASE("malformed strings are errors") {
    for (const char* bad :
         {"", "CET", "AB-1", "CET-1CEST,M3.5.0", "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
          "CET-1CEST,M3.5.0,M10.5.0/3x", "CET-25", "<+05-5", "CET-1CEST,J0,J300", "CET-1CEST;M3.5.0"}) {
      INFO(bad);
      CHECK_THROWS_AS(TimeZone::from_posix("x", bad), std::runtime_error);
    }
  }
}

TEST_CASE("time zone: a version 1 file uses its 32-bit data") {
  std::string data = read_all("/usr/share/zoneinfo/Europe/Berlin");
  REQUIRE(data.size() > 44);
  data[4] = '\0';  // claim version 1: the reader must stop after the first block
  auto tz = TimeZone::from_tzif("Europe/Berlin", data, "patched");
  CHECK(tz->offset_at(utc(2026, 1, 15)) == 3600);
  CHECK(tz->offset_at(utc(2026, 7, 15)) == 7200);
}

TEST_CASE("time zone: load errors name the zone and the file") {
  SUBCASE("unknown zone") {
    try {
      TimeZone::load("Mars/Olympus_Mons", "/usr/share/zoneinfo");
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      std::string what = e.what();
      CHECK(what.find("Mars/Olympus_Mons") != std::string::npos);
      CHECK(what.find("/usr/share/zoneinfo/Mars/Olympus_Mons") != std::string::npos);
    }
  }
  SUBCASE("names that leave the zoneinfo folder") {
    for (const char* bad : {"", "/etc/localtime", "../zoneinfo/Europe/Berlin", "Europe/../UTC"}) {
      INFO(bad);
      CHECK_THROWS_AS(TimeZone::load(bad, "/usr/share/zoneinfo"), std::runtime_error);
    }
  }
  SUBCASE("a folder") { CHECK_THROWS_AS(TimeZone::load("Europe", "/usr/share/zoneinfo"), std::runtime_error); }
  SUBCASE("not TZif, or truncated") {
    mh::test::TempDir dir;
    std::string berlin = read_all("/usr/share/zoneinfo/Europe/Berlin");
    dir.write("Fake/Text", "this is not a zone file\n");
    dir.write("Fake/Empty", "");
    dir.write("Fake/Short", berlin.substr(0, berlin.size() / 2));
    // The footer is "\nCET-1CEST,M3.5.0,M10.5.0/3\n" at the end of the file.
    std::string without_footer = berlin.substr(0, berlin.rfind('\n', berlin.size() - 2));
    dir.write("Fake/NoFooter", without_footer);
    dir.write("Fake/BadFooter", without_footer + "\nCET-1CEST,M3.5.0\n");
    struct Case {
      const char* name;
      const char* why;
    };
    for (Case c :
         {Case{"Fake/Text", "not a TZif file"}, Case{"Fake/Empty", "not a TZif file"}, Case{"Fake/Short", "truncated"},
          Case{"Fake/NoFooter", "footer"}, Case{"Fake/BadFooter", "invalid POSIX TZ footer 'CET-1CEST,M3.5.0'"}}) {
      INFO(c.name);
      try {
        TimeZone::load(c.name, dir.path());
        FAIL("no exception");
      } catch (const std::runtime_error& e) {
        std::string what = e.what();
        INFO(what);
        CHECK(what.find(c.name) != std::string::npos);
        CHECK(what.find(dir.path() + "/" + c.name) != std::string::npos);
        CHECK(what.find(c.why) != std::string::npos);
      }
    }
    // A copy of a real file loads from any folder.
    dir.write("Real/Berlin", berlin);
    CHECK(TimeZone::load("Real/Berlin", dir.path())->offset_at(utc(2026, 7, 1)) == 7200);
  }
  SUBCASE("$TZDIR is consulted") {
    mh::test::TempDir dir;
    dir.write("Test/Zone", read_all("/usr/share/zoneinfo/Asia/Kathmandu"));
    const char* old = std::getenv("TZDIR");
    std::string saved = old != nullptr ? old : "";
    ::setenv("TZDIR", dir.path().c_str(), 1);
    Zone tz;
    CHECK_NOTHROW(tz = TimeZone::load("Test/Zone"));
    CHECK_THROWS_AS(TimeZone::load("Europe/Berlin"), std::runtime_error);
    if (old != nullptr) {
      ::setenv("TZDIR", saved.c_str(), 1);
    } else {
      ::unsetenv("TZDIR");
    }
    REQUIRE(tz);
    CHECK(tz->offset_at(utc(2026, 1, 1)) == 20700);
  }
}

// ---------------------------------------------------------------------------------
// Cron in UTC

TEST_CASE("cron: UTC basics") {
  auto tz = TimeZone::utc();
  CHECK(next("*/5 * * * *", tz, utc(2026, 5, 17, 10, 3, 20)) == utc(2026, 5, 17, 10, 5));
  CHECK(next("*/5 * * * *", tz, utc(2026, 5, 17, 10, 5)) == utc(2026, 5, 17, 10, 10));  // strictly after
  CHECK(next("*/5 * * * *", tz, utc(2026, 5, 17, 10, 4, 59)) == utc(2026, 5, 17, 10, 5));
  CHECK(next("*/5 * * * *", tz, utc(2026, 12, 31, 23, 57)) == utc(2027, 1, 1, 0, 0));
  CHECK(next("0 6 * * *", tz, utc(2026, 5, 17, 5, 59, 59)) == utc(2026, 5, 17, 6));
  CHECK(next("0 6 * * *", tz, utc(2026, 5, 17, 6)) == utc(2026, 5, 18, 6));
  CHECK(next("0 0 1 1 *", tz, utc(2026, 5, 17)) == utc(2027, 1, 1));
  CHECK(next("0 0 1 1 *", tz, utc(2026, 12, 31, 23, 59, 59)) == utc(2027, 1, 1));
  CHECK(next("59 23 31 12 *", tz, utc(2026, 5, 17)) == utc(2026, 12, 31, 23, 59));
  CHECK(next("0 0 31 * *", tz, utc(2026, 4, 1)) == utc(2026, 5, 31));  // April has no 31st
  CHECK(next("@daily", tz, utc(2026, 5, 17, 13)) == utc(2026, 5, 18));
  CHECK(next("@hourly", tz, utc(2026, 5, 17, 13, 0, 1)) == utc(2026, 5, 17, 14));
  CHECK(next("@weekly", tz, utc(2026, 5, 17)) == utc(2026, 5, 24));  // 17 May 2026 is a Sunday
  CHECK(next("@monthly", tz, utc(2026, 5, 17)) == utc(2026, 6, 1));
  CHECK(next("@yearly", tz, utc(2026, 5, 17)) == utc(2027, 1, 1));
  // Before the epoch too.
  CHECK(next("0 12 * * *", tz, utc(1969, 12, 31, 13)) == utc(1970, 1, 1, 12));
}

TEST_CASE("cron: 29 February fires in leap years only") {
  auto tz = TimeZone::utc();
  CHECK(next("0 0 29 2 *", tz, utc(2026, 3, 1)) == utc(2028, 2, 29));
  CHECK(next("0 0 29 2 *", tz, utc(2028, 2, 29)) == utc(2032, 2, 29));
  // 2100 is not a leap year: eight years from 2096 to 2104, still within the search.
  CHECK(next("0 0 29 2 *", tz, utc(2096, 3, 1)) == utc(2104, 2, 29));
  CHECK(prev("0 0 29 2 *", tz, utc(2026, 5, 17)) == utc(2024, 2, 29));
  CHECK(prev("0 0 29 2 *", tz, utc(2104, 2, 28)) == utc(2096, 2, 29));
}

TEST_CASE("cron: impossible dates never fire") {
  auto tz = zone("Europe/Berlin");
  for (const char* expr : {"0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"}) {
    INFO(expr);
    CHECK_FALSE(next_fire(cron(expr), *tz, utc(2026, 1, 1)).has_value());
    CHECK_FALSE(previous_fire(cron(expr), *tz, utc(2026, 1, 1)).has_value());
  }
  CHECK_FALSE(next_fire(mh::config::CronExpr{}, *tz, 0).has_value());  // empty bit sets
}

TEST_CASE("cron: day of month OR day of week when both are restricted (Vixie)") {
  auto tz = TimeZone::utc();
  // April 2026: Fridays 3, 10, 17, 24; the 13th is a Monday.
  CHECK(fires("0 0 13 * fri", tz, utc(2026, 4, 1), utc(2026, 4, 30)) ==
        utc_times({utc(2026, 4, 3), utc(2026, 4, 10), utc(2026, 4, 13), utc(2026, 4, 17), utc(2026, 4, 24)}));
  // Only one restricted: AND (every Friday; every 13th).
  CHECK(fires("0 0 * * fri", tz, utc(2026, 4, 1), utc(2026, 4, 30)).size() == 4);
  CHECK(fires("0 0 13 * *", tz, utc(2026, 4, 1), utc(2026, 4, 30)) == utc_times({utc(2026, 4, 13)}));
  // A step starting with '*' leaves the field unrestricted: */2 days AND Fridays.
  CHECK(fires("0 0 */2 * fri", tz, utc(2026, 4, 1), utc(2026, 4, 30)) ==
        utc_times({utc(2026, 4, 3), utc(2026, 4, 17)}));
}

TEST_CASE("cron: month and weekday names, ranges, lists") {
  auto tz = TimeZone::utc();
  // Weekdays of January and July at 09:15 and 17:45.
  auto c = "15,45 9-17/8 * jan,JUL Mon-Fri";
  CHECK(next(c, tz, utc(2026, 5, 17)) == utc(2026, 7, 1, 9, 15));  // Wed 1 July
  CHECK(next(c, tz, utc(2026, 7, 1, 9, 15)) == utc(2026, 7, 1, 9, 45));
  CHECK(next(c, tz, utc(2026, 7, 1, 9, 45)) == utc(2026, 7, 1, 17, 15));
  CHECK(next(c, tz, utc(2026, 7, 3, 17, 45)) == utc(2026, 7, 6, 9, 15));   // Fri -> Mon
  CHECK(next(c, tz, utc(2026, 7, 31, 17, 45)) == utc(2027, 1, 1, 9, 15));  // Fri 1 Jan 2027
  CHECK(next("0 0 * * sun", tz, utc(2026, 5, 17)) == utc(2026, 5, 24));
  CHECK(next("0 0 * * 7", tz, utc(2026, 5, 17)) == utc(2026, 5, 24));
}

// ---------------------------------------------------------------------------------
// Cron across DST changes

TEST_CASE("cron: Europe/Berlin spring forward (29 March 2026)") {
  auto tz = zone("Europe/Berlin");
  // 02:30 does not exist on the 29th: it fires once, at 03:30 CEST = 01:30 UTC.
  CHECK(fires("30 2 * * *", tz, utc(2026, 3, 28), utc(2026, 3, 31)) ==
        utc_times({utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)}));
  // 02:30 and 03:30 both map to 01:30 UTC on the 29th: one fire.
  CHECK(fires("30 2,3 * * *", tz, utc(2026, 3, 29), utc(2026, 3, 29, 23)) == utc_times({utc(2026, 3, 29, 1, 30)}));
  // Every half hour: continuous in UTC, nothing doubled.
  CHECK(fires("*/30 * * * *", tz, utc(2026, 3, 28, 23), utc(2026, 3, 29, 2)) ==
        utc_times({utc(2026, 3, 28, 23), utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 0), utc(2026, 3, 29, 0, 30),
                   utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2)}));
  // 02:45 maps past 03:10: the earlier wall time fires later.
  CHECK(fires("10,45 2,3 * * *", tz, utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)) ==
        utc_times({utc(2026, 3, 29, 1, 10), utc(2026, 3, 29, 1, 45)}));
  CHECK(next("45 2 * * *", tz, utc(2026, 3, 29, 1, 10)) == utc(2026, 3, 29, 1, 45));
  // Daily 06:00 stays 06:00 local: 05:00 UTC in winter, 04:00 UTC in summer.
  CHECK(fires("0 6 * * *", tz, utc(2026, 3, 27), utc(2026, 3, 31)) ==
        utc_times({utc(2026, 3, 27, 5), utc(2026, 3, 28, 5), utc(2026, 3, 29, 4), utc(2026, 3, 30, 4)}));
}

TEST_CASE("cron: Europe/Berlin fall back (25 October 2026)") {
  auto tz = zone("Europe/Berlin");
  // 02:30 happens twice on the 25th: it fires once, at the first (CEST) one = 00:30 UTC.
  CHECK(fires("30 2 * * *", tz, utc(2026, 10, 24), utc(2026, 10, 27)) ==
        utc_times({utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)}));
  // Every half hour from 23:00 UTC on the 24th to 03:00 UTC: 01:00, 01:30, 02:00, 02:30
  // CEST, then 03:00 CET; the second 02:00 and 02:30 (01:00, 01:30 UTC) do not fire again.
  auto half_hours = fires("*/30 * * * *", tz, utc(2026, 10, 24, 23), utc(2026, 10, 25, 3));
  CHECK(half_hours ==
        utc_times({utc(2026, 10, 24, 23), utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0), utc(2026, 10, 25, 0, 30),
                   utc(2026, 10, 25, 2), utc(2026, 10, 25, 2, 30), utc(2026, 10, 25, 3)}));
  CHECK(half_hours.size() == 7);
  std::set<std::int64_t> wall;
  for (auto t : half_hours) wall.insert(tz->to_local(t));
  CHECK(wall.size() == half_hours.size());  // no local time fired twice
  CHECK(next("*/30 * * * *", tz, utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 2));
  // Daily 06:00: 04:00 UTC in summer, 05:00 UTC in winter.
  CHECK(fires("0 6 * * *", tz, utc(2026, 10, 24), utc(2026, 10, 27)) ==
        utc_times({utc(2026, 10, 24, 4), utc(2026, 10, 25, 5), utc(2026, 10, 26, 5)}));
}

TEST_CASE("cron: America/New_York (8 March and 1 November 2026)") {
  auto tz = zone("America/New_York");
  // 02:00 EST -> 03:00 EDT at 07:00 UTC: 02:30 fires at 03:30 EDT.
  CHECK(fires("30 2 * * *", tz, utc(2026, 3, 7), utc(2026, 3, 10)) ==
        utc_times({utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)}));
  // 02:00 EDT -> 01:00 EST at 06:00 UTC: 01:30 fires once, at 01:30 EDT.
  CHECK(fires("30 1 * * *", tz, utc(2026, 10, 31), utc(2026, 11, 3)) ==
        utc_times({utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)}));
  CHECK(fires("0 * * * *", tz, utc(2026, 11, 1, 4), utc(2026, 11, 1, 8)) ==
        utc_times({utc(2026, 11, 1, 4), utc(2026, 11, 1, 5), utc(2026, 11, 1, 7), utc(2026, 11, 1, 8)}));
  CHECK(next("0 9 * * mon-fri", tz, utc(2026, 3, 6, 14)) == utc(2026, 3, 9, 13));  // Fri EST -> Mon EDT
}

TEST_CASE("cron: Australia/Lord_Howe (30-minute DST)") {
  if (!have_zone("Australia/Lord_Howe")) {
    MESSAGE("Australia/Lord_Howe not installed; skipped");
    return;
  }
  auto tz = zone("Australia/Lord_Howe");
  // 5 April 2026: 02:00 +11 -> 01:30 +10:30 at 15:00 UTC on the 4th; 01:45 repeats.
  CHECK(fires("45 1 * * *", tz, utc(2026, 4, 3), utc(2026, 4, 6)) ==
        utc_times({utc(2026, 4, 3, 14, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)}));
  // 4 October 2026: 02:00 +10:30 -> 02:30 +11 at 15:30 UTC on the 3rd; 02:15 is skipped.
  CHECK(fires("15 2 * * *", tz, utc(2026, 10, 2), utc(2026, 10, 5)) ==
        utc_times({utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 45), utc(2026, 10, 4, 15, 15)}));
  CHECK(fires("*/15 2 4 10 *", tz, utc(2026, 10, 3), utc(2026, 10, 4)) ==
        utc_times({utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 15, 45)}));
}

TEST_CASE("cron: Asia/Kathmandu (+05:45) and Australia/Sydney (southern hemisphere)") {
  auto kathmandu = zone("Asia/Kathmandu");
  CHECK(next("0 6 * * *", kathmandu, utc(2026, 5, 17)) == utc(2026, 5, 17, 0, 15));
  CHECK(next("0 0 * * *", kathmandu, utc(2026, 5, 17)) == utc(2026, 5, 17, 18, 15));
  CHECK(next("*/30 * * * *", kathmandu, utc(2026, 5, 17, 0, 0)) == utc(2026, 5, 17, 0, 15));

  auto sydney = zone("Australia/Sydney");
  // 06:00 AEDT (+11) in January, AEST (+10) in July: the day before in UTC.
  CHECK(next("0 6 * * *", sydney, utc(2026, 1, 10)) == utc(2026, 1, 10, 19));
  CHECK(next("0 6 * * *", sydney, utc(2026, 7, 10)) == utc(2026, 7, 10, 20));
  // 5 April 2026: 03:00 AEDT -> 02:00 AEST; 02:30 fires at its AEDT occurrence.
  CHECK(fires("30 2 * * *", sydney, utc(2026, 4, 3), utc(2026, 4, 6)) ==
        utc_times({utc(2026, 4, 3, 15, 30), utc(2026, 4, 4, 15, 30), utc(2026, 4, 5, 16, 30)}));
  // 4 October 2026: 02:00 AEST -> 03:00 AEDT; 02:30 fires at 03:30 AEDT.
  CHECK(fires("30 2 * * *", sydney, utc(2026, 10, 2), utc(2026, 10, 5)) ==
        utc_times({utc(2026, 10, 2, 16, 30), utc(2026, 10, 3, 16, 30), utc(2026, 10, 4, 15, 30)}));
}

TEST_CASE("cron: Pacific/Apia skipped a whole day (30 December 2011)") {
  auto tz = zone("Pacific/Apia");
  // -10 (DST) to +14 at 10:00 UTC on the 30th. Noon of the missing 30th is read with -10
  // (22:00 UTC), which is also noon on the 31st at +14: one fire for both.
  CHECK(tz->next_transition(utc(2011, 12, 29)) == Transition{utc(2011, 12, 30, 10), -36000, 50400});
  CHECK(fires("0 12 * * *", tz, utc(2011, 12, 29), utc(2011, 12, 31, 23)) ==
        utc_times({utc(2011, 12, 29, 22), utc(2011, 12, 30, 22), utc(2011, 12, 31, 22)}));
  CHECK(prev("0 12 * * *", tz, utc(2011, 12, 31, 21)) == utc(2011, 12, 30, 22));
}

TEST_CASE("cron: next_fire agrees with a minute-by-minute reference around DST changes") {
  // The reference: every matching local minute through to_utc, as a sorted set.
  struct Window {
    const char* zone;
    std::int64_t local_from;  // local day start
  };
  const Window windows[] = {{"Europe/Berlin", local(2026, 3, 28)},   {"Europe/Berlin", local(2026, 10, 24)},
                            {"America/New_York", local(2026, 3, 7)}, {"America/New_York", local(2026, 10, 31)},
                            {"Australia/Sydney", local(2026, 4, 4)}, {"Australia/Sydney", local(2026, 10, 3)},
                            {"Europe/Berlin", local(2045, 10, 28)},  {"America/Santiago", local(2045, 9, 2)}};
  const char* exprs[] = {"* * * * *", "*/7 1-3 * * *", "0,30 2 * * *", "59 1,2,3 * * *", "10,45 2,3 * * *"};
  for (const Window& w : windows) {
    auto tz = zone(w.zone);
    for (const char* expr : exprs) {
      INFO(w.zone << " " << expr);
      auto c = cron(expr);
      std::set<std::int64_t> expected;
      for (std::int64_t l = w.local_from; l < w.local_from + 3 * 86400; l += 60) {
        std::int64_t day = l / 86400;
        auto ymd = std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{day}}};
        int dow = static_cast<int>(std::chrono::weekday{std::chrono::sys_days{std::chrono::days{day}}}.c_encoding());
        int minute = static_cast<int>(l % 3600 / 60);
        int hour = static_cast<int>(l % 86400 / 3600);
        if (c.matches(minute, hour, static_cast<int>(static_cast<unsigned>(ymd.day())),
                      static_cast<int>(static_cast<unsigned>(ymd.month())), dow)) {
          expected.insert(tz->to_utc(l));
        }
      }
      // Compare the middle day (the window's edges depend on neighbouring days).
      std::int64_t from = tz->to_utc(w.local_from + 86400);
      std::int64_t to = tz->to_utc(w.local_from + 2 * 86400) - 1;
      std::vector<std::int64_t> want(expected.lower_bound(from), expected.upper_bound(to));
      CHECK(fires(expr, tz, from, to) == want);
      // previous_fire walks the same set backwards.
      std::vector<std::int64_t> back;
      std::int64_t t = to;
      while (auto p = previous_fire(c, *tz, t)) {
        if (*p < from) break;
        back.insert(back.begin(), *p);
        t = *p - 1;
      }
      CHECK(back == want);
    }
  }
}

// ---------------------------------------------------------------------------------
// previous ticks (catch-up), every:, the facade and jitter

TEST_CASE("cron: previous_fire is the latest tick at or before a time") {
  auto tz = zone("Europe/Berlin");
  CHECK(prev("0 6 * * *", tz, utc(2026, 3, 30, 12)) == utc(2026, 3, 30, 4));
  CHECK(prev("0 6 * * *", tz, utc(2026, 3, 30, 4)) == utc(2026, 3, 30, 4));  // inclusive
  CHECK(prev("0 6 * * *", tz, utc(2026, 3, 30, 3, 59, 59)) == utc(2026, 3, 29, 4));
  CHECK(prev("0 6 * * *", tz, utc(2026, 3, 29, 3, 59, 59)) == utc(2026, 3, 28, 5));
  CHECK(prev("30 2 * * *", tz, utc(2026, 3, 29, 1, 30)) == utc(2026, 3, 29, 1, 30));
  CHECK(prev("30 2 * * *", tz, utc(2026, 3, 29, 1, 29, 59)) == utc(2026, 3, 28, 1, 30));
  // During the second 02:45 (CET, 01:45 UTC) the latest 02:30 is the first one.
  CHECK(prev("30 2 * * *", tz, utc(2026, 10, 25, 1, 45)) == utc(2026, 10, 25, 0, 30));
  CHECK(prev("0 0 1 1 *", tz, utc(2026, 5, 17)) == utc(2025, 12, 31, 23));
  CHECK(prev("0 0 13 * fri", TimeZone::utc(), utc(2026, 4, 16)) == utc(2026, 4, 13));
}

TEST_CASE("every: ticks are multiples of the interval since the epoch") {
  const std::int64_t five_min = 300'000;
  CHECK(next_every(five_min, 0) == five_min);
  CHECK(next_every(five_min, 1) == five_min);
  CHECK(next_every(five_min, utc(2026, 5, 17, 10, 3, 20) * 1000) == utc(2026, 5, 17, 10, 5) * 1000);
  CHECK(next_every(five_min, utc(2026, 5, 17, 10, 5) * 1000) == utc(2026, 5, 17, 10, 10) * 1000);
  CHECK(next_every(five_min, -1) == 0);
  CHECK(next_every(five_min, -five_min) == 0);
  CHECK(previous_every(five_min, utc(2026, 5, 17, 10, 3, 20) * 1000) == utc(2026, 5, 17, 10, 0) * 1000);
  CHECK(previous_every(five_min, utc(2026, 5, 17, 10, 5) * 1000) == utc(2026, 5, 17, 10, 5) * 1000);
  CHECK(previous_every(five_min, -1) == -five_min);
  // 7 minutes: anchored at the epoch, not at the hour.
  const std::int64_t seven_min = 420'000;
  std::int64_t t = next_every(seven_min, utc(2026, 5, 17) * 1000);
  CHECK(t % seven_min == 0);
  CHECK(t > utc(2026, 5, 17) * 1000);
  CHECK(t - seven_min <= utc(2026, 5, 17) * 1000);
  CHECK_THROWS_AS(next_every(0, 5), std::invalid_argument);
  CHECK_THROWS_AS(previous_every(-1, 5), std::invalid_argument);
}

TEST_CASE("schedule facade: manual, every and cron in milliseconds") {
  using mh::config::JobSchedule;
  using mh::schedule::next_tick_ms;
  using mh::schedule::previous_tick_ms;
  auto berlin = zone("Europe/Berlin");

  JobSchedule manual;
  CHECK_FALSE(next_tick_ms(manual, *berlin, 0).has_value());
  CHECK_FALSE(previous_tick_ms(manual, *berlin, 0).has_value());

  JobSchedule every;
  every.kind = JobSchedule::Kind::every;
  every.every = std::chrono::minutes(10);
  const std::int64_t now = utc(2026, 5, 17, 10, 3, 20) * 1000 + 123;
  CHECK(next_tick_ms(every, *berlin, now) == utc(2026, 5, 17, 10, 10) * 1000);  // the zone does not matter
  CHECK(previous_tick_ms(every, *berlin, now) == utc(2026, 5, 17, 10, 0) * 1000);

  JobSchedule daily;
  daily.kind = JobSchedule::Kind::cron;
  daily.expression = "0 6 * * *";
  daily.cron = cron("0 6 * * *");
  const std::int64_t tick = utc(2026, 5, 17, 4) * 1000;  // 06:00 CEST
  CHECK(next_tick_ms(daily, *berlin, tick - 1) == tick);
  CHECK(next_tick_ms(daily, *berlin, tick) == tick + 86'400'000);
  CHECK(next_tick_ms(daily, *berlin, tick - 1000) == tick);
  CHECK(previous_tick_ms(daily, *berlin, tick) == tick);
  CHECK(previous_tick_ms(daily, *berlin, tick + 999) == tick);
  CHECK(previous_tick_ms(daily, *berlin, tick - 1) == tick - 86'400'000);
  // Catch-up after downtime: the most recent missed tick.
  CHECK(previous_tick_ms(daily, *berlin, utc(2026, 5, 20, 12) * 1000) == utc(2026, 5, 20, 4) * 1000);
}

TEST_CASE("jitter: deterministic, uniform in [tick, tick + jitter]") {
  using std::chrono::milliseconds;
  const std::int64_t tick = utc(2026, 5, 17, 6) * 1000;
  const std::uint64_t seed = mh::schedule::jitter_seed("banners");
  CHECK(jittered(tick, milliseconds(0), seed) == tick);
  CHECK(jittered(tick, milliseconds(-5), seed) == tick);
  CHECK(jittered(tick, milliseconds(60'000), seed) == jittered(tick, milliseconds(60'000), seed));
  CHECK(mh::schedule::jitter_seed("") == 0xcbf29ce484222325ULL);  // FNV-1a 64 test vectors
  CHECK(mh::schedule::jitter_seed("a") == 0xaf63dc4c8601ec8cULL);

  // Over many ticks: in range, mean near the middle, both ends reachable.
  const std::int64_t jitter = 30'000;
  double sum = 0;
  int seen_low_half = 0;
  const int n = 20'000;
  for (int k = 0; k < n; ++k) {
    std::int64_t t = tick + std::int64_t{k} * 60'000;
    std::int64_t j = jittered(t, milliseconds(jitter), seed);
    REQUIRE(j >= t);
    REQUIRE(j <= t + jitter);
    sum += static_cast<double>(j - t);
    if (j - t < jitter / 2) ++seen_low_half;
  }
  CHECK(sum / n == doctest::Approx(jitter / 2.0).epsilon(0.03));
  CHECK(seen_low_half == doctest::Approx(n / 2.0).epsilon(0.05));
  std::set<std::int64_t> ends;
  for (int k = 0; k < 200; ++k) ends.insert(jittered(tick + k, milliseconds(1), seed) - (tick + k));
  CHECK(ends == std::set<std::int64_t>{0, 1});
  // Different jobs spread out at the same tick.
  std::set<std::int64_t> by_job;
  for (const char* job : {"a", "b", "c", "d", "e", "f", "g", "h"}) {
    by_job.insert(jittered(tick, milliseconds(jitter), mh::schedule::jitter_seed(job)));
  }
  CHECK(by_job.size() >= 7);
}
