// PageGuard: the loop and page-count bound every paginator asks before a request.
#include <doctest/doctest.h>

#include "extract/page_guard.hpp"

using mh::extract::PageGuard;

TEST_CASE("page guard: a request repeating any earlier one is refused, naming both pages") {
  PageGuard g(std::nullopt);
  CHECK_FALSE(g.admit("/v1/items"));
  CHECK_FALSE(g.admit("/v1/items?cursor=a"));
  CHECK_FALSE(g.admit("/v1/items?cursor=b"));
  auto again = g.admit("/v1/items?cursor=a");  // not the last one: the one before it
  REQUIRE(again);
  CHECK(*again == "the paginator looped: page 4 would repeat the request of page 2; stopped without fetching it again");
  CHECK(g.pages() == 3);
}

TEST_CASE("page guard: max_pages pages pass, the next one is refused") {
  PageGuard g(3);
  for (const char* r : {"p=1", "p=2", "p=3"}) CHECK_FALSE(g.admit(r));
  auto more = g.admit("p=4");
  REQUIRE(more);
  CHECK(*more == "more than max_pages (3) pages; stopped without fetching page 4");
  CHECK(g.pages() == 3);
}

TEST_CASE("page guard: unset max_pages bounds nothing but loops") {
  PageGuard g(std::nullopt);
  for (int i = 0; i < 10000; ++i) REQUIRE_FALSE(g.admit("cursor=" + std::to_string(i)));
  CHECK(g.pages() == 10000);
}
