#include <doctest/doctest.h>

#include "config/json_path.hpp"

using mh::config::JsonPath;
using mh::config::parse_json_path;

TEST_CASE("json path: the dlt data_selector subset") {
  std::string err;
  auto root = parse_json_path("$", err);
  REQUIRE(root);
  CHECK(root->steps.empty());

  auto p = parse_json_path("$.data.items[*].id", err);
  REQUIRE(p);
  REQUIRE(p->steps.size() == 4);
  CHECK(p->steps[0].key == "data");
  CHECK(p->steps[2].kind == JsonPath::Step::Kind::wildcard);
  CHECK(p->steps[3].key == "id");

  auto q = parse_json_path("cursors.next", err);
  REQUIRE(q);
  CHECK(q->steps.size() == 2);

  auto r = parse_json_path("results[0]", err);
  REQUIRE(r);
  CHECK(r->steps[1].kind == JsonPath::Step::Kind::index);
  CHECK(r->steps[1].index == 0);
}

TEST_CASE("json path: malformed paths are rejected with a reason") {
  std::string err;
  CHECK_FALSE(parse_json_path("a..b", err));
  CHECK_FALSE(parse_json_path("a.", err));
  CHECK_FALSE(parse_json_path("a[", err));
  CHECK_FALSE(parse_json_path("a[x]", err));
  CHECK(err.find("neither [*] nor a list index") != std::string::npos);
  CHECK_FALSE(parse_json_path("a[*]b", err));
  CHECK_FALSE(parse_json_path("", err));
}
