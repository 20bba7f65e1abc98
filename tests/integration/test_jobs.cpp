// Jobs end to end: `mhloader run` against magichour-sim and the real
// PostgreSQL — every built-in resource and paginator, incremental loading,
// generation with the ledger and the credit guard, and runs killed halfway.
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "integration/job_setup.hpp"
#include "integration/sim_helpers.hpp"
#include "support/pg.hpp"
#include "support/temp_dir.hpp"

using namespace mh::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const char* kPaginated = R"(resources:
  - name: saved_items
    endpoint:
      path: saved-items
      params: {limit: 10}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    primary_key: id
    write_disposition: merge
  - name: by_offset
    endpoint:
      path: _test/saved-items/offset
      paginator: {type: offset, limit: 7}
      data_selector: items
    primary_key: id
  - name: by_page
    endpoint:
      path: _test/saved-items/pages
      params: {per_page: 6}
      paginator: {type: page_number, base_page: 1, total_path: total_pages}
  - name: by_json_link
    endpoint:
      path: _test/saved-items/links
      paginator: {type: json_link, next_url_path: next}
  - name: by_header_link
    endpoint:
      path: _test/saved-items/header-links
      paginator: header_link
  - name: one_page
    endpoint:
      path: _test/saved-items/links
      paginator: single_page
  - name: missing
    endpoint: _test/nothing-here
)";

}  // namespace

TEST_CASE("jobs: every built-in resource and every paginator land in Postgres") {
  SimProcess sim({"--saved-items", "25", "--credits", "4321"});
  Setup s(sim, std::string(kPaginated) +
                   "jobs:\n  - name: account\n    every: 1h\n    resources: [credits, status, models, saved_items, "
                   "by_offset, by_page, by_json_link, by_header_link, one_page, missing]\n");
  auto r = s.run("account");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("1 load package(s) were loaded to destination postgres and into dataset magic_hour_data") !=
        std::string::npos);
  CHECK(r.out.find("is LOADED and contains no failed jobs") != std::string::npos);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.credits") == 1);
  CHECK(s.count("SELECT credits FROM magic_hour_data.credits") == 4321);
  CHECK(s.text("SELECT source FROM magic_hour_data.credits") == "/v1/account");
  CHECK(s.text("SELECT up::text FROM magic_hour_data.status") == "true");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.models") == 11);
  for (const char* t : {"saved_items", "by_offset", "by_page", "by_json_link", "by_header_link"}) {
    CAPTURE(t);
    CHECK(s.count(std::string("SELECT count(*) FROM magic_hour_data.") + t) == 25);
    CHECK(s.count(std::string("SELECT count(DISTINCT id) FROM magic_hour_data.") + t) == 25);
  }
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.one_page") == 10);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.saved_items__tags") == 50);  // the 2-element list
  // 404 on a resource: skipped with a warning, the run still succeeds.
  CHECK(r.err.find("resource skipped") != std::string::npos);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "succeeded");
  auto resources = json::parse(s.text("SELECT resources::text FROM mhloader.runs"));
  CHECK(resources.as_array().size() == 10);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data._dlt_loads") == 1);

  // merge: a second run updates in place instead of doubling.
  CHECK(s.run("account").exit_code == 0);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.saved_items") == 25);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.credits") == 2);  // append: one snapshot per run
}

TEST_CASE("jobs: a 63-character dataset merges through its own shortened staging dataset") {
  // Postgres would cut "<dataset>_staging" to the dataset itself; dlt shortens it with a tag instead.
  const std::string dataset = "long_" + std::string(53, 'd') + "_data";
  REQUIRE(dataset.size() == 63);
  SimProcess sim({"--saved-items", "25"});
  Setup s(sim,
          "resources:\n  - name: saved_items\n    endpoint:\n      path: saved-items\n      params: {limit: 10}\n"
          "      data_selector: items\n      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: "
          "cursor}\n    primary_key: id\n    write_disposition: merge\n"
          "jobs:\n  - name: items\n    every: 1h\n    resources: [saved_items]\n",
          "  dataset: " + dataset + "\n");
  for (int run = 1; run <= 2; ++run) {
    CAPTURE(run);
    auto r = s.run("items");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(s.count("SELECT count(*) FROM " + dataset + ".saved_items") == 25);
    CHECK(s.count("SELECT count(DISTINCT id) FROM " + dataset + ".saved_items") == 25);
    CHECK(s.count("SELECT count(*) FROM " + dataset + ".saved_items__tags") == 50);
    CHECK(s.count("SELECT count(*) FROM " + dataset + "._dlt_loads") == run);
  }
  // Two schemas: the dataset and a 63-byte staging dataset that is not it.
  CHECK(s.count("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'long\\_%'") == 2);
  CHECK(s.count("SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'long\\_%' AND "
                "schema_name <> '" +
                dataset + "' AND length(schema_name) = 63 AND schema_name LIKE '%staging'") == 1);
}

TEST_CASE("jobs: POST resources send their JSON body on every page, page by query and are retried on 5xx") {
  // 23 items; 5 of type voice (i % 5 == 2) and 5 of type reference (i % 5 == 1). The first two
  // POSTs answer 503: a listing POST is retried like a GET, not treated as an uncertain create.
  SimProcess sim({"--saved-items", "23", "--fault", "POST /v1/_test/saved-items/search status=503 first=2"});
  Setup s(sim, R"(resources:
  - name: search_all
    endpoint:
      path: _test/saved-items/search
      method: POST
      params: {limit: 4}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    primary_key: id
  - name: search_voice
    endpoint:
      path: _test/saved-items/search
      method: POST
      json: {filter: {type: voice}}
      data_selector: items
      paginator: {type: offset, limit: 2}
    primary_key: id
  - name: search_reference
    endpoint:
      path: _test/saved-items/search
      method: POST
      json: {filter: {type: reference}}
      params: {limit: 2}
      data_selector: items
      paginator: {type: page_number, base_page: 1, total_path: pages}
    primary_key: id
jobs:
  - name: search
    every: 1h
    resources: [search_all, search_voice, search_reference]
)");
  auto r = s.run("search");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("not supported") == std::string::npos);
  CHECK(r.err.find("uncertain") == std::string::npos);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "succeeded");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.search_all") == 23);
  CHECK(s.count("SELECT count(DISTINCT id) FROM magic_hour_data.search_all") == 23);
  // The body reached the simulator: its filter selects 5 of the 23, on every page.
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.search_voice") == 5);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.search_voice WHERE type = 'voice'") == 5);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.search_reference") == 5);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.search_reference WHERE type = 'reference'") == 5);
  auto resources = json::parse(s.text("SELECT resources::text FROM mhloader.runs")).as_array();
  REQUIRE(resources.size() == 3);
  CHECK(resources.at(0).at("pages").as_int64() == 6);  // 4 per page
  CHECK(resources.at(1).at("pages").as_int64() == 3);  // 2 per page, `total` 5
  CHECK(resources.at(2).at("pages").as_int64() == 3);  // 2 per page, `pages` 3
  // 6 + 3 + 3 pages answered 200, after the two 503s that were retried.
  auto route = curl("GET", sim.base_url() + "/_sim/stats").json().at("routes").at("POST /v1/_test/saved-items/search");
  CHECK(route.at("status").at("503").as_int64() == 2);
  CHECK(route.at("status").at("200").as_int64() == 12);
  CHECK(route.at("requests").as_int64() == 14);
}

TEST_CASE("jobs: a POST resource's next link to a create endpoint is refused, and nothing is created") {
  SimProcess sim({"--saved-items", "23"});
  Setup s(sim, R"(resources:
  - name: search_hostile
    endpoint:
      path: _test/saved-items/search
      method: POST
      json: {image_count: 1, style: {prompt: x}}
      params: {limit: 4, next: "/v1/./ai-image-generator"}
      data_selector: items
      paginator: {type: json_link, next_url_path: next}
    primary_key: id
jobs:
  - name: search
    every: 1h
    resources: [search_hostile]
)");
  auto r = s.run("search");
  INFO(r.err);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "failed");
  auto resources = json::parse(s.text("SELECT resources::text FROM mhloader.runs")).as_array();
  CHECK(std::string(resources.at(0).at("error").as_string()).find("points at a Magic Hour create endpoint") !=
        std::string::npos);
  auto routes = curl("GET", sim.base_url() + "/_sim/stats").json().at("routes").as_object();
  CHECK(routes.at("POST /v1/_test/saved-items/search").at("requests").as_int64() == 1);
  CHECK_FALSE(routes.contains("POST /v1/ai-image-generator"));
  CHECK(curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64() == 0);
}

TEST_CASE("jobs: the real API's lack of legacy endpoints skips models and falls back for status") {
  SimProcess sim({"--legacy-endpoints", "off"});
  Setup s(sim, "jobs:\n  - name: account\n    every: 1h\n    resources: [credits, status, models]\n");
  auto r = s.run("account");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.text("SELECT probe FROM magic_hour_data.status") == "/v1/account");
  CHECK(s.count("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'magic_hour_data' AND "
                "table_name = 'models'") == 0);
  auto resources = json::parse(s.text("SELECT resources::text FROM mhloader.runs")).as_array();
  CHECK(resources.at(2).at("status").as_string() == "skipped");
}

TEST_CASE("jobs: a failing resource makes the run partial while the others load") {
  SimProcess sim({"--fault", "GET /v1/models status=500"});
  Setup s(sim, "jobs:\n  - name: account\n    every: 1h\n    resources: [credits, models]\n");
  auto r = s.run("account");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("contains 1 FAILED job(s)!") != std::string::npos);
  CHECK(r.out.find("[models]: Magic Hour answered 500") != std::string::npos);
  CHECK(s.text("SELECT status FROM mhloader.runs") == "partial");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.credits") == 1);
}

TEST_CASE("jobs: an incremental second run fetches only new items") {
  SimProcess sim({"--saved-items", "30"});
  Setup s(sim, R"(resources:
  - name: recent
    endpoint:
      path: _test/saved-items/since
      data_selector: items
    primary_key: id
    incremental: {cursor_path: created_at, initial_value: "2026-01-01T00:00:00.000Z", param: since}
jobs:
  - name: sync
    every: 1h
    resources: [recent]
)");
  REQUIRE(s.run("sync").exit_code == 0);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.recent") == 30);
  auto cursor = json::parse(s.text("SELECT cursors::text FROM mhloader.job_state WHERE job = 'sync'"));
  CHECK(cursor.at("recent").at("last_value").as_string() == "2026-01-01T00:17:53.000Z");  // item 29

  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"saved_items": 34})"});
  auto r = s.run("sync");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.recent") == 34);
  CHECK(s.count("SELECT count(DISTINCT id) FROM magic_hour_data.recent") == 34);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.recent WHERE _dlt_load_id = (SELECT max(load_id) FROM "
                "magic_hour_data._dlt_loads)") == 4);  // the boundary item is not loaded again
}

TEST_CASE("jobs: a generation run records complete projects, downloads and archived files") {
  SimProcess sim({"--render-time", "300ms", "--credits", "1000"});
  TempDir archive;
  Setup s(sim, R"(jobs:
  - name: banners
    every: 1h
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 2, model: flux-schnell, style: {prompt: "Sunset"}}
          - {image_count: 1, style: {prompt: "Sunrise"}}
)",
          "archive:\n  dir: " + archive.path() + "\n");
  auto r = s.run("banners");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.ai_image_generator WHERE status = 'complete'") == 2);
  CHECK(s.count("SELECT sum(credits_charged) FROM magic_hour_data.ai_image_generator") == 15);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.ai_image_generator__downloads") == 3);
  CHECK(s.count("SELECT count(*) FROM mhloader.submissions WHERE state = 'complete'") == 2);
  CHECK(s.count("SELECT credits_charged FROM mhloader.runs") == 15);
  CHECK(sim_jobs(sim) == 2);
  // Every archived file is where the row says, with the bytes and hash it says.
  pqxx::connection c{s.db.dsn()};
  pqxx::read_transaction tx{c};
  auto files = tx.exec(
      "SELECT d.local_path, d.bytes, d.sha256, g.id FROM magic_hour_data.ai_image_generator__downloads d "
      "JOIN magic_hour_data.ai_image_generator g ON g._dlt_id = d._dlt_parent_id");
  REQUIRE(files.size() == 3);
  for (const auto& f : files) {
    std::string path = f[0].c_str();
    CHECK(path.rfind(archive.path() + "/" + std::string(f[3].c_str()) + "/", 0) == 0);
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    CHECK(static_cast<std::int64_t>(bytes.str().size()) == f[1].as<std::int64_t>());
    CHECK(sha256_hex(bytes.str()) == f[2].c_str());
  }
  // A later run generates anew.
  REQUIRE(s.run("banners").exit_code == 0);
  CHECK(sim_jobs(sim) == 4);
}

TEST_CASE("jobs: upscaling each new file of from_dir once") {
  SimProcess sim({"--render-time", "200ms", "--credits", "1000"});
  TempDir inbox;
  inbox.write("a.png", std::string("\x89PNG\r\n\x1a\n", 8) + "first image");
  inbox.write("b.jpg", "second image");
  inbox.write("notes.txt", "not an image");
  Setup s(sim,
          "jobs:\n  - name: upscale_inbox\n    every: 10m\n    generate:\n      - resource: ai_image_upscaler\n"
          "        from_dir: " +
              inbox.path() + "\n        settle: 0s\n        request: {scale_factor: 2, style: {mode: preserve}}\n");
  auto r = s.run("upscale_inbox");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 2);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.ai_image_upscaler WHERE status = 'complete'") == 2);
  CHECK(s.count("SELECT sum(credits_charged) FROM magic_hour_data.ai_image_upscaler") == 50);
  REQUIRE(s.run("upscale_inbox").exit_code == 0);
  CHECK(sim_jobs(sim) == 2);  // the same files are not upscaled twice
  inbox.write("c.png", "third image");
  inbox.write("copy-of-a.png", std::string("\x89PNG\r\n\x1a\n", 8) + "first image");  // same content as a.png
  REQUIRE(s.run("upscale_inbox").exit_code == 0);
  CHECK(sim_jobs(sim) == 3);
}

TEST_CASE("jobs: the credit guard and the budget stop submissions with the numbers in the run record") {
  SimProcess sim({"--credits", "140", "--render-time", "100ms"});
  Setup s(sim, R"(monitor:
  credits: {interval: 1m, low_balance: 500, reserve: 100}
jobs:
  - name: guarded
    every: 1h
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 4, model: flux-schnell, resolution: 1k, style: {prompt: "one"}}
          - {image_count: 4, model: flux-schnell, resolution: 1k, style: {prompt: "two"}}
          - {image_count: 4, model: flux-schnell, resolution: 1k, style: {prompt: "three"}}
  - name: budgeted
    every: 1h
    credit_budget: 10
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "a"}}
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "b"}}
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "c"}}
)");
  auto r = s.run("guarded");
  INFO(r.err);
  CHECK(r.exit_code == 0);    // skipped by the guard, not failed
  CHECK(sim_jobs(sim) == 2);  // 140 - 20 - 20 = 100 is the reserve: a third would go below
  auto details = json::parse(s.text("SELECT details::text FROM mhloader.runs WHERE job = 'guarded'"));
  const auto& guard = details.at("credit_guard");
  CHECK(guard.at("reason").as_string() == "the balance would fall below the reserve");
  CHECK(guard.at("committed").as_int64() == 40);
  CHECK(guard.at("estimate").as_int64() == 20);
  CHECK(guard.at("reserve").as_int64() == 100);

  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"credits": 100000})"});
  r = s.run("budgeted");
  CHECK(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 4);  // 5 + 5 = 10 = the budget; a third would exceed it
  details = json::parse(s.text("SELECT details::text FROM mhloader.runs WHERE job = 'budgeted'"));
  CHECK(details.at("credit_guard").at("reason").as_string() == "the job's credit budget would be exceeded");
  CHECK(details.at("credit_guard").at("budget").as_int64() == 10);
}

TEST_CASE("jobs: killed between a create POST and its ledger update: uncertain, never resubmitted") {
  // The simulator processes (and bills) the create at once but answers only 3 s later.
  SimProcess sim({"--render-time", "100ms", "--fault", "POST /v1/ai-image-generator latency=3s first=1"});
  Setup s(sim,
          "jobs:\n  - name: one\n    every: 1h\n    generate:\n      - resource: ai_image_generator\n"
          "        requests:\n          - {image_count: 1, style: {prompt: \"once\"}}\n");
  {
    ProcessOptions o = mh::test::daemon_env();
    Child run({MHLOADER_BIN, "run", "one", "--config", s.config}, o);
    for (int i = 0; i < 100 && sim_jobs(sim) == 0; ++i) std::this_thread::sleep_for(20ms);
    REQUIRE(sim_jobs(sim) == 1);
    run.signal(SIGKILL);
    run.wait(5s);
  }
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "pending");
  CHECK(s.text("SELECT status FROM mhloader.runs") == "running");
  auto r = s.run("one");  // takes up the interrupted run, starts no other
  INFO(r.err);
  CHECK(r.err.find("(resumed)") != std::string::npos);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "uncertain");
  CHECK(s.count("SELECT count(*) FROM mhloader.runs") == 1);
  CHECK(sim_jobs(sim) == 1);
}

TEST_CASE("jobs: killed while polling: the restart polls on and resubmits nothing") {
  SimProcess sim({"--render-time", "2s"});
  Setup s(sim,
          "jobs:\n  - name: one\n    every: 1h\n    generate:\n      - resource: ai_image_generator\n"
          "        requests:\n          - {image_count: 1, style: {prompt: \"poll me\"}}\n");
  {
    ProcessOptions o = mh::test::daemon_env();
    Child run({MHLOADER_BIN, "run", "one", "--config", s.config}, o);
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(20ms);
      try {
        if (s.count("SELECT count(*) FROM mhloader.submissions WHERE state = 'submitted'") == 1) break;
      } catch (const pqxx::sql_error&) {
        // the run has not created the schema yet
      }
    }
    REQUIRE(s.count("SELECT count(*) FROM mhloader.submissions WHERE state = 'submitted'") == 1);
    run.signal(SIGKILL);
    run.wait(5s);
  }
  auto r = s.run("one");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("(resumed)") != std::string::npos);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "complete");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.ai_image_generator WHERE status = 'complete'") == 1);
  CHECK(sim_jobs(sim) == 1);
}
