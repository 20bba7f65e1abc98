// A throwaway database and config for `mhloader run` against a simulator: the
// job tests (test_jobs.cpp, test_budget.cpp) build their cases on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <pqxx/pqxx>
#include <string>

#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

namespace mh::test {

struct Setup {
  TempDatabase db;
  TempDir dir;
  std::string config;

  // `extra`: top-level sections before `body`; `magic_hour`: more keys of that section.
  Setup(const SimProcess& sim, const std::string& body, const std::string& extra = "",
        const std::string& magic_hour = "  poll: {interval: 100ms, timeout: 30s}\n") {
    config = dir.write("mhloader.yaml", "state_dir: " + dir.path() + "/state\n" +
                                            "magic_hour:\n  base_url: " + sim.base_url() + "/v1\n" +
                                            "  api_key: sim-dev-key\n  retry: {max_attempts: 3, initial_delay: 20ms, "
                                            "max_delay: 100ms}\n" +
                                            magic_hour + "destination:\n  dsn: \"" + db.dsn() + "\"\n" + extra + body);
  }

  ProcessResult run(const std::string& job) const {
    ProcessOptions o = mh::test::daemon_env();
    o.timeout = std::chrono::seconds(60);
    return run_process({MHLOADER_BIN, "run", job, "--config", config}, o);
  }

  std::int64_t count(const std::string& sql) const {
    pqxx::connection c{db.dsn()};
    pqxx::read_transaction tx{c};
    return tx.exec1(sql)[0].as<std::int64_t>();
  }
  std::string text(const std::string& sql) const {
    pqxx::connection c{db.dsn()};
    pqxx::read_transaction tx{c};
    auto r = tx.exec1(sql);
    return r[0].is_null() ? "" : r[0].c_str();
  }
};

inline std::int64_t sim_jobs(const SimProcess& sim) {
  return curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64();
}

}  // namespace mh::test
