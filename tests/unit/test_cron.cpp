#include <doctest/doctest.h>

#include "config/cron.hpp"

using mh::config::parse_cron;

namespace {
mh::config::CronExpr must_parse(const char* text) {
  std::string err;
  auto c = parse_cron(text, err);
  INFO(text << ": " << err);
  REQUIRE(c.has_value());
  return *c;
}
std::string parse_error(const char* text) {
  std::string err;
  auto c = parse_cron(text, err);
  CHECK_FALSE(c.has_value());
  return err;
}
}  // namespace

TEST_CASE("cron: every five minutes") {
  auto c = must_parse("*/5 * * * *");
  CHECK(c.matches(0, 3, 1, 1, 0));
  CHECK(c.matches(55, 23, 31, 12, 6));
  CHECK_FALSE(c.matches(3, 3, 1, 1, 0));
  CHECK(c.hours == 0xFFFFFFu);
}

TEST_CASE("cron: ranges, lists, steps and names") {
  auto c = must_parse("0,30 9-17/2 * jan-mar,DEC mon-fri");
  CHECK(c.matches(0, 9, 15, 1, 1));
  CHECK(c.matches(30, 17, 15, 12, 5));
  CHECK_FALSE(c.matches(0, 10, 15, 1, 1));  // hour 10 is not in 9-17/2
  CHECK_FALSE(c.matches(0, 9, 15, 4, 1));   // April
  CHECK_FALSE(c.matches(0, 9, 15, 1, 0));   // Sunday
  CHECK_FALSE(c.matches(15, 9, 15, 1, 1));
}

TEST_CASE("cron: 7 is Sunday, and a/n runs to the end of the range") {
  auto c = must_parse("10/20 0 * * 7");
  CHECK(c.days_of_week == 1u);
  CHECK(c.matches(10, 0, 1, 1, 0));
  CHECK(c.matches(30, 0, 1, 1, 0));
  CHECK(c.matches(50, 0, 1, 1, 0));
  CHECK_FALSE(c.matches(0, 0, 1, 1, 0));
}

TEST_CASE("cron: both day fields restricted means either matches (Vixie)") {
  auto c = must_parse("0 0 13 * fri");
  CHECK(c.matches_day(13, 6, 2));  // the 13th, a Tuesday
  CHECK(c.matches_day(9, 6, 5));   // a Friday, the 9th
  CHECK_FALSE(c.matches_day(10, 6, 3));
  auto only_dom = must_parse("0 0 13 * *");
  CHECK_FALSE(only_dom.matches_day(9, 6, 5));
  auto star_step = must_parse("0 0 13 * */2");  // '*' first: day-of-week stays unrestricted
  CHECK_FALSE(star_step.dow_restricted);
  CHECK_FALSE(star_step.matches_day(9, 6, 4));
}

TEST_CASE("cron: macros") {
  CHECK(must_parse("@daily") == must_parse("0 0 * * *"));
  CHECK(must_parse("@hourly") == must_parse("0 * * * *"));
  CHECK(must_parse("@weekly") == must_parse("0 0 * * sun"));
  CHECK(must_parse("@yearly") == must_parse("0 0 1 jan *"));
}

TEST_CASE("cron: errors say which field and why") {
  CHECK(parse_error("* * * *").find("5 fields") != std::string::npos);
  CHECK(parse_error("61 * * * *").find("minute value 61 out of range 0-59") != std::string::npos);
  CHECK(parse_error("* 24 * * *").find("hour value 24") != std::string::npos);
  CHECK(parse_error("* * 0 * *").find("day-of-month value 0") != std::string::npos);
  CHECK(parse_error("* * * foo *").find("unknown month name 'foo'") != std::string::npos);
  CHECK(parse_error("* * * * 8").find("day-of-week value 8") != std::string::npos);
  CHECK(parse_error("*/0 * * * *").find("invalid step") != std::string::npos);
  CHECK(parse_error("5-1 * * * *").find("backwards") != std::string::npos);
  CHECK(parse_error("1,,2 * * * *").find("empty value") != std::string::npos);
  CHECK(parse_error("@sometimes").find("unknown cron macro") != std::string::npos);
}
