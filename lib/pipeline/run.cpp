#include "pipeline/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <memory>

#include "async/blocking.hpp"
#include "async/spawn.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "load/destination.hpp"
#include "load/package_builder.hpp"
#include "load/pending.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "pipeline/generation.hpp"
#include "util/time.hpp"

namespace mh::pipeline {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using load::kSchemaName;

// Normalizes each page on the blocking pool into the run's package: the I/O
// thread never normalizes, and only one page per resource is in memory.
class PackageSink : public extract::PageSink {
 public:
  PackageSink(asio::thread_pool& pool, load::PackageBuilder& builder) : pool_(pool), builder_(builder) {}

  asio::awaitable<void> page(const normalize::Resource& resource, std::vector<json::value>& records) override {
    auto add = [&] {
      std::int64_t rejected = 0;
      std::string first;
      for (const auto& r : records) {
        try {
          builder_.add(resource, r);
        } catch (const normalize::Error& e) {
          if (rejected++ == 0) first = e.what();
        }
      }
      return std::make_pair(rejected, first);
    };
    auto [rejected, first] = co_await async::run_blocking(pool_, add);
    if (rejected > 0) {
      log::warn("records rejected by the normalizer",
                {{"resource", resource.name}, {"rejected", rejected}, {"first_error", first}});
    }
  }

  void begin(const normalize::Resource& resource) { builder_.begin_resource(resource); }

 private:
  asio::thread_pool& pool_;
  load::PackageBuilder& builder_;
};

// This run's part of dlt's pipeline state: the names, and each incremental
// resource's cursor at sources.<source>.resources.<resource>.incremental.<cursor_path>.
load::PipelineState pipeline_state(const config::Config& cfg, std::string_view destination_kind,
                                   const json::object& cursors) {
  load::PipelineState st{cfg.pipeline_name,
                         load::normalize_dataset_name(cfg.destination.dataset),
                         kSchemaName,
                         "dlt.destinations." + std::string(destination_kind),
                         {}};
  json::object resources;
  for (const auto& [name, c] : cursors) {
    const json::object* cursor = c.if_object();
    const config::ResourceConfig* user = cfg.find_resource(name);
    if (cursor == nullptr || user == nullptr || !user->incremental) continue;
    json::object entry;
    if (!user->incremental->initial_value.is_null()) entry["initial_value"] = user->incremental->initial_value;
    for (const char* key : {"last_value", "unique_hashes"}) {
      if (const json::value* v = cursor->if_contains(key)) entry[key] = *v;
    }
    resources[name] = json::object{{"incremental", json::object{{user->incremental->cursor_path, std::move(entry)}}}};
  }
  if (!resources.empty()) st.sources[kSchemaName] = json::object{{"resources", std::move(resources)}};
  return st;
}

struct EarlierLoads {
  std::vector<load::LoadResult> loaded;
  std::string blocked;  // why a pending package could not load, if one could not
};

EarlierLoads load_earlier_packages(const std::string& state_dir, load::Destination& destination) {
  EarlierLoads out;
  try {
    out.loaded = load::load_pending(state_dir, destination);
  } catch (const std::exception& e) {
    out.blocked = e.what();
  }
  return out;
}

// details.pending_loaded: the load ids of earlier runs' packages this run loaded first.
void note_pending_loaded(json::object& details, const std::vector<load::LoadResult>& loaded) {
  if (loaded.empty()) return;
  json::value& ids = details["pending_loaded"];
  if (!ids.is_array()) ids = json::array();
  for (const auto& r : loaded) ids.as_array().emplace_back(r.load_id);
}

std::string overall_status(const std::vector<extract::ResourceOutcome>& rs, bool cancelled, bool load_failed) {
  if (load_failed) return "failed";
  if (cancelled) return "cancelled";
  bool any_failed = false, any_ok = false, all_skipped = !rs.empty();
  for (const auto& r : rs) {
    any_failed = any_failed || r.status == "failed";
    any_ok = any_ok || r.status == "succeeded";
    all_skipped = all_skipped && r.status == "skipped";
  }
  if (any_failed) return any_ok ? "partial" : "failed";
  if (all_skipped) return "skipped";
  return "succeeded";
}

asio::awaitable<RunOutcome> run_body(Services& sv, const config::JobConfig& job, const std::string& trigger,
                                     RunControl& control, std::optional<std::int64_t> resume_run_id) {
  const auto cfg = sv.config;  // this run keeps the config it started with
  auto started = std::chrono::steady_clock::now();
  RunOutcome out;
  auto& db = sv.db;

  if (resume_run_id) {
    out.run_id = *resume_run_id;
  } else {
    auto create = [&] { return db::create_run(db, job.name, trigger, sv.instance); };
    out.run_id = co_await async::run_blocking(sv.blocking, create);
  }
  control.run_id = out.run_id;
  if (sv.metrics) sv.metrics->run_started(job.name);
  if (control.on_started) control.on_started(out.run_id);
  log::info("run started",
            {{"job", job.name}, {"run_id", out.run_id}, {"trigger", trigger}, {"resumed", resume_run_id.has_value()}});

  // As dlt does, packages earlier runs left load before this run extracts, so it starts from their
  // cursors. While one cannot load, a new run stops here; a resumed one goes on to take up its
  // generations, and its package then waits behind the blocker.
  auto pending_q = [&] { return load_earlier_packages(cfg->state_dir, sv.destination); };
  const EarlierLoads earlier = co_await async::run_blocking(sv.blocking, pending_q);
  note_pending_loaded(control.details, earlier.loaded);
  const bool skip_extract = !earlier.blocked.empty() && !resume_run_id;
  auto cursors_q = [&] { return db::job_cursors(db, job.name); };
  const json::object stored_cursors = co_await async::run_blocking(sv.blocking, cursors_q);
  auto projects_q = [&] { return db::known_projects(db); };
  std::vector<std::string> projects;
  if (std::find(job.resources.begin(), job.resources.end(), "image_projects") != job.resources.end()) {
    projects = co_await async::run_blocking(sv.blocking, projects_q);
  }

  // One package per run, normalized as pages arrive.
  auto open_schema = [&] { return load::starting_schema(sv.destination, cfg->state_dir, kSchemaName); };
  normalize::Schema schema = co_await async::run_blocking(sv.blocking, open_schema);
  auto open_builder = [&] { return std::make_unique<load::PackageBuilder>(cfg->state_dir, schema); };
  std::unique_ptr<load::PackageBuilder> builder = co_await async::run_blocking(sv.blocking, open_builder);
  PackageSink sink(sv.blocking, *builder);

  json::object cursors;
  // After each resource: the live view, and the runs row other processes read.
  auto progress = [&]() -> asio::awaitable<void> {
    if (control.on_progress) control.on_progress(control);
    std::int64_t rows = 0;
    for (const auto& r : control.resources) rows += r.records;
    json::value res = extract::to_json(control.resources);
    auto update = [&] { db::update_run(db, out.run_id, rows, control.credits_charged, res, control.details); };
    co_await async::run_blocking(sv.blocking, update);
  };

  extract::Context ctx{
      sv.client,           sv.credits, sv.health, magichour::CallOptions{job.name, 0, ""}, control.cancellation.flag(),
      std::move(projects), {}};
  // Final known projects are archived now and settled in the ledger once their records load.
  std::vector<ProjectSettlement> settled;
  ctx.on_project = [&sv, &ctx, &settled](magichour::Project& p) -> asio::awaitable<void> {
    std::optional<ProjectSettlement> s = co_await archive_known_project(sv, ctx.call, p);
    if (s) settled.push_back(std::move(*s));
  };
  for (const auto& name : job.resources) {
    if (skip_extract || control.cancellation.requested()) break;
    control.resources.push_back({name, "running"});
    std::size_t slot = control.resources.size() - 1;
    ctx.call.resource = name;
    ctx.progress = [&control, slot](const extract::ResourceOutcome& o) {
      control.resources[slot] = o;
      control.resources[slot].status = "running";
      if (control.on_progress) control.on_progress(control);
    };
    const config::ResourceConfig* user = cfg->find_resource(name);
    normalize::Resource hints = user ? extract::rest_hints(*user) : extract::builtin_hints(name);
    auto begin = [&] { sink.begin(hints); };
    co_await async::run_blocking(sv.blocking, begin);
    extract::ResourceOutcome outcome;
    if (user) {
      json::object previous;
      if (const json::value* c = stored_cursors.if_contains(name); c && c->is_object()) previous = c->as_object();
      outcome = co_await extract::extract_rest(*user, previous, ctx, sink);
      if (outcome.cursor) cursors[name] = *outcome.cursor;
    } else {
      outcome = co_await extract::extract_builtin(name, ctx, sink);
    }
    control.resources[slot] = outcome;
    if (outcome.status == "failed") {
      log::error("resource failed", {{"job", job.name}, {"resource", name}, {"error", outcome.error}});
    }
    co_await progress();
  }

  for (const auto& g : job.generate) {
    if (skip_extract || control.cancellation.requested()) break;
    control.resources.push_back({g.resource, "running"});
    std::size_t slot = control.resources.size() - 1;
    normalize::Resource hints{g.resource, normalize::WriteDisposition::merge, {"id"}, std::nullopt};
    auto begin = [&] { sink.begin(hints); };
    co_await async::run_blocking(sv.blocking, begin);
    GenerationOutcome gen = co_await run_generation(sv, job, g, out.run_id, resume_run_id.has_value(), control, sink);
    control.resources[slot] = gen.resource;
    if (gen.guard_stopped) control.details["credit_guard"] = gen.guard;
    co_await progress();
  }
  out.resources = control.resources;
  out.details = control.details;
  out.credits_charged = control.credits_charged;

  // Seal and load the package: one transaction, cursors included.
  bool load_failed = false;
  bool left_for_resume = false;
  try {
    if (skip_extract) throw std::runtime_error(earlier.blocked);
    if (control.verify_claim) co_await async::run_blocking(sv.blocking, control.verify_claim);
    if (!cursors.empty()) builder->set_job_cursors(load::JobCursors{job.name, cursors});
    builder->set_state(pipeline_state(*cfg, sv.destination.kind(), cursors));
    // Sealed and loaded in one blocking call: a complete package whose lock is held is always
    // being loaded, so runs waiting for it (load_in_order) never wait on a queued task.
    auto finish_and_load = [&] {
      load::Package package = builder->finish();
      return load::load_in_order(cfg->state_dir, package, builder->take_lock(), sv.destination);
    };
    load::OrderedLoad ordered = co_await async::run_blocking(sv.blocking, finish_and_load);
    const load::LoadResult& loaded = ordered.own;
    note_pending_loaded(out.details, ordered.earlier);
    out.load_id = loaded.load_id;
    out.rows = static_cast<std::int64_t>(loaded.rows);
    out.table_rows = loaded.table_rows;
    out.load_seconds = loaded.seconds;
  } catch (const db::LockLost& e) {
    load_failed = true;
    out.error = e.what();
    // Generated projects are paid for: their records must still load. The run row stays
    // `running`, so whoever holds the job lock next takes the run up and emits them from the
    // ledger, as after a crash. Other runs just end failed; the next run extracts again.
    left_for_resume = !job.generate.empty();
    log::error(left_for_resume ? "job lock lost; the run stops without loading and is left for the next lock "
                                 "holder to take up"
                               : "job lock lost; the run stops without loading",
               {{"job", job.name}, {"error", e.what()}});
  } catch (const std::exception& e) {
    load_failed = true;
    out.error = std::string("load failed: ") + e.what();
    log::error("load failed; the package stays for the next attempt", {{"job", job.name}, {"error", e.what()}});
  }

  out.status = overall_status(out.resources, control.cancellation.requested(), load_failed);
  if (out.error.empty()) {
    for (const auto& r : out.resources) {
      if (r.status == "failed") {
        out.error = r.name + ": " + r.error;
        break;
      }
    }
  }
  if (out.load_id && !settled.empty()) {
    // After the commit: a crash in between leaves the rows unsettled, and the next
    // image_projects fetches, archives (again, the same files) and loads them again.
    auto settle = [&] {
      try {
        settle_known_projects(sv, settled);
      } catch (const std::exception& e) {
        log::warn("cannot settle finished projects now; the next image_projects run does",
                  {{"job", job.name}, {"error", e.what()}});
      }
    };
    co_await async::run_blocking(sv.blocking, settle);
  }
  json::value res = extract::to_json(out.resources);
  std::optional<std::string> error = out.error.empty() ? std::nullopt : std::optional<std::string>(out.error);
  auto finish_row = [&] {
    db::finish_run(db, out.run_id, out.status, out.rows, out.credits_charged, out.load_id, error, res, out.details);
  };
  if (!left_for_resume) co_await async::run_blocking(sv.blocking, finish_row);
  control.status = out.status;  // after the row: whoever reads the live view next finds the row final
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log::info("run finished", {{"job", job.name},
                             {"run_id", out.run_id},
                             {"status", out.status},
                             {"rows", out.rows},
                             {"credits", out.credits_charged},
                             {"seconds", out.seconds}});
  if (sv.metrics) {
    sv.metrics->run_finished(job.name, out.status, out.seconds, out.table_rows);
    if (out.load_id) sv.metrics->load_finished(sv.destination.kind(), out.load_seconds);
    if (out.status == "succeeded") sv.metrics->set_last_success(job.name, util::now_epoch_ms());
  }
  if (control.on_progress) control.on_progress(control);
  co_return out;
}

}  // namespace

asio::awaitable<RunOutcome> execute_run(Services& sv, const config::JobConfig& job, const std::string& trigger,
                                        RunControl& control, std::optional<std::int64_t> resume_run_id) {
  const auto started = std::chrono::steady_clock::now();
  std::exception_ptr error;
  RunOutcome out;
  try {
    out = co_await run_body(sv, job, trigger, control, resume_run_id);
  } catch (...) {
    error = std::current_exception();
  }
  // A run that started (it has an id) but ended by an exception (Postgres gone, say):
  // the in-progress gauge comes down and the run counts as failed.
  if (error && sv.metrics && control.run_id != 0 && control.status == "running") {
    sv.metrics->run_finished(job.name, "failed",
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), {});
  }
  if (error) std::rethrow_exception(error);
  co_return out;
}

}  // namespace mh::pipeline

namespace mh::pipeline {
namespace {

// How often a running job checks that it still holds its lock (one small query
// on the lock's own connection).
constexpr std::chrono::seconds kClaimCheckInterval{2};

// The claim watcher's state, shared by run_job and the watcher coroutine.
struct ClaimWatch {
  explicit ClaimWatch(asio::io_context& io) : timer(io), exited_signal(io, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  asio::steady_timer exited_signal;  // cancelled when the watcher has returned
  bool stop = false;
  bool exited = false;
};

// While the run goes, checks the lock every kClaimCheckInterval; a lost lock
// cancels the run at once (no more submissions or pages), and the check before
// sealing the package then fails the run without loading anything.
asio::awaitable<void> watch_claim(Services& sv, std::string job, RunControl& control, std::shared_ptr<ClaimWatch> w) {
  constexpr auto token = asio::as_tuple(asio::use_awaitable);  // no temporary inside co_await (GCC 12)
  while (!w->stop) {
    w->timer.expires_after(kClaimCheckInterval);
    co_await w->timer.async_wait(token);
    if (w->stop || !control.verify_claim) break;
    try {
      co_await async::run_blocking(sv.blocking, control.verify_claim);
    } catch (const db::LockLost& e) {
      if (w->stop) break;  // the run is over; nothing left to stop
      log::error("job lock lost; cancelling the run", {{"job", job}, {"error", e.what()}});
      control.cancellation.request();
      break;
    }
  }
  w->exited = true;
  w->exited_signal.cancel();
}

}  // namespace

asio::awaitable<JobRunResult> run_job(Services& sv, const config::JobConfig& job, const std::string& trigger,
                                      RunControl& control) {
  JobRunResult result;
  // The pool's DSN, not the run's config copy: locks and data always meet in one database.
  auto lock_q = [&] { return db::JobLock::try_acquire(sv.db.dsn(), job.name); };
  std::unique_ptr<db::JobLock> lock = co_await async::run_blocking(sv.blocking, lock_q);
  if (!lock) {
    result.locked_elsewhere = true;
    co_return result;
  }
  // With the lock held, a run still marked `running` belongs to a process that died.
  auto interrupted_q = [&] { return db::interrupted_runs(sv.db, job.name); };
  std::vector<std::int64_t> interrupted = co_await async::run_blocking(sv.blocking, interrupted_q);
  std::optional<std::int64_t> resume;
  if (!interrupted.empty()) {
    resume = interrupted.back();
    result.resumed = true;
    log::warn("taking up an interrupted run", {{"job", job.name}, {"run_id", *resume}});
    // Older interrupted runs than the newest are closed as failed: one resumption per job.
    for (std::size_t i = 0; i + 1 < interrupted.size(); ++i) {
      std::int64_t id = interrupted[i];
      json::array none;
      json::object nothing;
      auto close = [&] {
        db::finish_run(sv.db, id, "failed", 0, 0, std::nullopt, std::string("interrupted; superseded by a later run"),
                       none, nothing);
      };
      co_await async::run_blocking(sv.blocking, close);
    }
  }
  const std::string how = resume ? std::string("resume") : trigger;
  control.verify_claim = [&lock] { lock->verify(); };
  auto watch = std::make_shared<ClaimWatch>(sv.io);
  async::spawn(sv.io, watch_claim(sv, job.name, control, watch), "run claim watch");
  std::exception_ptr error;
  try {
    result.outcome = co_await execute_run(sv, job, how, control, resume);
  } catch (...) {
    error = std::current_exception();
  }
  // The watcher uses the lock and `control`: it has returned before either goes.
  watch->stop = true;
  watch->timer.cancel();
  constexpr auto token = asio::as_tuple(asio::use_awaitable);  // no temporary inside co_await (GCC 12)
  while (!watch->exited) co_await watch->exited_signal.async_wait(token);
  control.verify_claim = nullptr;
  auto unlock = [&] { lock.reset(); };
  co_await async::run_blocking(sv.blocking, unlock);
  if (error) std::rethrow_exception(error);
  co_return result;
}

}  // namespace mh::pipeline
