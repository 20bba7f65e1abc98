// Spend within budget (issue 12): estimates that include resolution, a credit guard
// that reads every job's and process's spend from the ledger before each submission,
// the real charge replacing the estimate, and projects finishing after their run
// stopped polling being settled by image_projects. Real `mhloader run` processes,
// the simulator over HTTP and the real PostgreSQL.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "db/migrate.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "integration/job_setup.hpp"
#include "integration/sim_helpers.hpp"

using namespace mh::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

json::object sim_ledger(const SimProcess& sim) {
  return curl("GET", sim.base_url() + "/_sim/ledger").json().as_object();
}
std::int64_t debited(const SimProcess& sim) { return sim_ledger(sim).at("credits_debited").as_int64(); }

json::object guard_of(const Setup& s, const std::string& job) {
  auto details =
      json::parse(s.text("SELECT details::text FROM mhloader.runs WHERE job = '" + job + "' ORDER BY id DESC LIMIT 1"));
  return details.at("credit_guard").as_object();
}

std::int64_t project_gets(const SimProcess& sim) {
  auto routes = curl("GET", sim.base_url() + "/_sim/stats").json().at("routes").as_object();
  const json::value* r = routes.if_contains("GET /v1/image-projects/{id}");
  return r ? r->at("requests").as_int64() : 0;
}

// Jobs `left` and `right`, four 80-credit images each, `every` apart, reserve 500.
std::string two_jobs_sharing_a_reserve(const std::string& every) {
  std::string jobs = "monitor:\n  credits: {interval: 1h, low_balance: 0, reserve: 500}\njobs:\n";
  for (const char* job : {"left", "right"}) {
    jobs += std::string("  - name: ") + job + "\n    every: " + every +
            "\n    generate:\n      - resource: ai_image_generator\n        requests:\n";
    for (int i = 0; i < 4; ++i) {
      jobs += std::string("          - {image_count: 1, model: seedream-v4, resolution: 2k, style: {prompt: \"") + job +
              std::to_string(i) + "\"}}\n";
    }
  }
  return jobs;
}

}  // namespace

TEST_CASE("spend: credit_budget 100 with 4k requests never spends more than 100 in the simulator's ledger") {
  SimProcess sim({"--credits", "10000", "--render-time", "100ms"});
  Setup s(sim, R"(jobs:
  - name: fourk
    every: 1h
    credit_budget: 100
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: seedream, resolution: 4k, style: {prompt: "one"}}
          - {image_count: 1, model: seedream, resolution: 4k, style: {prompt: "two"}}
  - name: mixed
    every: 1h
    credit_budget: 100
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: seedream, resolution: 2k, style: {prompt: "a"}}
          - {image_count: 1, model: seedream, resolution: 4k, style: {prompt: "b"}}
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "c"}}
)");
  auto r = s.run("fourk");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 0);  // one 4k seedream image is 40 × 4 = 160: over the budget alone
  CHECK(debited(sim) == 0);
  auto guard = guard_of(s, "fourk");
  CHECK(guard.at("reason").as_string() == "the job's credit budget would be exceeded");
  CHECK(guard.at("estimate").as_int64() == 160);
  CHECK(guard.at("budget").as_int64() == 100);
  CHECK(guard.at("committed").as_int64() == 0);

  r = s.run("mixed");
  CHECK(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 1);  // the 2k image (80); the 4k one would make 240
  CHECK(debited(sim) == 80);  // never more than the budget
  guard = guard_of(s, "mixed");
  CHECK(guard.at("committed").as_int64() == 80);
  CHECK(guard.at("estimate").as_int64() == 160);
  CHECK(guard.at("budget_left").as_int64() == 20);
  CHECK(s.count("SELECT credits_charged FROM mhloader.submissions WHERE job = 'mixed'") == 80);
}

TEST_CASE("spend: the real credits_charged replaces the estimate and lets a request through") {
  // `auto` resolution: estimated at flux-schnell's highest (2k: 5 × 2 = 10), billed at the
  // plan's (pro: 1k, 5). Budget 15: with estimates alone only one request would fit.
  SimProcess sim({"--credits", "10000", "--render-time", "100ms"});
  Setup s(sim, R"(jobs:
  - name: auto_res
    every: 1h
    credit_budget: 15
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: flux-schnell, style: {prompt: "one"}}
          - {image_count: 1, model: flux-schnell, style: {prompt: "two"}}
          - {image_count: 1, model: flux-schnell, style: {prompt: "three"}}
)",
          "", "  max_concurrency: 1\n  poll: {interval: 100ms, timeout: 30s}\n");
  auto r = s.run("auto_res");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 2);  // 5 charged + 10 estimated = 15; then 10 + 10 > 15
  CHECK(debited(sim) == 10);
  CHECK(s.count("SELECT count(*) FROM mhloader.submissions WHERE credits_estimate = 10 AND credits_charged = 5") == 2);
  auto guard = guard_of(s, "auto_res");
  CHECK(guard.at("committed").as_int64() == 10);
  CHECK(guard.at("estimate").as_int64() == 10);
}

TEST_CASE("spend: a create the API refused costs nothing against the budget") {
  // flux-schnell has no 4k: a 422, billed nothing, though estimated at 5 × 4 = 20, the whole budget.
  SimProcess sim({"--credits", "10000", "--render-time", "100ms"});
  Setup s(sim, R"(jobs:
  - name: refused
    every: 1h
    credit_budget: 20
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: flux-schnell, resolution: 4k, style: {prompt: "too big"}}
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "fits"}}
)",
          "", "  max_concurrency: 1\n  poll: {interval: 100ms, timeout: 30s}\n");
  auto r = s.run("refused");
  INFO(r.err);
  CHECK(r.exit_code == 1);  // the refused create fails the resource
  CHECK(sim_jobs(sim) == 1);
  CHECK(s.count("SELECT credits_charged FROM mhloader.submissions WHERE state = 'error'") == 0);
  CHECK(s.count("SELECT count(*) FROM mhloader.submissions WHERE state = 'complete' AND credits_charged = 5") == 1);
}

TEST_CASE("spend: two processes sharing a reserve never dip below it together") {
  // 1000 credits, reserve 500: room for six 80-credit images in all, and each job
  // alone (four of them, 320) would fit.
  SimProcess sim({"--credits", "1000", "--render-time", "300ms"});
  Setup s(sim, two_jobs_sharing_a_reserve("1h"));
  // Two replicas: one database, a state_dir each.
  std::ifstream in(s.config);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string other = s.dir.write("replica.yaml", std::regex_replace(text, std::regex("/state\n"), "/replica\n"));
  REQUIRE(other != s.config);
  {
    ProcessOptions o = daemon_env();
    Child left({MHLOADER_BIN, "run", "left", "--config", s.config}, o);
    Child right({MHLOADER_BIN, "run", "right", "--config", other}, o);
    auto l = left.wait(60s);
    auto r = right.wait(60s);
    INFO(l.err);
    INFO(r.err);
    CHECK(l.exit_code == 0);
    CHECK(r.exit_code == 0);
  }
  CHECK(sim_balance(sim) >= 500);
  CHECK(debited(sim) <= 500);
  CHECK(sim_jobs(sim) <= 6);
  CHECK(sim_jobs(sim) >= 4);  // the first process alone fits all of its four
  CHECK(s.count("SELECT count(*) FROM mhloader.runs WHERE details ? 'credit_guard'") >= 1);
}

TEST_CASE("spend: two jobs of one serve firing on the same tick never dip below the reserve together") {
  SimProcess sim({"--credits", "1000", "--render-time", "200ms"});
  Setup s(sim, two_jobs_sharing_a_reserve("1s"), "control: {listen: \"127.0.0.1:0\"}\n");
  Child serve({MHLOADER_BIN, "serve", "--config", s.config}, daemon_env());
  auto finished_runs = [&] {
    try {
      return s.count("SELECT count(*) FROM mhloader.runs WHERE job = 'left' AND status <> 'running'") >= 2 &&
             s.count("SELECT count(*) FROM mhloader.runs WHERE job = 'right' AND status <> 'running'") >= 2;
    } catch (const pqxx::sql_error&) {
      return false;  // the schema is not there yet
    }
  };
  for (int i = 0; i < 600 && !finished_runs(); ++i) std::this_thread::sleep_for(50ms);
  serve.signal(SIGTERM);
  auto r = serve.wait(20s);
  INFO(r.err);
  REQUIRE(finished_runs());
  CHECK(r.exit_code == 0);
  CHECK(sim_balance(sim) >= 500);
  CHECK(debited(sim) <= 500);
  CHECK(sim_jobs(sim) <= 6);
  // Both jobs ran on the first tick: each got at least one image through.
  CHECK(s.count("SELECT count(DISTINCT job) FROM mhloader.submissions WHERE state = 'complete'") == 2);
}

TEST_CASE("spend: the guarded insert is atomic when many writers check the same reserve at once") {
  TempDatabase db;
  mh::db::migrate(db.dsn());
  // Eight writers, each its own connection pool (as separate processes would have), all
  // starting together: balance 1000, reserve 500, 100 each: exactly five fit.
  constexpr int kWriters = 8;
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  std::vector<mh::db::GuardedInsert> results(kWriters, mh::db::GuardedInsert::exists);
  const auto observed = std::chrono::steady_clock::now();
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      mh::db::Pool pool(db.dsn());
      mh::db::Submission row;
      row.key = "k" + std::to_string(i);
      row.job = "job" + std::to_string(i);
      row.run_id = i + 1;
      row.resource = "ai_image_generator";
      row.request = json::object{{"i", i}};
      row.credits_estimate = 100;
      pool.with([](pqxx::connection_base&) {});  // connected before the start
      ++ready;
      while (ready < kWriters) std::this_thread::yield();
      results[i] = mh::db::insert_pending_guarded(
          pool, row, observed, [](const mh::db::Spend& spend) { return 1000 - spend.outstanding - 100 >= 500; });
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(results.begin(), results.end(), mh::db::GuardedInsert::inserted) == 5);
  pqxx::connection c{db.dsn()};
  pqxx::read_transaction tx{c};
  CHECK(tx.exec1("SELECT count(*) FROM mhloader.submissions WHERE state = 'pending'")[0].as<int>() == 5);
}

TEST_CASE("spend: the ledger's spend counts pending rows and recent charges, known_projects skips final ones") {
  TempDatabase db;
  mh::db::migrate(db.dsn());
  mh::db::Pool pool(db.dsn());
  const std::vector<std::pair<std::string, std::string>> rows{{"p-sub", "submitted"}, {"p-tmo", "timeout"},
                                                              {"p-ok", "complete"},   {"p-err", "error"},
                                                              {"p-can", "canceled"},  {"p-pend", "pending"}};
  for (const auto& [key, state] : rows) {
    mh::db::Submission s;
    s.key = key;
    s.job = "j";
    s.run_id = 7;
    s.resource = "ai_image_generator";
    s.request = json::object{};
    s.credits_estimate = 10;
    REQUIRE(mh::db::insert_pending(pool, s));
    if (state == "pending") continue;
    mh::db::mark_submitted(pool, key, "id-" + key, 4);
    if (state != "submitted") mh::db::set_submission_state(pool, key, state, std::nullopt);
  }
  auto known = mh::db::known_projects(pool);
  CHECK(known == std::vector<std::string>{"id-p-sub", "id-p-tmo"});
  CHECK(mh::db::committed_credits(pool, 7) == 5 * 4 + 10);

  // A balance read just now shows the five charges (they were recorded before it):
  // only the pending row is outstanding. One read before them shows none of them.
  std::this_thread::sleep_for(2s);  // well past the guard's one-second allowance
  mh::db::Spend now, before;
  mh::db::Submission next;
  next.key = "next";
  next.job = "j";
  next.run_id = 7;
  next.resource = "ai_image_generator";
  next.request = json::object{};
  auto refuse_now = [&](const mh::db::Spend& sp) {
    now = sp;
    return false;
  };
  auto refuse_before = [&](const mh::db::Spend& sp) {
    before = sp;
    return false;
  };
  CHECK(mh::db::insert_pending_guarded(pool, next, std::chrono::steady_clock::now(), refuse_now) ==
        mh::db::GuardedInsert::refused);
  CHECK(mh::db::insert_pending_guarded(pool, next, std::chrono::steady_clock::now() - 60s, refuse_before) ==
        mh::db::GuardedInsert::refused);
  CHECK(now.outstanding == 10);
  CHECK(before.outstanding == 5 * 4 + 10);
  CHECK(now.run_committed == 30);
  CHECK(mh::db::get_submission(pool, "next") == std::nullopt);  // refused: nothing inserted
}

TEST_CASE("spend: a project that finishes after its poll timed out is archived and settled by image_projects") {
  SimProcess sim({"--credits", "1000", "--render-time", "4s"});
  TempDir archive;
  Setup s(sim, R"(jobs:
  - name: gen
    every: 1h
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 2, model: flux-schnell, resolution: 1k, style: {prompt: "slow"}}
  - name: refresh
    every: 1h
    resources: [image_projects]
)",
          "archive:\n  dir: " + archive.path() + "\n", "  poll: {interval: 100ms, timeout: 1s}\n");
  auto r = s.run("gen");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  REQUIRE(s.text("SELECT state FROM mhloader.submissions") == "timeout");
  const std::string id = s.text("SELECT project_id FROM mhloader.submissions");
  REQUIRE(std::string(wait_for_project(sim, id).at("status").as_string()) == "complete");

  r = s.run("refresh");
  CHECK(r.exit_code == 0);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "complete");
  CHECK(s.count("SELECT credits_charged FROM mhloader.submissions") == 10);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.image_projects WHERE status = 'complete'") == 1);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.image_projects__downloads WHERE local_path IS NOT NULL") == 2);
  {
    pqxx::connection c{s.db.dsn()};
    pqxx::read_transaction tx{c};
    auto files = tx.exec("SELECT local_path, bytes FROM magic_hour_data.image_projects__downloads");
    REQUIRE(files.size() == 2);
    for (const auto& f : files) {
      std::string path = f[0].c_str();
      CHECK(path.rfind(archive.path() + "/" + id + "/", 0) == 0);
      CHECK(static_cast<std::int64_t>(std::filesystem::file_size(path)) == f[1].as<std::int64_t>());
    }
  }
  CHECK(s.count("SELECT jsonb_array_length(result->'downloads') FROM mhloader.submissions") == 2);

  // Final now: the next refresh asks nothing about it.
  const std::int64_t gets = project_gets(sim);
  r = s.run("refresh");
  CHECK(r.exit_code == 0);
  CHECK(project_gets(sim) == gets);
}

TEST_CASE("spend: a settled project's ledger row changes only once its image_projects record has loaded") {
  SimProcess sim({"--credits", "1000", "--render-time", "3s"});
  Setup s(sim, R"(jobs:
  - name: gen
    every: 1h
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "slow"}}
  - name: refresh
    every: 1h
    resources: [image_projects]
)",
          "", "  poll: {interval: 100ms, timeout: 1s}\n");
  auto r = s.run("gen");
  REQUIRE(r.exit_code == 0);
  REQUIRE(s.text("SELECT state FROM mhloader.submissions") == "timeout");
  const std::string id = s.text("SELECT project_id FROM mhloader.submissions");
  REQUIRE(std::string(wait_for_project(sim, id).at("status").as_string()) == "complete");
  auto exec = [&](const std::string& sql) {
    pqxx::connection c{s.db.dsn()};
    pqxx::work tx{c};
    tx.exec0(sql);
    tx.commit();
  };
  // The refresh finds the project final, but its load fails (a view squats on the table's name):
  // the ledger row must stay unsettled, or no later run would fetch and load the record.
  exec("CREATE VIEW magic_hour_data.image_projects AS SELECT 1 AS squatter");
  r = s.run("refresh");
  CHECK(r.exit_code == 1);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "timeout");
  exec("DROP VIEW magic_hour_data.image_projects");
  // The next refresh loads the failed package first, then its own; now the row is settled.
  r = s.run("refresh");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "complete");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.image_projects WHERE status = 'complete'") == 1);
}

TEST_CASE("spend: a project whose run was cancelled (Ctrl-C) is settled by image_projects once it finishes") {
  SimProcess sim({"--credits", "1000", "--render-time", "3s"});
  Setup s(sim, R"(jobs:
  - name: gen
    every: 1h
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: flux-schnell, resolution: 2k, style: {prompt: "cancel me"}}
  - name: refresh
    every: 1h
    resources: [image_projects]
)");
  {
    Child run({MHLOADER_BIN, "run", "gen", "--config", s.config}, daemon_env());
    auto submitted = [&] {
      try {
        return s.count("SELECT count(*) FROM mhloader.submissions WHERE state = 'submitted'") == 1;
      } catch (const pqxx::sql_error&) {
        return false;  // the schema is not there yet
      }
    };
    for (int i = 0; i < 200 && !submitted(); ++i) std::this_thread::sleep_for(20ms);
    REQUIRE(submitted());
    run.signal(SIGINT);
    auto r = run.wait(20s);
    INFO(r.err);
    CHECK(r.exit_code == 1);  // cancelled
  }
  REQUIRE(s.text("SELECT state FROM mhloader.submissions") == "submitted");
  const std::string id = s.text("SELECT project_id FROM mhloader.submissions");
  REQUIRE(std::string(wait_for_project(sim, id).at("status").as_string()) == "complete");
  auto r = s.run("refresh");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(s.text("SELECT state FROM mhloader.submissions") == "complete");
  CHECK(s.count("SELECT credits_charged FROM mhloader.submissions") == 10);
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.image_projects WHERE status = 'complete'") == 1);
}

TEST_CASE("spend: the simulator bills images by the catalogue's resolution factors, `auto` at the plan's") {
  SimProcess pro({"--credits", "10000"});
  auto charge = [](const SimProcess& sim, const std::string& body) {
    auto r = sim_call(sim, "POST", "/v1/ai-image-generator", body);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return r.json().at("credits_charged").as_int64();
  };
  CHECK(charge(pro, R"({"image_count": 1, "model": "seedream", "resolution": "4k", "style": {"prompt": "x"}})") == 160);
  CHECK(charge(pro, R"({"image_count": 2, "model": "seedream-v4", "resolution": "2k", "style": {"prompt": "x"}})") ==
        160);
  CHECK(charge(pro, R"({"image_count": 3, "model": "seedream-v4", "resolution": "640px", "style": {"prompt": "x"}})") ==
        120);
  CHECK(charge(pro, R"({"image_count": 1, "model": "seedream-v4", "style": {"prompt": "x"}})") == 40);  // auto: 1k
  CHECK(sim_balance(pro) == 10000 - 160 - 160 - 120 - 40);
  SimProcess business({"--credits", "10000", "--tier", "business"});
  CHECK(charge(business, R"({"image_count": 1, "model": "seedream-v4", "style": {"prompt": "x"}})") == 80);  // 2k
  CHECK(charge(business,
               R"({"image_count": 1, "model": "nano-banana", "resolution": "auto", "style": {"prompt": "x"}})") ==
        50);  // its highest is 1k
}
