// The operations schema's rows: runs, the generation ledger (submissions),
// per-job state (paused, cursors, last tick) and the per-job advisory lock.
// Blocking (libpqxx): call from the blocking pool.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/states.hpp"

namespace mh::db {

class Pool;

struct RunRow {
  std::int64_t id = 0;
  std::string job;
  std::string trigger;  // schedule | catch_up | manual | cli
  std::string status;   // running | succeeded | failed | cancelled | skipped | partial
  std::string started_at;
  std::optional<std::string> finished_at;
  std::optional<std::string> load_id;
  std::int64_t rows = 0;
  std::int64_t credits_charged = 0;
  std::optional<std::string> error;
  boost::json::value resources;  // [{name, status, pages, rows, error}]
  boost::json::object details;
};

std::int64_t create_run(Pool& pool, const std::string& job, const std::string& trigger, const std::string& instance);
// Progress while the run goes (and its heartbeat).
void update_run(Pool& pool, std::int64_t id, std::int64_t rows, std::int64_t credits,
                const boost::json::value& resources, const boost::json::object& details);
void finish_run(Pool& pool, std::int64_t id, const std::string& status, std::int64_t rows, std::int64_t credits,
                const std::optional<std::string>& load_id, const std::optional<std::string>& error,
                const boost::json::value& resources, const boost::json::object& details);
std::optional<RunRow> get_run(Pool& pool, std::int64_t id);
std::vector<RunRow> list_runs(Pool& pool, const std::optional<std::string>& job,
                              const std::optional<std::string>& status, int limit, std::optional<std::int64_t> before);
// Runs of `job` left `running` (by a process that died); the caller holds the job lock.
std::vector<std::int64_t> interrupted_runs(Pool& pool, const std::string& job);

struct Submission {
  std::string key;
  std::string job;
  std::int64_t run_id = 0;
  std::string resource;
  boost::json::object request;
  std::string state;  // pending | submitted | complete | error | canceled | timeout | uncertain | abandoned
  std::optional<std::string> project_id;
  std::optional<std::int64_t> credits_charged;
  std::int64_t credits_estimate = 0;
  std::optional<std::string> error;
  std::optional<boost::json::object> result;
  std::optional<std::string> source_file;
};

// Inserts the row in state `pending` (committed before the POST); returns false if the key exists.
bool insert_pending(Pool& pool, const Submission& s);
// The same for several rows in one transaction; returns the keys that were new.
std::vector<std::string> insert_pending(Pool& pool, const std::vector<Submission>& rows);
std::vector<Submission> get_submissions(Pool& pool, const std::vector<std::string>& keys);
std::optional<Submission> get_submission(Pool& pool, const std::string& key);
// The run's ledger rows of one resource, oldest first.
std::vector<Submission> submissions_of_run(Pool& pool, std::int64_t run_id, const std::string& resource);
std::vector<Submission> list_submissions(Pool& pool, const std::optional<std::string>& state, int limit);
void mark_submitted(Pool& pool, const std::string& key, const std::string& project_id, std::int64_t credits);
void set_submission_state(Pool& pool, const std::string& key, const std::string& state,
                          const std::optional<std::string>& error,
                          const std::optional<boost::json::object>& result = std::nullopt,
                          std::optional<std::int64_t> credits = std::nullopt);
// Credits committed by a run: charged where known, else the estimate (pending, uncertain);
// abandoned rows do not count. This is a run's "budget used" (docs/generation.md).
std::int64_t committed_credits(Pool& pool, std::int64_t run_id);

// What the credit guard weighs against a balance and a budget (docs/generation.md).
struct Spend {
  std::int64_t run_committed = 0;  // committed_credits() of the run
  // Every job's and process's rows the balance cannot show yet: the pending ones (at
  // their estimate) and those whose create answered or failed since the balance was
  // requested (charged where known, else the estimate); abandoned rows do not count.
  std::int64_t outstanding = 0;
};
enum class GuardedInsert { inserted, refused, exists };
// Check and insert in one step for every mhloader sharing the database: under a
// transaction-scoped advisory lock, reads the Spend of `row.run_id` against a balance
// requested at `balance_requested` (this process's steady clock), asks `decide`, and
// inserts `row` as pending only when it answers true. `exists`: the key is in the
// ledger already (decide is not asked).
GuardedInsert insert_pending_guarded(Pool& pool, const Submission& row,
                                     std::chrono::steady_clock::time_point balance_requested,
                                     const std::function<bool(const Spend&)>& decide);

// Project ids of submissions whose project is not final yet (`submitted`, or `timeout`:
// our poll gave up, the render may still finish), oldest first: image_projects refreshes them.
std::vector<std::string> known_projects(Pool& pool);
// A project image_projects found final: its ledger row (still submitted or timeout)
// takes the state, the charge and the result. Returns false when no such row is left.
bool settle_project(Pool& pool, const std::string& project_id, const std::string& state, std::int64_t credits,
                    const boost::json::object& result, const std::optional<std::string>& error);

struct JobState {
  bool paused = false;
  boost::json::object cursors;
  std::optional<std::int64_t> last_tick_ms;
  std::optional<std::int64_t> last_run_started_ms;
  std::optional<std::int64_t> last_success_ms;
};
JobState get_job_state(Pool& pool, const std::string& job);
// The jobs' pause flags and latest runs in one round trip (the control plane's job list);
// one index probe per job, however long the runs table.
struct JobOverview {
  bool paused = false;
  std::optional<RunRow> last_run;
  std::int64_t last_run_committed = 0;  // committed_credits() of last_run: its budget used
};
std::map<std::string, JobOverview> job_overview(Pool& pool, const std::vector<std::string>& jobs);
// Ledger rows per state (the mhloader_submissions gauge).
std::map<std::string, std::int64_t> submission_counts(Pool& pool);
// An operator's decision on an `uncertain` submission: `abandon` keeps the row as
// `abandoned` (never sent again); `retry` removes it, so a request planned again
// (a from_dir file) is submitted anew.
enum class ResolveOutcome { resolved, not_found, not_uncertain };
ResolveOutcome resolve_submission(Pool& pool, const std::string& key, const std::string& action);
void set_paused(Pool& pool, const std::string& job, bool paused);
// Records the tick and returns the pause flag (one round trip per tick).
bool set_last_tick(Pool& pool, const std::string& job, std::int64_t tick_ms);
// The job's incremental cursors per resource (what a run starts from).
boost::json::object job_cursors(Pool& pool, const std::string& job);

// The job lock's connection broke or the lock is gone: whoever held it no
// longer excludes other daemons, so the run must not go on to load.
class LockLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The job lock's 64-bit key: the first 8 bytes of SHA-256("mhloader.job:" + job).
std::int64_t job_lock_key(const std::string& job);

// pg_try_advisory_lock(bigint) per job on a connection of its own, held until release
// or destruction: several daemons can share one database and never run the same job at once.
class JobLock {
 public:
  static std::unique_ptr<JobLock> try_acquire(const std::string& dsn, const std::string& job);
  ~JobLock();
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

  // Throws LockLost unless the lock is still held on a live connection. Thread-safe.
  void verify();

  struct Impl;

 private:
  explicit JobLock(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::db
