// Runs jobs on their schedules inside `serve`: one loop per job (cron with a
// time zone, or `every:`), catch-up of the most recent missed tick after
// downtime, optional jitter, ticks skipped while the job still runs, the pause
// flag, and resumption of a run a crashed process left behind. The per-job
// advisory lock (in pipeline::run_job) keeps several daemons from running a job at once.
// It is also where the control plane starts (trigger), stops (cancel) and watches
// (jobs, live) the runs of this process.
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

// A run in progress in this process, as the control plane shows it.
struct LiveRun {
  std::int64_t run_id = 0;  // 0 until the runs row exists
  std::string trigger;
  bool cancel_requested = false;
  std::vector<extract::ResourceOutcome> resources;
  std::int64_t credits_charged = 0;
};

struct JobStatus {
  std::optional<std::int64_t> next_run_ms;
  std::optional<LiveRun> running;
  std::int64_t skipped_ticks = 0;
};

struct TriggerResult {
  enum class Kind { started, unknown_job, already_running, locked_elsewhere, stopping, failed };
  Kind kind = Kind::failed;
  std::int64_t run_id = 0;
  std::string error;  // kind == failed
};

// The schedule as the job list shows it: the cron text, "every 5m" or "manual".
std::string describe(const config::JobSchedule& schedule);

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

  // The scheduled jobs by name (a job appears once its loop runs: after the database is ready).
  std::map<std::string, JobStatus> jobs() const;
  std::optional<JobStatus> job(const std::string& name) const;

  // Starts a run of `job` now (also when paused: an operator's explicit request)
  // and completes once it has a run id, or could not start.
  boost::asio::awaitable<TriggerResult> trigger(const std::string& job);
  // Asks the run to stop (extraction, submissions and polling); what was
  // generated is still loaded. False if the run does not run in this process
  // (or has just ended: its record is final, only the lock is being released).
  bool cancel(std::int64_t run_id);
  std::optional<LiveRun> live(std::int64_t run_id) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mh::schedule
