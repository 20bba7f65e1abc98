// Runs jobs on their schedules inside `serve`: one loop per job (cron with a
// time zone, or `every:`), catch-up of the most recent missed tick after
// downtime, optional jitter, ticks skipped while the job still runs, the pause
// flag, and resumption of a run a crashed process left behind. The per-job
// advisory lock (in pipeline::run_job) keeps several daemons from running a job at once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "pipeline/run.hpp"

namespace mh::schedule {

struct JobStatus {
  std::string name;
  std::string schedule;  // the cron text, "every 5m" or "manual"
  bool paused = false;
  std::optional<std::int64_t> next_run_ms;
  std::optional<std::int64_t> running_run_id;
  std::int64_t skipped_ticks = 0;
};

class Scheduler {
 public:
  // `services` is rebuilt from the current config for each run (see reload).
  using ServicesFor = std::function<pipeline::Services(std::shared_ptr<const config::Config>)>;
  Scheduler(boost::asio::io_context& io, ServicesFor services_for, std::shared_ptr<const config::Config> config);
  ~Scheduler();

  void start();
  // Added jobs start, removed ones stop, changed ones restart their loop; a run
  // in progress finishes under the config it started with.
  void reload(std::shared_ptr<const config::Config> config);
  // Stops scheduling and cancels running runs (what was generated is still loaded).
  void stop();
  // True once no run is in progress.
  bool idle() const;

  std::vector<JobStatus> jobs() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mh::schedule
