// Generation throughput (docs/design.md §Performance targets): N requests against magichour-sim with a
// fixed render time and max_concurrency, through the real pipeline (ledger in
// PostgreSQL, creates, polling, load). Prints the wall time against the ideal
// schedule — every project renders in parallel, so ideal = one render time —
// and checks that nothing was submitted twice.
//   MHLOADER_TEST_PG_DSN=... bench_generation [N=200] [render_ms=2000] [max_concurrency=16]
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>

#include "app/runtime.hpp"
#include "config/load.hpp"
#include "db/migrate.hpp"
#include "log/log.hpp"
#include "pipeline/run.hpp"
#include "pipeline/validate_config.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace mh;

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200;
  int render_ms = argc > 2 ? std::atoi(argv[2]) : 2000;
  int concurrency = argc > 3 ? std::atoi(argv[3]) : 16;
  const char* admin = std::getenv("MHLOADER_TEST_PG_DSN");
  if (admin == nullptr) {
    std::cerr << "set MHLOADER_TEST_PG_DSN (source scripts/pg.sh && pg_up)\n";
    return 2;
  }
  std::string dbname = "bench_generation_" + std::to_string(::getpid());
  {
    pqxx::connection c{admin};
    pqxx::nontransaction tx{c};
    tx.exec0("CREATE DATABASE " + dbname);
  }
  test::Child sim({MAGICHOUR_SIM_BIN, "--listen", "127.0.0.1:0", "--credits", "100000000", "--render-time",
                   std::to_string(render_ms) + "ms"});
  std::string base = test::wait_for_sim_url(sim, std::chrono::seconds(10));
  test::TempDir dir;
  std::string yaml = "state_dir: " + dir.path() + "\nmagic_hour:\n  base_url: " + base +
                     "/v1\n  api_key: sim-dev-key\n  max_concurrency: " + std::to_string(concurrency) +
                     "\n  poll: {interval: 100ms, timeout: 5m}\ndestination:\n  dsn: \"" + std::string(admin) +
                     " dbname=" + dbname +
                     "\"\njobs:\n  - name: batch\n    every: 1h\n    generate:\n"
                     "      - resource: ai_image_generator\n        requests:\n";
  for (int i = 0; i < n; ++i) {
    yaml += "          - {image_count: 1, model: flux-schnell, style: {prompt: \"bench " + std::to_string(i) + "\"}}\n";
  }
  auto loaded = pipeline::load_config_string(yaml, "bench.yaml", dir.path());
  if (!loaded.config) {
    std::cerr << loaded.errors.front().to_string() << "\n";
    return 1;
  }
  log::set_level(log::Level::warn);
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  db::migrate(cfg->destination.dsn.value);
  double seconds = 0;
  pipeline::RunOutcome outcome;
  {
    app::Runtime rt(cfg);
    pipeline::Services services = rt.services();
    pipeline::RunControl control;
    const std::string trigger = "bench";
    auto start = std::chrono::steady_clock::now();
    outcome = rt.run_until(pipeline::run_job(services, cfg->jobs.front(), trigger, control)).outcome;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::int64_t jobs = 0, distinct = 0;
  {
    pqxx::connection c{std::string(cfg->destination.dsn.value)};
    pqxx::read_transaction tx{c};
    jobs = tx.exec1("SELECT count(*) FROM mhloader.submissions WHERE state = 'complete'")[0].as<std::int64_t>();
    distinct = tx.exec1("SELECT count(DISTINCT id) FROM magic_hour_data.ai_image_generator")[0].as<std::int64_t>();
  }
  double ideal = render_ms / 1000.0;
  std::cout << "generation: " << n << " requests, render " << render_ms << " ms, max_concurrency " << concurrency
            << "\n";
  std::cout << "  run status:      " << outcome.status << " (" << jobs << " complete, " << distinct
            << " distinct projects loaded, " << outcome.credits_charged << " credits)\n";
  std::cout << "  wall time:       " << seconds << " s\n";
  std::cout << "  ideal schedule:  " << ideal << " s (all render in parallel)\n";
  std::cout << "  ratio:           " << seconds / ideal << " (target <= 1.25)\n";
  sim.signal(SIGTERM);
  sim.wait(std::chrono::seconds(5));
  {
    pqxx::connection c{admin};
    pqxx::nontransaction tx{c};
    tx.exec0("DROP DATABASE IF EXISTS " + dbname + " WITH (FORCE)");
  }
  return jobs == n && distinct == n ? 0 : 1;
}
