#include <doctest/doctest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "log/log.hpp"
#include "support/log_capture.hpp"

using Capture = mh::test::LogCapture;

TEST_CASE("log: logfmt with quoting") {
  Capture cap;
  mh::log::set_level(mh::log::Level::info);
  mh::log::info("run finished", {{"job", "banners"}, {"rows", 42}, {"ok", true}, {"note", "a \"b\"\nc"}});
  REQUIRE(cap.lines.size() == 1);
  const std::string& l = cap.lines[0];
  CHECK(l.starts_with("ts="));
  CHECK(l.find(" level=info msg=\"run finished\" job=banners rows=42 ok=true note=\"a \\\"b\\\"\\nc\"") !=
        std::string::npos);
}

TEST_CASE("log: levels filter") {
  Capture cap;
  mh::log::set_level(mh::log::Level::warn);
  mh::log::info("hidden");
  mh::log::debug("hidden");
  mh::log::warn("shown");
  mh::log::error("shown too");
  mh::log::set_level(mh::log::Level::info);
  CHECK(cap.lines.size() == 2);
  CHECK(mh::log::parse_level("warning") == mh::log::Level::warn);
  CHECK_FALSE(mh::log::parse_level("loud"));
}

TEST_CASE("log: a secret logged by accident appears only as ***") {
  Capture cap;
  const std::string key = "mhk_live_Zq9\"weird\\secret";
  mh::log::register_secret(key);
  mh::log::register_secret("mhk_live_Zq9");  // a prefix of the other: the longer one is masked whole
  mh::log::error("request failed: Authorization: Bearer " + key, {{"header", "Bearer " + key}, {"x", key + key}});
  REQUIRE(cap.lines.size() == 1);
  const std::string& l = cap.lines[0];
  CHECK(l.find("mhk_live_Zq9") == std::string::npos);
  CHECK(l.find("weird") == std::string::npos);
  CHECK(l.find("Bearer ***") != std::string::npos);
  CHECK(l.find("x=******") != std::string::npos);
  CHECK(mh::log::redact("k=" + key) == "k=***");
}

TEST_CASE("log: lines from many threads stay whole") {
  Capture cap;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) mh::log::info("tick", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  CHECK(cap.lines.size() == 800);
  for (const auto& l : cap.lines) CHECK(l.find("msg=tick thread=") != std::string::npos);
}
