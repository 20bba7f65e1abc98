// One schema in the destination under concurrency, against `mhloader serve`
// over HTTP, magichour-sim and the real PostgreSQL: two jobs triggered at the
// same instant, two daemons with their own state_dir on one database (one of
// them reading a field as text the other reads as an integer), and dlt's
// `_dlt_pipeline_state` rows over runs of an incremental resource.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <thread>

#include "load/state.hpp"
#include "support/pg.hpp"
#include "support/pg_query.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

using namespace mh::test;
using namespace std::chrono_literals;
namespace json = boost::json;
using Rows = std::vector<std::vector<std::string>>;

namespace {

const std::string kToken = "schema-TOKEN-0123456789abcdef";

// A `mhloader serve` with its own state_dir, on `dsn`, reading `sim`; `rest` holds resources and jobs.
class Serve {
 public:
  Serve(const SimProcess& sim, const std::string& dsn, const std::string& rest) {
    config_ = dir_.write("mhloader.yaml",
                         "state_dir: " + dir_.path() + "/state\nmagic_hour:\n  base_url: " + sim.base_url() +
                             "/v1\n  api_key: sim-dev-key\n  retry: {max_attempts: 3, initial_delay: 20ms, max_delay: "
                             "100ms}\ndestination:\n  dsn: \"" +
                             dsn + "\"\ncontrol:\n  listen: \"127.0.0.1:0\"\n  token: " + kToken +
                             "\nmonitor:\n  credits: {interval: 1h}\n  health: {interval: 1h}\n" + rest);
    child_ =
        std::make_unique<Child>(std::vector<std::string>{MHLOADER_BIN, "serve", "--config", config_}, daemon_env());
    REQUIRE_MESSAGE(child_->wait_for_err("msg=\"mhloader ready\"", 30s), child_->err());
    std::smatch m;
    std::string err = child_->err();
    REQUIRE(std::regex_search(err, m, std::regex(R"(listen=127\.0\.0\.1:(\d+))")));
    base_ = "http://127.0.0.1:" + m[1].str();
  }
  ~Serve() {
    child_->signal(SIGTERM);
    child_->wait(20s);
  }

  CurlResponse call(const std::string& method, const std::string& path) const {
    CurlOptions o;
    o.headers.push_back("Authorization: Bearer " + kToken);
    return curl(method, base_ + path, o);
  }
  // Starts a run of `job` now; its id, or 0 when it did not start.
  std::int64_t trigger(const std::string& job) const {
    auto r = call("POST", "/api/v1/jobs/" + job + "/runs");
    if (r.status != 202) return 0;
    return r.json().at("run_id").as_int64();
  }
  // The run's final status, once it has one.
  std::string wait_finished(std::int64_t id) const {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = call("GET", "/api/v1/runs/" + std::to_string(id));
      if (r.status == 200) {
        std::string status(r.json().at("status").as_string());
        if (status != "running") return status;
      }
      std::this_thread::sleep_for(50ms);
    }
    return "running";
  }
  // Table names GET /api/v1/schema lists.
  std::set<std::string> schema_tables() const {
    auto r = call("GET", "/api/v1/schema");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::set<std::string> out;
    const json::value doc = r.json();
    for (const auto& t : doc.at("tables").as_array()) out.emplace(t.at("name").as_string());
    return out;
  }
  std::string err() const { return child_->err(); }
  const std::string& config() const { return config_; }

 private:
  TempDir dir_;
  std::string config_;
  std::unique_ptr<Child> child_;
  std::string base_;
};

// Triggers the jobs, each on `serve`, at the same instant; their final statuses.
std::vector<std::string> trigger_together(const std::vector<std::pair<const Serve*, std::string>>& jobs) {
  std::vector<std::int64_t> ids(jobs.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] { ids[i] = jobs[i].first->trigger(jobs[i].second); });
  }
  for (auto& t : threads) t.join();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < jobs.size(); ++i)
    out.push_back(ids[i] == 0 ? "not started" : jobs[i].first->wait_finished(ids[i]));
  return out;
}

bool all_succeeded(const std::vector<std::string>& statuses) {
  return std::all_of(statuses.begin(), statuses.end(), [](const std::string& s) { return s == "succeeded"; });
}

// The data tables of the dataset (not dlt's own).
std::set<std::string> dataset_tables(const std::string& dsn) {
  std::set<std::string> out;
  for (const auto& r : query(dsn,
                             "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                             "'magic_hour_data' AND table_name NOT LIKE '\\_dlt\\_%'")) {
    out.insert(r[0]);
  }
  return out;
}

// `_dlt_version`: one schema per version, versions strictly increasing in the order they were written.
void check_versions(const std::string& dsn) {
  const std::string v = "magic_hour_data._dlt_version";
  CHECK(query(dsn, "SELECT count(*) FROM (SELECT version FROM " + v + " GROUP BY version HAVING count(*) > 1) d") ==
        Rows{{"0"}});
  CHECK(query(dsn, "SELECT count(*) = count(DISTINCT version_hash) FROM " + v) == Rows{{"t"}});
  CHECK(query(dsn, "SELECT count(*) FROM " + v + " a JOIN " + v + " b ON a.inserted_at < b.inserted_at AND " +
                       "a.version >= b.version") == Rows{{"0"}});
  // Every load names a stored schema, and the newest one holds every table of the dataset.
  CHECK(query(dsn, "SELECT count(*) FROM magic_hour_data._dlt_loads l WHERE NOT EXISTS (SELECT 1 FROM " + v +
                       " s WHERE s.version_hash = l.schema_version_hash)") == Rows{{"0"}});
}

const char* kSavedItems = R"(  - name: saved_items
    endpoint:
      path: saved-items
      params: {limit: 50}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    primary_key: id
    write_disposition: merge
)";

}  // namespace

TEST_CASE("serve: two jobs triggered at the same instant, 20 times, keep each other's tables in the schema") {
  SimProcess sim({"--saved-items", "120"});
  TempDatabase db;
  Serve serve(sim, db.dsn(),
              std::string("resources:\n") + kSavedItems +
                  "jobs:\n  - {name: account, resources: [credits, status, models]}\n"
                  "  - {name: items, resources: [saved_items]}\n");
  for (int i = 0; i < 20; ++i) {
    auto statuses = trigger_together({{&serve, "account"}, {&serve, "items"}});
    REQUIRE_MESSAGE(all_succeeded(statuses), "round " << i << "\n" << serve.err());
  }
  auto listed = serve.schema_tables();
  auto tables = dataset_tables(db.dsn());
  for (const char* t : {"credits", "status", "models", "saved_items", "saved_items__tags"}) {
    CHECK_MESSAGE(tables.contains(t), t);
  }
  for (const auto& t : tables) CHECK_MESSAGE(listed.contains(t), t << " is not in GET /api/v1/schema");
  check_versions(db.dsn());
  CHECK(query(db.dsn(), "SELECT count(*) FROM magic_hour_data.saved_items") == Rows{{"120"}});
}

TEST_CASE("serve: two daemons with their own state_dir share one schema, a type conflict lands in a variant") {
  // B's listing answers late, so A (integers) loads first; both start from the same stored schema.
  SimProcess sim_a;
  SimProcess sim_b({"--fault", "GET /v1/_test/saved-items/{kind} latency=500ms"});
  TempDatabase db;
  auto config = [](const char* kind, const char* job, const char* builtin) {
    return std::string("resources:\n  - name: things\n    endpoint:\n      path: _test/saved-items/") + kind +
           "\n      data_selector: items\n    primary_key: id\n    write_disposition: merge\njobs:\n  - {name: " + job +
           ", resources: [things, " + builtin + "]}\n";
  };
  Serve a(sim_a, db.dsn(), config("typed-int", "numbers", "credits"));
  Serve b(sim_b, db.dsn(), config("typed-text", "words", "models"));
  for (int i = 0; i < 5; ++i) {
    auto statuses = trigger_together({{&a, "numbers"}, {&b, "words"}});
    REQUIRE_MESSAGE(all_succeeded(statuses), a.err() << "\n" << b.err());
  }
  // A fixed the type of `size`; B's text went to the variant column.
  CHECK(query(db.dsn(),
              "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
              "'magic_hour_data' AND table_name = 'things' AND column_name LIKE 'size%' ORDER BY 1") ==
        Rows{{"size", "bigint"}, {"size__v_text", "character varying"}});
  CHECK(query(db.dsn(), "SELECT id, size, size__v_text FROM magic_hour_data.things WHERE id LIKE '%-3' ORDER BY id") ==
        Rows{{"typed-int-3", "3", "<null>"}, {"typed-text-3", "<null>", "size-3"}});
  CHECK(query(db.dsn(), "SELECT count(*), count(size), count(size__v_text) FROM magic_hour_data.things") ==
        Rows{{"10", "5", "5"}});
  for (const Serve* s : {&a, &b}) {
    auto listed = s->schema_tables();
    for (const char* t : {"things", "credits", "models"}) CHECK_MESSAGE(listed.contains(t), t);
    // `mhloader show` prints the same stored schema, whichever configuration it reads.
    ProcessResult shown = run_process({MHLOADER_BIN, "show", "--config", s->config()}, daemon_env());
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.err);
    auto at = shown.out.find("Stored schema magic_hour: version ");
    REQUIRE_MESSAGE(at != std::string::npos, shown.out);
    for (const char* t : {"\n  things\n", "\n  credits\n", "\n  models\n"}) {
      CHECK_MESSAGE(shown.out.find(t, at) != std::string::npos, t << shown.out);
    }
  }
  check_versions(db.dsn());
}

TEST_CASE("serve: _dlt_pipeline_state gets dlt's rows: first run, unchanged run, moved cursor") {
  SimProcess sim({"--saved-items", "30"});
  TempDatabase db;
  Serve serve(sim, db.dsn(), R"(pipeline_name: schema_test_pipeline
resources:
  - name: recent
    endpoint:
      path: _test/saved-items/since
      data_selector: items
    primary_key: id
    incremental: {cursor_path: created_at, initial_value: "2026-01-01T00:00:00.000Z", param: since}
jobs:
  - {name: sync, resources: [recent]}
  - {name: account, resources: [credits]}
)");
  auto rows = [&] { return query(db.dsn(), "SELECT count(*) FROM magic_hour_data._dlt_pipeline_state")[0][0]; };
  REQUIRE(serve.wait_finished(serve.trigger("sync")) == "succeeded");
  CHECK(rows() == "1");
  REQUIRE(serve.wait_finished(serve.trigger("sync")) == "succeeded");
  CHECK(rows() == "1");  // nothing new: the state did not change
  REQUIRE(serve.wait_finished(serve.trigger("account")) == "succeeded");
  CHECK(rows() == "1");  // another job of the pipeline without cursors
  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"saved_items": 34})"});
  REQUIRE(serve.wait_finished(serve.trigger("sync")) == "succeeded");
  CHECK(rows() == "2");

  auto stored = query(db.dsn(),
                      "SELECT s.version, s.engine_version, s.pipeline_name, s.version_hash, s.state FROM "
                      "magic_hour_data._dlt_pipeline_state s ORDER BY s.version");
  REQUIRE(stored.size() == 2);
  CHECK(stored[0][0] == "1");
  CHECK(stored[1][0] == "2");
  CHECK(stored[1][1] == "4");
  CHECK(stored[1][2] == "schema_test_pipeline");
  auto doc = mh::load::decompress_state(stored[1][4]);
  CHECK(doc.at("_state_version") == 2);
  CHECK(doc.at("_state_engine_version") == 4);
  CHECK(doc.at("pipeline_name") == "schema_test_pipeline");
  CHECK(doc.at("dataset_name") == "magic_hour_data");
  CHECK(doc.at("default_schema_name") == "magic_hour");
  CHECK(doc.at("schema_names") == json::array{"magic_hour"});
  CHECK(doc.at("destination_type") == "dlt.destinations.postgres");
  CHECK(doc.at("_version_hash") == stored[1][3].c_str());
  const auto& cursor =
      doc.at("sources").at("magic_hour").at("resources").at("recent").at("incremental").at("created_at");
  CHECK(cursor.at("initial_value") == "2026-01-01T00:00:00.000Z");
  CHECK(cursor.at("last_value") == "2026-01-01T00:20:21.000Z");  // item 33
  CHECK(cursor.at("unique_hashes").is_array());
}
