// Hostile paginators end to end: `mhloader run` against magichour-sim's looping and
// endless listings and the real PostgreSQL. A loop or a page past max_pages fails the
// resource, and no page is fetched or loaded twice.
#include <doctest/doctest.h>

#include <string>

#include "integration/job_setup.hpp"
#include "integration/sim_helpers.hpp"

using namespace mh::test;

namespace {

std::string resource(const std::string& name, const std::string& path, const std::string& paginator,
                     const std::string& selector, const std::string& extra = "") {
  return "  - name: " + name + "\n    endpoint:\n      path: _test/saved-items/" + path +
         "\n      paginator: " + paginator + "\n" +
         (selector.empty() ? "" : "      data_selector: " + selector + "\n") + "    primary_key: id\n" + extra;
}

}  // namespace

TEST_CASE("paging: a cursor or link back to an earlier page fails the resource, the page loaded once") {
  SimProcess sim({"--saved-items", "50"});
  Setup s(sim, "resources:\n" +
                   resource("by_cursor", "cursor-loop",
                            "{type: cursor, cursor_path: next_cursor, cursor_param: cursor}", "items") +
                   resource("by_json_link", "links-loop", "{type: json_link, next_url_path: next}", "results") +
                   resource("by_header_link", "header-links-loop", "header_link", "") +
                   "jobs:\n  - name: loops\n    every: 1h\n    resources: [by_cursor, by_json_link, by_header_link]\n");
  auto r = s.run("loops");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "failed");
  for (const char* t : {"by_cursor", "by_json_link", "by_header_link"}) {
    CAPTURE(t);
    // Pages 0, 10 and 20 once each; the fourth page would have repeated the second.
    CHECK(s.count(std::string("SELECT count(*) FROM magic_hour_data.") + t) == 30);
    CHECK(s.count(std::string("SELECT count(DISTINCT id) FROM magic_hour_data.") + t) == 30);
    CHECK(r.out.find(std::string("[") + t + "]: the paginator looped: page 4 would repeat the request of page 2") !=
          std::string::npos);
  }
  // Not fetched again either: three requests for each of the three listings.
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("GET /v1/_test/saved-items/{kind}").at("requests").as_int64() == 9);
}

TEST_CASE("paging: an endless sequence stops with the resource failed at max_pages") {
  SimProcess sim({"--saved-items", "50"});
  Setup s(sim,
          "resources:\n" +
              resource("endless", "endless", "{type: cursor, cursor_path: next_cursor, cursor_param: cursor}", "items",
                       "    max_pages: 5\n") +
              resource("bounded", "links", "{type: json_link, next_url_path: next}", "results", "    max_pages: 5\n") +
              "jobs:\n  - name: forever\n    every: 1h\n    resources: [endless, bounded]\n");
  auto r = s.run("forever");
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("[endless]: more than max_pages (5) pages; stopped without fetching page 6") != std::string::npos);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.endless") == 5);
  // Exactly max_pages pages is within the bound: 50 items, 10 a page.
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.bounded") == 50);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "partial");
}
