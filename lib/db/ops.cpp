#include "db/ops.hpp"

#include <boost/json.hpp>
#include <mutex>
#include <pqxx/pqxx>

#include "db/migrate.hpp"
#include "db/pool.hpp"
#include "db/sql.hpp"
#include "util/hash.hpp"
#include "util/pg_text.hpp"

namespace mh::db {
namespace json = boost::json;

namespace {

std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

json::value parse(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return json::parse(f.c_str());
}

const std::string kRunColumns = "id, job, trigger, status, " + iso_utc("started_at") + ", " + iso_utc("finished_at") +
                                ", load_id, rows, credits_charged, error, resources, details";

RunRow run_from(const pqxx::row& r) {
  RunRow run;
  run.id = r[0].as<std::int64_t>();
  run.job = r[1].c_str();
  run.trigger = r[2].c_str();
  run.status = r[3].c_str();
  run.started_at = r[4].c_str();
  run.finished_at = opt(r[5]);
  run.load_id = opt(r[6]);
  run.rows = r[7].as<std::int64_t>();
  run.credits_charged = r[8].as<std::int64_t>();
  run.error = opt(r[9]);
  run.resources = parse(r[10]);
  json::value details = parse(r[11]);
  if (details.is_object()) run.details = details.as_object();
  return run;
}

// A run's committed spend over its ledger rows: charged where known, else estimated
// (the same sum in insert_pending_guarded).
constexpr const char* kCommittedSum =
    "coalesce(sum(coalesce(credits_charged, credits_estimate)) FILTER (WHERE state <> 'abandoned'), 0)::bigint";

const std::string kSubmissionColumns =
    "key, job, run_id, resource, request, state, project_id, credits_charged, credits_estimate, error, result, "
    "source_file";

Submission submission_from(const pqxx::row& r) {
  Submission s;
  s.key = r[0].c_str();
  s.job = r[1].c_str();
  s.run_id = r[2].as<std::int64_t>();
  s.resource = r[3].c_str();
  s.request = parse(r[4]).as_object();
  s.state = r[5].c_str();
  s.project_id = opt(r[6]);
  if (!r[7].is_null()) s.credits_charged = r[7].as<std::int64_t>();
  s.credits_estimate = r[8].as<std::int64_t>();
  s.error = opt(r[9]);
  if (!r[10].is_null()) s.result = parse(r[10]).as_object();
  s.source_file = opt(r[11]);
  return s;
}

}  // namespace

std::int64_t create_run(Pool& pool, const std::string& job, const std::string& trigger, const std::string& instance) {
  std::int64_t id = 0;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    id = tx.exec_params1(
               "INSERT INTO mhloader.runs (job, trigger, status, instance) VALUES ($1, $2, 'running', $3) "
               "RETURNING id",
               job, trigger, instance)[0]
             .as<std::int64_t>();
    tx.commit();
  });
  return id;
}

void update_run(Pool& pool, std::int64_t id, std::int64_t rows, std::int64_t credits, const json::value& resources,
                const json::object& details) {
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    tx.exec_params0(
        "UPDATE mhloader.runs SET rows = $2, credits_charged = $3, resources = $4::jsonb, "
        "details = $5::jsonb, heartbeat_at = now() WHERE id = $1",
        id, rows, credits, util::pg_json(resources), util::pg_json(details));
    tx.commit();
  });
}

void finish_run(Pool& pool, std::int64_t id, const std::string& status, std::int64_t rows, std::int64_t credits,
                const std::optional<std::string>& load_id, const std::optional<std::string>& error,
                const json::value& resources, const json::object& details) {
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    tx.exec_params0(
        "UPDATE mhloader.runs SET status = $2, rows = $3, credits_charged = $4, load_id = $5, error = $6, "
        "resources = $7::jsonb, details = $8::jsonb, finished_at = now(), heartbeat_at = now() "
        "WHERE id = $1",
        id, status, rows, credits, load_id, util::pg_text(error), util::pg_json(resources), util::pg_json(details));
    tx.commit();
  });
}

std::optional<RunRow> get_run(Pool& pool, std::int64_t id) {
  std::optional<RunRow> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    auto r = tx.exec_params("SELECT " + kRunColumns + " FROM mhloader.runs WHERE id = $1", id);
    if (!r.empty()) out = run_from(r[0]);
  });
  return out;
}

std::vector<RunRow> list_runs(Pool& pool, const std::optional<std::string>& job,
                              const std::optional<std::string>& status, int limit, std::optional<std::int64_t> before) {
  std::vector<RunRow> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    auto r = tx.exec_params("SELECT " + kRunColumns +
                                " FROM mhloader.runs WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR "
                                "status = $2) AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
                            job, status, before, limit);
    for (const auto& row : r) out.push_back(run_from(row));
  });
  return out;
}

std::vector<std::int64_t> interrupted_runs(Pool& pool, const std::string& job) {
  std::vector<std::int64_t> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row :
         tx.exec_params("SELECT id FROM mhloader.runs WHERE job = $1 AND status = 'running' ORDER BY id", job)) {
      out.push_back(row[0].as<std::int64_t>());
    }
  });
  return out;
}

bool insert_pending(Pool& pool, const Submission& s) {
  return !insert_pending(pool, std::vector<Submission>{s}).empty();
}

std::vector<std::string> insert_pending(Pool& pool, const std::vector<Submission>& rows) {
  std::vector<std::string> inserted;
  if (rows.empty()) return inserted;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    for (const auto& s : rows) {
      auto r = tx.exec_params(
          "INSERT INTO mhloader.submissions (key, job, run_id, resource, request, state, credits_estimate, "
          "source_file) VALUES ($1, $2, $3, $4, $5::jsonb, 'pending', $6, $7) ON CONFLICT (key) DO NOTHING "
          "RETURNING key",
          s.key, s.job, s.run_id, s.resource, util::pg_json(s.request), s.credits_estimate, s.source_file);
      if (!r.empty()) inserted.push_back(s.key);
    }
    tx.commit();
  });
  return inserted;
}

std::vector<Submission> get_submissions(Pool& pool, const std::vector<std::string>& keys) {
  std::vector<Submission> out;
  if (keys.empty()) return out;
  json::array list;
  for (const auto& k : keys) list.push_back(json::value(k));
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec_params("SELECT " + kSubmissionColumns +
                                              " FROM mhloader.submissions WHERE key IN (SELECT "
                                              "jsonb_array_elements_text($1::jsonb))",
                                          util::pg_json(list))) {
      out.push_back(submission_from(row));
    }
  });
  return out;
}

std::optional<Submission> get_submission(Pool& pool, const std::string& key) {
  auto rows = get_submissions(pool, {key});
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

std::vector<Submission> submissions_of_run(Pool& pool, std::int64_t run_id, const std::string& resource) {
  std::vector<Submission> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec_params("SELECT " + kSubmissionColumns +
                                              " FROM mhloader.submissions WHERE run_id = $1 AND resource = $2 "
                                              "ORDER BY created_at, key",
                                          run_id, resource)) {
      out.push_back(submission_from(row));
    }
  });
  return out;
}

std::vector<Submission> list_submissions(Pool& pool, const std::optional<std::string>& state, int limit) {
  std::vector<Submission> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec_params("SELECT " + kSubmissionColumns +
                                              " FROM mhloader.submissions WHERE ($1::text IS NULL OR state = $1) "
                                              "ORDER BY updated_at DESC LIMIT $2",
                                          state, limit)) {
      out.push_back(submission_from(row));
    }
  });
  return out;
}

void mark_submitted(Pool& pool, const std::string& key, const std::string& project_id, std::int64_t credits) {
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    tx.exec_params0(
        "UPDATE mhloader.submissions SET state = 'submitted', project_id = $2, credits_charged = $3, "
        "submitted_at = coalesce(submitted_at, now()), updated_at = now() WHERE key = $1",
        key, project_id, credits);
    tx.commit();
  });
}

void set_submission_state(Pool& pool, const std::string& key, const std::string& state,
                          const std::optional<std::string>& error, const std::optional<json::object>& result,
                          std::optional<std::int64_t> credits) {
  std::optional<std::string> result_text;
  if (result) result_text = util::pg_json(*result);
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    tx.exec_params0(
        "UPDATE mhloader.submissions SET state = $2, error = coalesce($3, error), "
        "result = coalesce($4::jsonb, result), credits_charged = coalesce($5, credits_charged), "
        "submitted_at = CASE WHEN $2 = 'pending' THEN submitted_at ELSE coalesce(submitted_at, now()) END, "
        "updated_at = now() WHERE key = $1",
        key, state, util::pg_text(error), result_text, credits);
    tx.commit();
  });
}

std::int64_t committed_credits(Pool& pool, std::int64_t run_id) {
  std::int64_t total = 0;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    total = tx.exec_params1("SELECT " + std::string(kCommittedSum) + " FROM mhloader.submissions WHERE run_id = $1",
                            run_id)[0]
                .as<std::int64_t>();
  });
  return total;
}

GuardedInsert insert_pending_guarded(Pool& pool, const Submission& s,
                                     std::chrono::steady_clock::time_point balance_requested,
                                     const std::function<bool(const Spend&)>& decide) {
  GuardedInsert out = GuardedInsert::refused;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    // One lock for every job and process on this database: two checks never read the
    // ledger at once, so each sees the other's pending row.
    tx.exec("SELECT pg_advisory_xact_lock(('x' || substr(md5('mhloader.credit_guard'), 1, 16))::bit(64)::bigint)");
    if (!tx.exec_params("SELECT 1 FROM mhloader.submissions WHERE key = $1", s.key).empty()) {
      out = GuardedInsert::exists;
      return;
    }
    // The window starts at the balance request, on the database's clock: now() (this
    // transaction's start, before the lock wait) minus the balance's age and a second more
    // for the time between reading our clock and the statement. Too early only counts more.
    auto age =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - balance_requested)
            .count() +
        1000;
    auto r = tx.exec_params1(
        "SELECT coalesce(sum(coalesce(credits_charged, credits_estimate)) FILTER (WHERE run_id = $1 AND state <> "
        "'abandoned'), 0)::bigint, coalesce(sum(coalesce(credits_charged, credits_estimate)) FILTER "
        "(WHERE state = 'pending' OR (state <> 'abandoned' AND submitted_at >= now() - $2 * interval "
        "'1 millisecond')), 0)::bigint FROM mhloader.submissions WHERE run_id = $1 OR state = 'pending' OR "
        "submitted_at >= now() - $2 * interval '1 millisecond'",
        s.run_id, age);
    Spend spend{r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
    if (!decide(spend)) return;
    tx.exec_params0(
        "INSERT INTO mhloader.submissions (key, job, run_id, resource, request, state, credits_estimate, "
        "source_file) VALUES ($1, $2, $3, $4, $5::jsonb, 'pending', $6, $7)",
        s.key, s.job, s.run_id, s.resource, util::pg_json(s.request), s.credits_estimate, s.source_file);
    tx.commit();
    out = GuardedInsert::inserted;
  });
  return out;
}

std::vector<std::string> known_projects(Pool& pool) {
  std::vector<std::string> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec("SELECT project_id FROM mhloader.submissions WHERE project_id IS NOT NULL AND "
                                   "state IN ('submitted', 'timeout') ORDER BY created_at")) {
      out.emplace_back(row[0].c_str());
    }
  });
  return out;
}

bool settle_project(Pool& pool, const std::string& project_id, const std::string& state, std::int64_t credits,
                    const json::object& result, const std::optional<std::string>& error) {
  bool updated = false;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    auto r = tx.exec_params(
        "UPDATE mhloader.submissions SET state = $2, credits_charged = $3, result = $4::jsonb, "
        "error = coalesce($5, error), updated_at = now() WHERE project_id = $1 AND state IN ('submitted', "
        "'timeout') RETURNING key",
        project_id, state, credits, util::pg_json(result), util::pg_text(error));
    tx.commit();
    updated = !r.empty();
  });
  return updated;
}

JobState get_job_state(Pool& pool, const std::string& job) {
  JobState st;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    auto r = tx.exec_params(
        "SELECT paused, cursors, (extract(epoch FROM last_tick_at) * 1000)::bigint, "
        "(SELECT (extract(epoch FROM max(started_at)) * 1000)::bigint FROM mhloader.runs WHERE job = $1), "
        "(SELECT (extract(epoch FROM max(finished_at)) * 1000)::bigint FROM mhloader.runs WHERE job = $1 AND "
        "status = 'succeeded') FROM mhloader.job_state WHERE job = $1",
        job);
    if (r.empty()) {
      auto runs = tx.exec_params1(
          "SELECT (extract(epoch FROM max(started_at)) * 1000)::bigint FROM mhloader.runs "
          "WHERE job = $1",
          job);
      if (!runs[0].is_null()) st.last_run_started_ms = runs[0].as<std::int64_t>();
      return;
    }
    st.paused = r[0][0].as<bool>();
    json::value cursors = parse(r[0][1]);
    if (cursors.is_object()) st.cursors = cursors.as_object();
    if (!r[0][2].is_null()) st.last_tick_ms = r[0][2].as<std::int64_t>();
    if (!r[0][3].is_null()) st.last_run_started_ms = r[0][3].as<std::int64_t>();
    if (!r[0][4].is_null()) st.last_success_ms = r[0][4].as<std::int64_t>();
  });
  return st;
}

std::map<std::string, JobOverview> job_overview(Pool& pool, const std::vector<std::string>& jobs) {
  std::map<std::string, JobOverview> out;
  json::array names;
  for (const auto& j : jobs) {
    names.push_back(json::value(j));
    out[j];
  }
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    const std::string list = util::pg_json(names);
    for (const auto& row : tx.exec_params(
             "SELECT job, paused FROM mhloader.job_state WHERE job IN (SELECT jsonb_array_elements_text($1::jsonb))",
             list)) {
      out[row[0].c_str()].paused = row[1].as<bool>();
    }
    for (const auto& row : tx.exec_params(
             "SELECT r.*, (SELECT " + std::string(kCommittedSum) +
                 " FROM mhloader.submissions s WHERE s.run_id = r.id) FROM jsonb_array_elements_text($1::jsonb) "
                 "AS j(name) CROSS JOIN LATERAL (SELECT " +
                 kRunColumns + " FROM mhloader.runs WHERE job = j.name ORDER BY id DESC LIMIT 1) r",
             list)) {
      RunRow run = run_from(row);
      auto& job = out[run.job];
      job.last_run_committed = row[12].as<std::int64_t>();
      job.last_run = std::move(run);
    }
  });
  return out;
}

std::map<std::string, std::int64_t> submission_counts(Pool& pool) {
  std::map<std::string, std::int64_t> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    for (const auto& row : tx.exec("SELECT state, count(*) FROM mhloader.submissions GROUP BY state")) {
      out[row[0].c_str()] = row[1].as<std::int64_t>();
    }
  });
  return out;
}

ResolveOutcome resolve_submission(Pool& pool, const std::string& key, const std::string& action) {
  ResolveOutcome out = ResolveOutcome::not_found;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    auto r = tx.exec_params("SELECT state FROM mhloader.submissions WHERE key = $1 FOR UPDATE", key);
    if (r.empty()) return;
    if (std::string(r[0][0].c_str()) != "uncertain") {
      out = ResolveOutcome::not_uncertain;
      return;
    }
    if (action == "abandon") {
      tx.exec_params0(
          "UPDATE mhloader.submissions SET state = 'abandoned', error = coalesce(error, '') || ' (abandoned by an "
          "operator)', updated_at = now() WHERE key = $1",
          key);
    } else {
      tx.exec_params0("DELETE FROM mhloader.submissions WHERE key = $1", key);
    }
    tx.commit();
    out = ResolveOutcome::resolved;
  });
  return out;
}

void set_paused(Pool& pool, const std::string& job, bool paused) {
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    tx.exec_params0(
        "INSERT INTO mhloader.job_state (job, paused) VALUES ($1, $2) ON CONFLICT (job) DO UPDATE SET "
        "paused = EXCLUDED.paused, updated_at = now()",
        job, paused);
    tx.commit();
  });
}

bool set_last_tick(Pool& pool, const std::string& job, std::int64_t tick_ms) {
  bool paused = false;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::work tx{c};
    paused = tx.exec_params1(
                   "INSERT INTO mhloader.job_state (job, last_tick_at) VALUES ($1, to_timestamp($2 / 1000.0)) "
                   "ON CONFLICT (job) DO UPDATE SET last_tick_at = EXCLUDED.last_tick_at, updated_at = now() "
                   "RETURNING paused",
                   job, tick_ms)[0]
                 .as<bool>();
    tx.commit();
  });
  return paused;
}

json::object job_cursors(Pool& pool, const std::string& job) {
  json::object out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    auto r = tx.exec_params("SELECT cursors FROM mhloader.job_state WHERE job = $1", job);
    if (r.empty()) return;
    json::value v = parse(r[0][0]);
    if (v.is_object()) out = std::move(v.as_object());
  });
  return out;
}

std::int64_t job_lock_key(const std::string& job) {
  util::Sha256 h;
  h.update("mhloader.job:");
  h.update(job);
  const std::string d = h.digest();
  std::uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | static_cast<unsigned char>(d[static_cast<std::size_t>(i)]);
  return static_cast<std::int64_t>(key);  // two's complement: the full bigint range
}

// Records messages the server sends on the lock's connection. The lock's statements
// raise none, so one arriving while idle is the server ending the session (FATAL
// "terminating connection ...").
struct ServerMessages : pqxx::errorhandler {
  explicit ServerMessages(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      last = msg;
    } catch (...) {
    }
    seen = true;
    return false;  // ours alone: not logged by libpqxx's default handler
  }
  bool seen = false;
  std::string last;
};

struct JobLock::Impl {
  std::mutex mu;  // verify() runs from the run and from its watcher: one statement at a time
  pqxx::connection conn;
  ServerMessages messages{conn};
  bool dead = false;  // ended by the server: no statement is sent on it again
  std::string job;
  std::int64_t key = 0;
  explicit Impl(const std::string& dsn) : conn(lock_dsn(dsn)) {}

  // TCP keepalives and a user timeout: after a silent network drop (no RST) verify()'s query
  // must fail within seconds, not block a pool thread (and the run's check) until TCP gives up.
  static std::string lock_dsn(const std::string& dsn) {
    std::string out = with_connect_timeout(dsn, 10);
    const bool uri = out.starts_with("postgresql://") || out.starts_with("postgres://");
    for (const char* kv : {"keepalives=1", "keepalives_idle=10", "keepalives_interval=5", "keepalives_count=3",
                           "tcp_user_timeout=30000"}) {
      const std::string_view key(kv, std::string_view(kv).find('='));
      if (out.find(key) != std::string::npos) continue;
      out += uri ? (out.find('?') == std::string::npos ? "?" : "&") : (out.empty() ? "" : " ");
      out += kv;
    }
    return out;
  }
};

JobLock::JobLock(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<JobLock> JobLock::try_acquire(const std::string& dsn, const std::string& job) {
  auto impl = std::make_unique<Impl>(dsn);
  impl->job = job;
  impl->key = job_lock_key(job);
  pqxx::nontransaction tx{impl->conn};
  tx.exec0("SET statement_timeout = '10s'");  // the lock's own statements are all short
  bool got = tx.exec_params1("SELECT pg_try_advisory_lock($1::bigint)", impl->key)[0].as<bool>();
  if (!got) return nullptr;
  return std::unique_ptr<JobLock>(new JobLock(std::move(impl)));
}

void JobLock::verify() {
  std::lock_guard<std::mutex> guard(impl_->mu);
  bool held = false;
  try {
    // Reads what the server sent while the connection sat idle: a terminated backend's
    // FATAL shows here, before any query (libpqxx 6.4 leaks the PGresult of a query that
    // finds the connection broken, which is exactly the case this checks for).
    if (!impl_->dead) impl_->conn.get_notifs();
    if (impl_->messages.seen) impl_->dead = true;
    if (impl_->dead || !impl_->conn.is_open()) {
      impl_->dead = true;
      throw std::runtime_error(impl_->messages.last.empty() ? std::string("the connection is closed")
                                                            : impl_->messages.last);
    }
    pqxx::nontransaction tx{impl_->conn};
    // A bigint key is (classid, objid) = (high, low 32 bits) with objsubid 1.
    held = tx.exec1(
                 "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                 "pid = pg_backend_pid() AND objsubid = 1 AND "
                 "((classid::bigint << 32) | objid::bigint) = " +
                 std::to_string(impl_->key))[0]
               .as<bool>();
  } catch (const std::exception& e) {
    impl_->dead = true;
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw LockLost("the lock of job " + impl_->job + " is lost: its connection failed (" + why + ")");
  }
  if (!held) throw LockLost("the lock of job " + impl_->job + " is no longer held");
}

JobLock::~JobLock() {
  std::lock_guard<std::mutex> guard(impl_->mu);
  if (impl_->dead || !impl_->conn.is_open()) return;  // a broken connection holds no lock any more
  try {
    pqxx::nontransaction tx{impl_->conn};
    tx.exec_params("SELECT pg_advisory_unlock($1::bigint)", impl_->key);
  } catch (...) {
    // Closing the connection releases the lock anyway.
  }
}

}  // namespace mh::db
