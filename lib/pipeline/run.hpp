// One run of a job: extract every resource and generation into one load
// package (normalized off the I/O thread as pages arrive), load it, and keep
// the run record in mhloader.runs current. Failures of a resource make the
// run `partial`; the other resources still load.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "async/cancel.hpp"
#include "config/config.hpp"
#include "extract/resources.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio
namespace mh::db {
class Pool;
}
namespace mh::load {
class Destination;
}
namespace mh::metrics {
class Metrics;
}
namespace mh::monitor {
class CreditMonitor;
class HealthMonitor;
}  // namespace mh::monitor

namespace mh::pipeline {

// What a run needs from the daemon. All references outlive the run.
struct Services {
  std::shared_ptr<const config::Config> config;
  boost::asio::io_context& io;
  boost::asio::thread_pool& blocking;
  db::Pool& db;
  magichour::Client& client;
  monitor::CreditMonitor& credits;
  monitor::HealthMonitor& health;
  load::Destination& destination;
  metrics::Metrics* metrics = nullptr;
  std::string instance;  // host:pid, recorded with each run
};

// The live view of a run, shared with whoever watches it (CLI progress, control plane).
struct RunControl {
  // Cancelling wakes the run's sleeping pollers too: see Cancellation.
  async::Cancellation cancellation;
  std::int64_t run_id = 0;
  std::string status = "running";
  std::vector<extract::ResourceOutcome> resources;
  std::int64_t credits_charged = 0;
  boost::json::object details;
  std::function<void(const RunControl&)> on_progress;   // called on the I/O thread
  std::function<void(std::int64_t run_id)> on_started;  // once the run has its id (the runs row exists)
  // Set by run_job: throws db::LockLost once the job lock is gone. Called on the
  // blocking pool every few seconds (a lost lock cancels the run) and before the
  // package is sealed, so a run that lost its claim loads nothing.
  std::function<void()> verify_claim;
};

struct RunOutcome {
  std::int64_t run_id = 0;
  std::string status;  // succeeded | failed | cancelled | skipped | partial
  std::int64_t rows = 0;
  std::int64_t credits_charged = 0;
  std::optional<std::string> load_id;
  std::map<std::string, std::uint64_t> table_rows;
  double load_seconds = 0;
  double seconds = 0;
  std::string error;
  std::vector<extract::ResourceOutcome> resources;
  boost::json::object details;
};

// Runs `job` now. With `resume_run_id`, takes up that interrupted run under its own id.
// The caller holds the job's advisory lock.
boost::asio::awaitable<RunOutcome> execute_run(Services& services, const config::JobConfig& job,
                                               const std::string& trigger, RunControl& control,
                                               std::optional<std::int64_t> resume_run_id);

}  // namespace mh::pipeline

namespace mh::pipeline {

struct JobRunResult {
  bool locked_elsewhere = false;  // another daemon runs this job now: nothing was done
  bool resumed = false;           // an interrupted run was taken up instead of starting a new one
  RunOutcome outcome;
};

// Takes the job's advisory lock, then resumes the job's interrupted run if it
// has one (and starts no other), else runs it anew.
boost::asio::awaitable<JobRunResult> run_job(Services& services, const config::JobConfig& job,
                                             const std::string& trigger, RunControl& control);

}  // namespace mh::pipeline
