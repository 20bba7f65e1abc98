#include <doctest/doctest.h>

#include <map>

#include "config/env.hpp"
#include "util/did_you_mean.hpp"
#include "util/duration.hpp"

using namespace std::chrono_literals;
using mh::config::expand_env;
using mh::util::format_duration;
using mh::util::parse_duration;

TEST_CASE("duration: units and compounds") {
  std::string err;
  CHECK(parse_duration("500ms", err) == 500ms);
  CHECK(parse_duration("30s", err) == 30s);
  CHECK(parse_duration("5m", err) == 5min);
  CHECK(parse_duration("1h", err) == 1h);
  CHECK(parse_duration("1h30m", err) == 90min);
  CHECK(parse_duration("2d", err) == 48h);
  CHECK(parse_duration("0s", err) == 0ms);
}

TEST_CASE("duration: a bare number or unknown unit is an error") {
  std::string err;
  CHECK_FALSE(parse_duration("30", err));
  CHECK(err.find("has no unit") != std::string::npos);
  CHECK_FALSE(parse_duration("5 min", err));
  CHECK_FALSE(parse_duration("5min", err));
  CHECK(err.find("unknown unit 'min'") != std::string::npos);
  CHECK_FALSE(parse_duration("", err));
  CHECK_FALSE(parse_duration("-5s", err));
  CHECK_FALSE(parse_duration("99999999999999999999d", err));
}

TEST_CASE("duration: format round-trips") {
  for (auto d : {0ms, 1ms, 500ms, 1500ms, std::chrono::milliseconds(90s), std::chrono::milliseconds(26h)}) {
    std::string err;
    CHECK(parse_duration(format_duration(d), err) == d);
  }
  CHECK(format_duration(90s) == "1m30s");
}

TEST_CASE("env: ${VAR}, ${VAR:-default} and $${ escapes") {
  std::map<std::string, std::string> vars{{"A", "alpha"}, {"EMPTY", ""}};
  mh::config::EnvLookup lookup = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  std::string err;
  CHECK(expand_env("x-${A}-y", lookup, err)->value == "x-alpha-y");
  CHECK(expand_env("${B:-fallback}", lookup, err)->value == "fallback");
  CHECK(expand_env("${EMPTY:-d}", lookup, err)->value == "d");
  CHECK(expand_env("${A:-d}", lookup, err)->value == "alpha");
  CHECK(expand_env("$${A}", lookup, err)->value == "${A}");
  CHECK(expand_env("${B:-postgresql:///x}", lookup, err)->value == "postgresql:///x");
  CHECK(expand_env("plain $ sign", lookup, err)->value == "plain $ sign");

  CHECK_FALSE(expand_env("${B}", lookup, err));
  CHECK(err.find("environment variable B is not set") != std::string::npos);
  CHECK_FALSE(expand_env("${A", lookup, err));
  CHECK_FALSE(expand_env("${1X}", lookup, err));
}

TEST_CASE("did you mean") {
  using mh::util::did_you_mean;
  CHECK(did_you_mean("shedule", {"schedule", "every", "name"}) == "schedule");
  CHECK(did_you_mean("evrey", {"schedule", "every", "name"}) == "every");
  CHECK_FALSE(did_you_mean("zzzzzz", {"schedule", "every", "name"}).has_value());
}
