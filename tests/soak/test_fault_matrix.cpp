// Fault-matrix soak (issue 13 point 11): `mhloader serve` runs a bulk job and a
// generation job against magichour-sim for over two minutes while the simulator
// answers 10 % of API requests with a 5xx, 5 % with a 429, resets 2 % and sends
// bad JSON for 1 %. Rows must come out exact, no create may reach the ledger
// twice, and the control plane must answer /-/healthy throughout.
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

using namespace mh::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSavedItems = 400;
constexpr int kRequests = 6;

// The simulator tries rules in order and the first that fires decides, so each
// rate is conditional on the earlier ones not firing: these give 10 / 5 / 2 / 1 %
// of all requests.
std::vector<std::string> fault_args() {
  auto rate = [](double share, double taken) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.5f", share / (1.0 - taken));
    return std::string(buf);
  };
  return {"--saved-items", std::to_string(kSavedItems),
          "--render-time", "300ms",
          "--seed",        "13",
          "--fault",       "* * status=503 rate=" + rate(0.10, 0.0),
          "--fault",       "* * status=429 retry_after=0 rate=" + rate(0.05, 0.10),
          "--fault",       "* * reset rate=" + rate(0.02, 0.15),
          "--fault",       "* * bad_json rate=" + rate(0.01, 0.17)};
}

std::string config_yaml(const SimProcess& sim, const TempDatabase& db, const std::string& dir) {
  std::string requests;
  for (int i = 0; i < kRequests; ++i) {
    requests += "          - {image_count: 1, style: {prompt: \"soak " + std::to_string(i) + "\"}}\n";
  }
  return "state_dir: " + dir + "/state\nmagic_hour:\n  base_url: " + sim.base_url() +
         "/v1\n  api_key: sim-dev-key\n  retry: {max_attempts: 8, initial_delay: 10ms, max_delay: 200ms}\n"
         "  poll: {interval: 200ms, timeout: 2m}\ndestination:\n  dsn: \"" +
         db.dsn() +
         "\"\ncontrol: {listen: \"127.0.0.1:0\"}\nmonitor:\n  credits: {interval: 1h}\n  health: {interval: 1h}\n"
         "resources:\n  - name: saved_items\n    endpoint:\n      path: saved-items\n      params: {limit: 50}\n"
         "      data_selector: items\n      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}\n"
         "    primary_key: id\n    write_disposition: merge\n"
         "jobs:\n  - name: bulk\n    every: 2s\n    resources: [saved_items]\n"
         "  - name: generate\n    every: 2s\n    generate:\n      - resource: ai_image_generator\n        requests:\n" +
         requests;
}

std::int64_t count(const TempDatabase& db, const std::string& sql) {
  pqxx::connection c{db.dsn()};
  pqxx::read_transaction tx{c};
  return tx.exec1(sql)[0].as<std::int64_t>();
}

}  // namespace

TEST_CASE("fault matrix: bulk and generation jobs under the fault matrix stay exact and the daemon healthy") {
  SimProcess sim(fault_args());
  TempDatabase db;
  TempDir dir;
  std::string file = dir.write("mhloader.yaml", config_yaml(sim, db, dir.path()));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, daemon_env());
  REQUIRE_MESSAGE(daemon.wait_for_err("msg=\"control plane listening\"", 30s), daemon.err());
  std::smatch m;
  std::string err = daemon.err();
  REQUIRE(std::regex_search(err, m, std::regex(R"(listen=127\.0\.0\.1:(\d+))")));
  const std::string healthy = "http://127.0.0.1:" + m[1].str() + "/-/healthy";

  // Two minutes of runs, /-/healthy polled all along (every probe must answer 200).
  const auto soak_end = std::chrono::steady_clock::now() + 125s;
  int probes = 0, unhealthy = 0;
  CurlOptions quick;
  quick.max_time_s = 5;
  while (std::chrono::steady_clock::now() < soak_end) {
    auto r = curl("GET", healthy, quick);
    ++probes;
    if (r.curl_exit != 0 || r.status != 200) ++unhealthy;
    std::this_thread::sleep_for(250ms);
  }
  CHECK(probes > 100);
  CHECK(unhealthy == 0);
  daemon.signal(SIGTERM);
  auto exit = daemon.wait(60s);
  INFO(daemon.err().substr(daemon.err().size() > 4000 ? daemon.err().size() - 4000 : 0));
  CHECK_FALSE(exit.timed_out);
  CHECK(exit.exit_code == 0);

  // Many runs of each job happened, and the faults really fired.
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'bulk' AND status = 'succeeded'") >= 5);
  CHECK(count(db, "SELECT count(*) FROM mhloader.runs WHERE job = 'generate'") >= 5);
  auto faults = curl("GET", sim.base_url() + "/_sim/faults").json().at("faults").as_array();
  for (const auto& f : faults) CHECK(f.at("fired").as_int64() > 0);

  // Bulk: exactly every saved item, once (merge on the primary key).
  CHECK(count(db, "SELECT count(*) FROM magic_hour_data.saved_items") == kSavedItems);
  CHECK(count(db, "SELECT count(DISTINCT id) FROM magic_hour_data.saved_items") == kSavedItems);

  // Generation: each run submits its requests; every create the daemon sent is in the
  // simulator's ledger exactly once (never resent after a fault), every project the
  // daemon learned of is one row, and a create whose answer was lost is `uncertain`.
  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json().as_object();
  std::set<std::string> billed;
  for (const auto& c : ledger.at("creates").as_array()) billed.insert(std::string(c.at("project_id").as_string()));
  const std::int64_t created = ledger.at("jobs").as_int64();
  CHECK(created >= 5);
  CHECK(static_cast<std::int64_t>(billed.size()) == created);
  const std::int64_t known = count(db, "SELECT count(*) FROM mhloader.submissions WHERE project_id IS NOT NULL");
  CHECK(count(db, "SELECT count(DISTINCT project_id) FROM mhloader.submissions") == known);
  {
    pqxx::connection c{db.dsn()};
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec("SELECT project_id FROM mhloader.submissions WHERE project_id IS NOT NULL")) {
      CHECK(billed.count(row[0].c_str()) == 1);
    }
  }
  const std::int64_t uncertain = count(db, "SELECT count(*) FROM mhloader.submissions WHERE state = 'uncertain'");
  CHECK(created - known <= uncertain);
  CHECK(count(db, "SELECT count(*) FROM mhloader.submissions") ==
        kRequests * count(db, "SELECT count(DISTINCT run_id) FROM mhloader.submissions"));
  CHECK(count(db, "SELECT count(*) FROM magic_hour_data.ai_image_generator") == known);
  CHECK(count(db, "SELECT count(DISTINCT id) FROM magic_hour_data.ai_image_generator") == known);
}
