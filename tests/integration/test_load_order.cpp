// Packages load in order, end to end with real processes: a load cut in the
// middle of its COPY is loaded first by the next run of the same `serve`; a
// package that cannot load fails the next runs naming itself; `mhloader run`
// beside a long `serve` run deletes nothing and both packages load.
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "load/package.hpp"
#include "support/pg.hpp"
#include "support/pg_cut_proxy.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

using namespace mh::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const std::string kToken = "order-test-token";

// `recent` appends by an incremental cursor, `snapshot` replaces, `saved_items` merges.
const char* kResources = R"(resources:
  - name: recent
    endpoint:
      path: _test/saved-items/since
      data_selector: items
    primary_key: id
    incremental: {cursor_path: created_at, initial_value: "2026-01-01T00:00:00.000Z", param: since}
  - name: snapshot
    endpoint:
      path: _test/saved-items/offset
      paginator: {type: offset, limit: 50}
      data_selector: items
    write_disposition: replace
  - name: saved_items
    endpoint:
      path: saved-items
      params: {limit: 100}
      data_selector: items
      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}
    primary_key: id
    write_disposition: merge
jobs:
  - {name: sync, resources: [recent, snapshot]}
  - {name: bulk, resources: [saved_items]}
  - {name: small, resources: [credits]}
)";

struct Setup {
  TempDatabase db;
  TempDir dir;
  std::string config;
  std::string state_dir = dir.path() + "/state";

  // Through `proxy` when given, so a test can cut the loader's connection.
  Setup(const SimProcess& sim, const PgCutProxy* proxy = nullptr) {
    const std::string dsn = proxy ? proxy->through(db.dsn()) : db.dsn();
    config = dir.write("mhloader.yaml", "state_dir: " + state_dir + "\nmagic_hour:\n  base_url: " + sim.base_url() +
                                            "/v1\n  api_key: sim-dev-key\n  retry: {max_attempts: 2, initial_delay: "
                                            "20ms, max_delay: 50ms}\ndestination:\n  dsn: \"" +
                                            dsn + "\"\ncontrol:\n  listen: \"127.0.0.1:0\"\n  token: " + kToken +
                                            "\nmonitor:\n  credits: {interval: 1h}\n  health: {interval: 1h}\n" +
                                            kResources);
  }

  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    pqxx::connection c{db.dsn()};
    pqxx::read_transaction tx{c};
    std::vector<std::vector<std::string>> out;
    for (const auto& row : tx.exec(sql)) {
      std::vector<std::string> r;
      for (const auto& f : row) r.push_back(f.is_null() ? "" : f.c_str());
      out.push_back(std::move(r));
    }
    return out;
  }
  std::string text(const std::string& sql) const {
    auto r = rows(sql);
    return r.empty() || r[0].empty() ? "<none>" : r[0][0];
  }
  long long count(const std::string& from) const { return std::stoll(text("SELECT count(*) FROM " + from)); }
  long long loads() const {  // _dlt_loads rows; none before the first load created it
    return text("SELECT to_regclass('magic_hour_data._dlt_loads') IS NULL") == "t"
               ? 0
               : count("magic_hour_data._dlt_loads");
  }
  // Package folders in state_dir, complete or not.
  std::vector<std::string> packages() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(mh::load::packages_dir(state_dir), ec)) {
      if (e.is_directory()) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  ProcessResult run(const std::string& job) const {
    ProcessOptions o = daemon_env();
    o.timeout = 60s;
    return run_process({MHLOADER_BIN, "run", job, "--config", config}, o);
  }
};

bool wait_until(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

// `mhloader serve` on the setup's config, ready, with its control port.
struct Daemon {
  std::unique_ptr<Child> child;
  int port = 0;

  explicit Daemon(const Setup& s) {
    child =
        std::make_unique<Child>(std::vector<std::string>{MHLOADER_BIN, "serve", "--config", s.config}, daemon_env());
    REQUIRE_MESSAGE(child->wait_for_err("msg=\"mhloader ready\"", 30s), child->err());
    std::smatch m;
    std::string err = child->err();
    REQUIRE(std::regex_search(err, m, std::regex(R"(listen=127\.0\.0\.1:(\d+))")));
    port = std::stoi(m[1]);
  }
  ~Daemon() {
    child->signal(SIGTERM);
    child->wait(30s);
  }
  std::int64_t trigger(const std::string& job) const {
    CurlOptions o;
    o.headers.push_back("Authorization: Bearer " + kToken);
    auto r = curl("POST", "http://127.0.0.1:" + std::to_string(port) + "/api/v1/jobs/" + job + "/runs", o);
    REQUIRE_MESSAGE(r.status == 202, r.body);
    return r.json().at("run_id").as_int64();
  }
};

// The run's final status, once it has one.
std::string finished_status(const Setup& s, std::int64_t run) {
  std::string status;
  wait_until(
      [&] {
        status = s.text("SELECT status FROM mhloader.runs WHERE id = " + std::to_string(run));
        return status != "running" && status != "<none>";
      },
      60s);
  return status;
}

std::string run_field(const Setup& s, std::int64_t run, const std::string& expr) {
  return s.text("SELECT " + expr + " FROM mhloader.runs WHERE id = " + std::to_string(run));
}

void set_saved_items(const SimProcess& sim, int n) {
  auto r =
      curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, "{\"saved_items\": " + std::to_string(n) + "}"});
  REQUIRE(r.status == 200);
}

}  // namespace

TEST_CASE("load order: a load cut during its COPY is loaded first by the next run, and nothing goes back in time") {
  SimProcess sim({"--saved-items", "30"});
  PgCutProxy proxy(admin_dsn());
  Setup s(sim, &proxy);
  Daemon d(s);

  proxy.cut_next_copy();
  const std::int64_t first = d.trigger("sync");
  REQUIRE(finished_status(s, first) == "failed");
  CHECK(proxy.cuts() == 1);
  CHECK(run_field(s, first, "error").find("load failed") != std::string::npos);
  const auto left = s.packages();
  REQUIRE(left.size() == 1);  // the failed package stays, complete
  const std::string failed_id = left[0];
  CHECK(fs::exists(mh::load::packages_dir(s.state_dir) + "/" + failed_id + "/manifest.json"));
  CHECK(s.loads() == 0);

  set_saved_items(sim, 34);  // newer data for the next run
  const std::int64_t second = d.trigger("sync");
  REQUIRE_MESSAGE(finished_status(s, second) == "succeeded", run_field(s, second, "error"));
  const std::string second_id = run_field(s, second, "load_id");
  CHECK(run_field(s, second, "details->'pending_loaded'->>0") == failed_id);
  // Both loaded, the failed one first; nothing is left in state_dir.
  CHECK(s.rows("SELECT load_id FROM magic_hour_data._dlt_loads ORDER BY inserted_at") ==
        std::vector<std::vector<std::string>>{{failed_id}, {second_id}});
  CHECK(s.packages().empty());
  // The rows are the newest data: 34 items once each (the second run started from the
  // recovered package's cursor), the replaced snapshot all from the second run.
  CHECK(s.count("magic_hour_data.recent") == 34);
  CHECK(s.count("(SELECT DISTINCT id FROM magic_hour_data.recent) AS d") == 34);
  CHECK(s.count("magic_hour_data.snapshot") == 34);
  CHECK(s.count("magic_hour_data.snapshot WHERE _dlt_load_id = '" + second_id + "'") == 34);
  // The cursor is the newest item's, not the recovered package's.
  CHECK(s.text("SELECT cursors->'recent'->>'last_value' FROM mhloader.job_state WHERE job = 'sync'") ==
        s.text("SELECT to_char(max(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM "
               "magic_hour_data.recent"));
  CHECK(s.text("SELECT cursors->'recent'->>'last_value' FROM mhloader.job_state WHERE job = 'sync'") >
        "2026-01-01T00:17:53.000Z");  // item 29, the failed package's cursor
}

TEST_CASE("load order: a package that cannot load fails the next runs, naming it, until it is moved away") {
  SimProcess sim({"--saved-items", "30"});
  PgCutProxy proxy(admin_dsn());
  Setup s(sim, &proxy);
  std::string blocker;
  {
    Daemon d(s);
    proxy.cut_next_copy();
    REQUIRE(finished_status(s, d.trigger("sync")) == "failed");
    REQUIRE(s.packages().size() == 1);
    blocker = s.packages()[0];
    // Its rows no longer fit its table: this package can never load.
    const std::string dir = mh::load::packages_dir(s.state_dir) + "/" + blocker;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".copy") std::ofstream(e.path()) << "x\ty\tz\tw\tv\tu\tt\ts\tr\tq\tp\to\tn\tm\n";
    }
    const std::int64_t next = d.trigger("sync");
    REQUIRE(finished_status(s, next) == "failed");
    const std::string error = run_field(s, next, "error");
    CHECK(error.find(blocker) != std::string::npos);
    CHECK(error.find(dir) != std::string::npos);
    CHECK(s.packages() == std::vector<std::string>{blocker});  // never skipped, nothing piled up behind it
    CHECK(s.loads() == 0);
  }
  // `mhloader run` refuses too, naming it.
  auto r = s.run("sync");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(blocker) != std::string::npos);

  // The operator moves it out of state_dir/packages: loads go on.
  fs::rename(mh::load::packages_dir(s.state_dir) + "/" + blocker, s.dir.path() + "/" + blocker);
  auto ok = s.run("sync");
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(s.count("magic_hour_data.recent") == 30);
}

TEST_CASE("load order: `mhloader run` beside a long serve run deletes nothing, and both packages load") {
  // 40 pages of saved items at 150 ms each: the serve run writes its package for seconds.
  SimProcess sim({"--saved-items", "4000", "--fault", "GET /v1/saved-items latency=150ms"});
  Setup s(sim);
  Daemon d(s);
  const std::int64_t bulk = d.trigger("bulk");
  // Its package folder exists from the start of the run (rows reach the disk in 1 MiB chunks).
  REQUIRE(wait_until([&] { return !s.packages().empty(); }, 30s));
  const auto serve_package = s.packages();

  auto r = s.run("small");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("discarding") == std::string::npos);
  // The serve run was still extracting all along: its package is still there.
  REQUIRE(run_field(s, bulk, "status") == "running");
  for (const auto& p : serve_package) CHECK(fs::exists(mh::load::packages_dir(s.state_dir) + "/" + p));

  REQUIRE_MESSAGE(finished_status(s, bulk) == "succeeded", run_field(s, bulk, "error"));
  CHECK(s.count("magic_hour_data.saved_items") == 4000);
  CHECK(s.count("(SELECT DISTINCT id FROM magic_hour_data.saved_items) AS d") == 4000);
  CHECK(s.count("magic_hour_data.credits") == 1);
  CHECK(s.loads() == 2);
  CHECK(s.packages().empty());
  CHECK(d.child->err().find("discarding") == std::string::npos);
}

TEST_CASE("load order: two jobs of one serve starting at once load a pending package once, and both succeed") {
  SimProcess sim({"--saved-items", "30"});
  PgCutProxy proxy(admin_dsn());
  Setup s(sim, &proxy);
  Daemon d(s);
  proxy.cut_next_copy();
  REQUIRE(finished_status(s, d.trigger("sync")) == "failed");
  REQUIRE(s.packages().size() == 1);
  const std::string pending = s.packages()[0];

  // Both runs find the pending package before they extract; one loads it, the other waits
  // for its lock and then finds it gone.
  const std::int64_t a = d.trigger("small");
  const std::int64_t b = d.trigger("sync");
  CHECK(finished_status(s, a) == "succeeded");
  CHECK(finished_status(s, b) == "succeeded");
  CHECK(s.count("mhloader.runs WHERE details->'pending_loaded' ? '" + pending + "'") == 1);
  CHECK(s.count("magic_hour_data._dlt_loads WHERE load_id = '" + pending + "'") == 1);
  CHECK(s.loads() == 3);
  CHECK(s.packages().empty());
  CHECK(s.count("magic_hour_data.recent") == 30);  // the second sync started from the recovered cursor
}
