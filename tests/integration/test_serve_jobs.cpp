// `mhloader serve` scheduling jobs against magichour-sim and the real
// PostgreSQL: scheduled runs, two daemons sharing one database, reload of the
// job list, SIGTERM during a load and while polling a long render.
#include <doctest/doctest.h>
#include <signal.h>

#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "db/migrate.hpp"
#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

using namespace mh::test;
using namespace std::chrono_literals;

namespace {

// `magic_hour` holds lines for the magic_hour section, e.g. "  poll: {interval: 10s}\n".
std::string config_for(const SimProcess& sim, const TempDatabase& db, const std::string& state_dir,
                       const std::string& jobs, const std::string& magic_hour = "") {
  return "state_dir: " + state_dir + "\nmagic_hour:\n  base_url: " + sim.base_url() + "/v1\n  api_key: sim-dev-key\n" +
         magic_hour + "destination:\n  dsn: \"" + db.dsn() +
         "\"\ncontrol: {listen: \"127.0.0.1:0\"}\nmonitor:\n  credits: {interval: 1h}\n  health: {interval: "
         "1h}\nresources:\n  - name: saved_items\n"
         "    endpoint:\n      path: saved-items\n      params: {limit: 100}\n      data_selector: items\n"
         "      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}\n    primary_key: id\n"
         "    write_disposition: merge\n" +
         jobs;
}

ProcessOptions env() { return mh::test::daemon_env(); }

std::int64_t count(const TempDatabase& db, const std::string& sql) {
  try {
    pqxx::connection c{db.dsn()};
    pqxx::read_transaction tx{c};
    return tx.exec1(sql)[0].as<std::int64_t>();
  } catch (const pqxx::sql_error&) {
    return -1;  // not created yet
  }
}

bool wait_until(const std::function<bool()>& f, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

}  // namespace

TEST_CASE("serve: two daemons on one database never run the same job at the same time") {
  SimProcess sim({"--saved-items", "300", "--fault", "GET /v1/saved-items latency=150ms"});
  TempDatabase db;
  TempDir a, b;
  const std::string jobs = "jobs:\n  - name: sync\n    every: 1s\n    resources: [saved_items]\n";
  std::string ca = a.write("mhloader.yaml", config_for(sim, db, a.path() + "/state", jobs));
  std::string cb = b.write("mhloader.yaml", config_for(sim, db, b.path() + "/state", jobs));
  Child one({MHLOADER_BIN, "serve", "--config", ca}, env());
  Child two({MHLOADER_BIN, "serve", "--config", cb}, env());
  REQUIRE(
      wait_until([&] { return count(db, "SELECT count(*) FROM mhloader.runs WHERE status = 'succeeded'") >= 4; }, 20s));
  one.signal(SIGTERM);
  two.signal(SIGTERM);
  CHECK(one.wait(15s).exit_code == 0);
  CHECK(two.wait(15s).exit_code == 0);

  // No two runs of the job overlap in time.
  CHECK(count(db,
              "SELECT count(*) FROM mhloader.runs r1 JOIN mhloader.runs r2 ON r1.id < r2.id AND r1.job = r2.job "
              "WHERE tstzrange(r1.started_at, coalesce(r1.finished_at, now())) && "
              "tstzrange(r2.started_at, coalesce(r2.finished_at, now()))") == 0);
  CHECK(count(db, "SELECT count(*) FROM magic_hour_data.saved_items") == 300);
  std::string logs = one.err() + two.err();
  CHECK(logs.find("tick skipped: the job runs in another mhloader process") != std::string::npos);
}

TEST_CASE("serve: SIGHUP adds and removes jobs") {
  SimProcess sim({"--saved-items", "10"});
  TempDatabase db;
  TempDir dir;
  std::string file = dir.write("mhloader.yaml", config_for(sim, db, dir.path() + "/state",
                                                           "jobs:\n  - name: first\n    every: 1s\n    resources: "
                                                           "[credits]\n"));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, env());
  REQUIRE(wait_until([&] { return count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'first'") >= 1; }, 15s));
  dir.write("mhloader.yaml", config_for(sim, db, dir.path() + "/state",
                                        "jobs:\n  - name: second\n    every: 1s\n    resources: [saved_items]\n"));
  daemon.signal(SIGHUP);
  REQUIRE(daemon.wait_for_err("msg=\"configuration reloaded\"", 10s));
  CHECK(daemon.wait_for_err("msg=\"job removed\" job=first", 5s));
  REQUIRE(wait_until([&] { return count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'second'") >= 1; }, 15s));
  std::this_thread::sleep_for(300ms);
  std::int64_t first_runs = count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'first'");
  std::this_thread::sleep_for(2500ms);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'first'") == first_runs);  // no longer scheduled
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(15s).exit_code == 0);
}

TEST_CASE("serve: SIGTERM during a load leaves the load committed or rolled back, never half") {
  SimProcess sim({"--saved-items", "20000"});
  TempDatabase db;
  TempDir dir;
  std::string file = dir.write("mhloader.yaml", config_for(sim, db, dir.path() + "/state",
                                                           "jobs:\n  - name: bulk\n    every: 1s\n    resources: "
                                                           "[saved_items]\n"));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, env());
  REQUIRE(daemon.wait_for_err("msg=\"load package ready\"", 30s));
  daemon.signal(SIGTERM);
  auto r = daemon.wait(40s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  // Every data row belongs to a load recorded in _dlt_loads: nothing partial is visible.
  std::int64_t rows = count(db, "SELECT count(*) FROM magic_hour_data.saved_items");
  CHECK((rows == -1 || rows == 0 || rows == 20000));
  if (rows > 0) {
    CHECK(count(db,
                "SELECT count(*) FROM magic_hour_data.saved_items WHERE _dlt_load_id NOT IN (SELECT load_id FROM "
                "magic_hour_data._dlt_loads)") == 0);
  }
}

TEST_CASE("serve: SIGTERM while polling a long render ends the run at once and leaves its projects submitted") {
  SimProcess sim({"--render-time", "60s"});
  TempDatabase db;
  TempDir dir;
  // Polls 10 s apart and 25 s of shutdown_timeout: only a cancel that wakes the sleeping
  // poller ends the run within the few seconds checked below.
  const std::string jobs =
      "jobs:\n  - name: render\n    every: 1s\n    generate:\n      - resource: ai_image_generator\n"
      "        requests:\n          - {image_count: 1, style: {prompt: \"slow one\"}}\n"
      "          - {image_count: 1, style: {prompt: \"slow two\"}}\n"
      "  - name: refresh\n    resources: [image_projects]\n";
  std::string file =
      dir.write("mhloader.yaml", "shutdown_timeout: 25s\n" + config_for(sim, db, dir.path() + "/state", jobs,
                                                                        "  poll: {interval: 10s, timeout: 5m}\n"));
  auto sim_jobs = [&] { return curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64(); };
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, env());
  REQUIRE(wait_until(
      [&] { return count(db, "SELECT count(*) FROM mhloader.submissions WHERE state = 'submitted'") == 2; }, 20s));
  REQUIRE(sim_jobs() == 2);
  std::this_thread::sleep_for(500ms);  // the poller is asleep until its first GET, 10 s on

  auto sent = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  auto r = daemon.wait(40s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  INFO(daemon.err());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(seconds < 5.0);
  CHECK(daemon.err().find("shutdown_timeout reached") == std::string::npos);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs") == 1);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'render' AND status = 'cancelled'") == 1);
  // Not final, not failed: still rendering upstream, so they stay `submitted`.
  CHECK(count(db, "SELECT count(*) FROM mhloader.submissions WHERE state = 'submitted'") == 2);
  // What the run had is still loaded: one row per project, as last seen.
  CHECK(count(db, "SELECT count(*) FROM magic_hour_data.ai_image_generator WHERE status <> 'complete'") == 2);

  // A later run refreshes the projects the cancelled run left behind and resubmits nothing.
  auto refresh = run_process({MHLOADER_BIN, "run", "refresh", "--config", file}, env());
  INFO(refresh.err);
  CHECK(refresh.exit_code == 0);
  CHECK(count(db, "SELECT count(*) FROM magic_hour_data.image_projects") == 2);
  CHECK(count(db,
              "SELECT count(*) FROM magic_hour_data.image_projects i JOIN mhloader.submissions s ON "
              "s.project_id = i.id WHERE s.state = 'submitted'") == 2);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'render'") == 1);
  CHECK(sim_jobs() == 2);
}

TEST_CASE("serve: after downtime a job that ran before runs its missed tick once, a new job waits") {
  SimProcess sim;
  TempDatabase db;
  TempDir dir;
  mh::db::migrate(db.dsn());
  {
    pqxx::connection c{db.dsn()};
    pqxx::work tx{c};
    tx.exec0("INSERT INTO mhloader.job_state (job, last_tick_at) VALUES ('yearly_old', '2020-01-01T00:00:00Z')");
    tx.commit();
  }
  std::string file = dir.write("mhloader.yaml", config_for(sim, db, dir.path() + "/state",
                                                           "jobs:\n  - name: yearly_old\n    schedule: \"0 0 1 1 *\"\n"
                                                           "    resources: [credits]\n  - name: yearly_new\n"
                                                           "    schedule: \"0 0 1 1 *\"\n    resources: [credits]\n"));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, env());
  REQUIRE(
      wait_until([&] { return count(db, "SELECT count(*) FROM mhloader.runs WHERE status = 'succeeded'") >= 1; }, 15s));
  std::this_thread::sleep_for(1s);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'yearly_old' AND trigger = 'catch_up'") == 1);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'yearly_new'") == 0);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait(15s).exit_code == 0);
}

TEST_CASE("cli: show prints loads, runs, tables, columns and row counts") {
  SimProcess sim({"--saved-items", "12"});
  TempDatabase db;
  TempDir dir;
  std::string file = dir.write("mhloader.yaml", config_for(sim, db, dir.path() + "/state",
                                                           "jobs:\n  - name: sync\n    every: 1h\n    resources: "
                                                           "[saved_items]\n"));
  auto run = run_process({MHLOADER_BIN, "run", "sync", "--config", file}, env());
  REQUIRE(run.exit_code == 0);
  auto show = run_process({MHLOADER_BIN, "show", "--config", file}, env());
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("Recent loads:") != std::string::npos);
  CHECK(show.out.find("sync") != std::string::npos);
  CHECK(show.out.find("succeeded") != std::string::npos);
  CHECK(show.out.find("  saved_items (12 rows)") != std::string::npos);
  CHECK(show.out.find("  saved_items__tags (24 rows)") != std::string::npos);
  CHECK(show.out.find("asset__width") != std::string::npos);
  CHECK(show.out.find("bigint") != std::string::npos);
}
