#include "schedule/scheduler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <list>

#include "async/blocking.hpp"
#include "async/spawn.hpp"
#include "db/ops.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "schedule/cron_schedule.hpp"
#include "schedule/time_zone.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace mh::schedule {
namespace asio = boost::asio;

struct JobLoop {
  config::JobConfig job;
  bool stopped = false;
  std::unique_ptr<asio::steady_timer> timer;
  std::optional<std::int64_t> next_run_ms;
  std::int64_t skipped = 0;
};

// A run in this process (its loop may be gone after a reload; the run is not).
struct Active {
  std::string job;
  std::string trigger;
  pipeline::RunControl* control;
};

// How trigger() learns that its run has an id (or never will).
struct TriggerWait {
  explicit TriggerWait(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool signalled = false;
  TriggerResult result;
  void signal(TriggerResult r) {
    if (signalled) return;
    signalled = true;
    result = std::move(r);
    timer.cancel();
  }
};

static LiveRun snapshot(const Active& a) {
  const pipeline::RunControl& c = *a.control;
  return LiveRun{c.run_id, a.trigger, c.cancellation.requested(), c.resources, c.credits_charged};
}

struct Scheduler::Impl {
  asio::io_context& io;
  ServicesFor services_for;
  std::shared_ptr<const config::Config> config;
  std::map<std::string, std::shared_ptr<JobLoop>> loops;
  bool stopped = false;
  int running = 0;
  std::list<Active> active;

  metrics::Metrics* metrics = nullptr;

  Impl(asio::io_context& i, ServicesFor s, std::shared_ptr<const config::Config> c)
      : io(i), services_for(std::move(s)), config(std::move(c)), metrics(services_for(config).metrics) {}

  // Sleeps until `at_ms` (wall clock); false if the loop was stopped meanwhile.
  asio::awaitable<bool> sleep_until(JobLoop& loop, std::int64_t at_ms) {
    while (!loop.stopped && !stopped) {
      std::int64_t now = util::now_epoch_ms();
      if (now >= at_ms) co_return true;
      // Re-check the wall clock at least every minute (suspend/resume, clock steps).
      loop.timer->expires_after(std::chrono::milliseconds(std::min<std::int64_t>(at_ms - now, 60'000)));
      co_await loop.timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return false;
  }

  const Active* active_run_of(const std::string& job) const {
    for (const auto& a : active) {
      if (a.job == job) return &a;
    }
    return nullptr;
  }

  void skip_tick(const std::string& job, const char* why) {
    if (auto it = loops.find(job); it != loops.end()) ++it->second->skipped;
    if (metrics) metrics->run_skipped(job);
    log::info(why, {{"job", job}});
  }

  // Reference and pointer parameters: no class temporaries in the co_await (README, "Coroutines and GCC 12").
  asio::awaitable<void> run_once(const std::shared_ptr<JobLoop>& loop, const char* trigger_text, TriggerWait* wait) {
    const std::string trigger = trigger_text;
    const std::string name = loop->job.name;
    if (stopped) {  // stop() came while this run was on its way (its cancel would miss it)
      if (wait) wait->signal({TriggerResult::Kind::stopping, 0, {}});
      co_return;
    }
    if (const Active* a = active_run_of(name)) {  // a manual run still going when the tick came
      if (wait) wait->signal({TriggerResult::Kind::already_running, a->control->run_id, {}});
      if (!wait) skip_tick(name, "tick skipped: the job is still running");
      co_return;
    }
    // The run's own copy: a reload may change the loop's job while the run goes.
    const config::JobConfig job = loop->job;
    pipeline::RunControl control;
    if (wait) control.on_started = [wait](std::int64_t id) { wait->signal({TriggerResult::Kind::started, id, {}}); };
    // The entry goes with this frame, also when shutdown destroys it suspended (a run abandoned
    // at shutdown_timeout): stop() must never reach a RunControl that is gone.
    struct Entry {
      Impl& impl;
      std::list<Active>::iterator it;
      ~Entry() {
        --impl.running;
        impl.active.erase(it);
      }
    } entry{*this, active.insert(active.end(), Active{name, trigger, &control})};
    ++running;
    pipeline::Services sv = services_for(config);
    try {
      pipeline::JobRunResult r = co_await pipeline::run_job(sv, job, trigger, control);
      if (r.locked_elsewhere) {
        if (wait) wait->signal({TriggerResult::Kind::locked_elsewhere, 0, {}});
        if (!wait) skip_tick(name, "tick skipped: the job runs in another mhloader process");
      }
    } catch (const std::exception& e) {
      log::error("run aborted", {{"job", name}, {"error", e.what()}});
      if (wait) wait->signal({TriggerResult::Kind::failed, 0, e.what()});
    }
    if (wait)
      wait->signal({TriggerResult::Kind::failed, 0, "the run ended before it had an id"});  // no-op if signalled
  }

  // A triggered run, spawned on its own (it owns its references, unlike run_once's callers).
  asio::awaitable<void> run_triggered(std::shared_ptr<JobLoop> loop, std::shared_ptr<TriggerWait> wait) {
    co_await run_once(loop, "manual", wait.get());
  }

  // Runs `step` (a blocking database call) until it succeeds: Postgres restarting
  // must delay a job's schedule, not end it. False if the loop stopped meanwhile.
  template <class F>
  asio::awaitable<bool> until_done(JobLoop& loop, asio::thread_pool& pool, const char* what, F& step) {
    std::chrono::milliseconds delay{1000};
    while (!loop.stopped && !stopped) {
      std::string error;
      try {
        co_await async::run_blocking(pool, step);
        co_return true;
      } catch (const std::exception& e) {
        error = e.what();
      }
      log::warn("cannot reach the job's state in Postgres; retrying",
                {{"job", loop.job.name}, {"step", what}, {"error", error}, {"retry_in_ms", delay.count()}});
      if (!co_await sleep_until(loop, util::now_epoch_ms() + delay.count())) break;
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
    }
    co_return false;
  }

  asio::awaitable<void> job_loop(std::shared_ptr<JobLoop> loop) {
    const config::JobConfig& job = loop->job;
    pipeline::Services sv = services_for(config);
    std::shared_ptr<const TimeZone> tz;
    try {
      const std::string tz_name = job.timezone;
      auto load_tz = [&] { return TimeZone::load(tz_name); };
      tz = co_await async::run_blocking(sv.blocking, load_tz);
    } catch (const std::exception& e) {
      log::error("cannot load the job's time zone; the job is not scheduled", {{"job", job.name}, {"error", e.what()}});
      co_return;
    }
    const std::string name = job.name;
    db::JobState st;
    auto state_q = [&] { st = db::get_job_state(sv.db, name); };
    if (!co_await until_done(*loop, sv.blocking, "read job state", state_q)) co_return;
    if (metrics && st.last_success_ms) metrics->set_last_success(name, *st.last_success_ms);

    // A run a dead process left `running` is taken up before anything else.
    bool interrupted = false;
    auto interrupted_q = [&] { interrupted = !db::interrupted_runs(sv.db, name).empty(); };
    if (!co_await until_done(*loop, sv.blocking, "find interrupted runs", interrupted_q)) co_return;
    if (interrupted && !loop->stopped && !stopped) co_await run_once(loop, "resume", nullptr);

    // After downtime: the most recent missed tick runs once (if the job ran before).
    std::int64_t now = util::now_epoch_ms();
    if (job.catch_up && (st.last_tick_ms || st.last_run_started_ms)) {
      std::int64_t since = st.last_tick_ms.value_or(*st.last_run_started_ms);
      auto prev = previous_tick_ms(job.schedule, *tz, now);
      if (prev && *prev > since && !loop->stopped && !stopped) {
        log::info("catching up a missed tick", {{"job", name}, {"tick", util::format_iso8601_ms(*prev)}});
        std::int64_t tick = *prev;
        auto mark = [&] { db::set_last_tick(sv.db, name, tick); };
        if (!co_await until_done(*loop, sv.blocking, "record the tick", mark)) co_return;
        co_await run_once(loop, "catch_up", nullptr);
      }
    }

    const std::uint64_t seed = jitter_seed(name);
    while (!loop->stopped && !stopped) {
      now = util::now_epoch_ms();
      auto next = next_tick_ms(job.schedule, *tz, now);
      if (!next) {  // manual: only triggers run it
        loop->next_run_ms.reset();
        if (metrics) metrics->set_next_run(name, std::nullopt);
        co_await sleep_until(*loop, std::numeric_limits<std::int64_t>::max());
        break;
      }
      std::int64_t fire = jittered(*next, job.jitter, seed);
      loop->next_run_ms = fire;
      if (metrics) metrics->set_next_run(name, fire);
      if (!co_await sleep_until(*loop, fire)) break;
      std::int64_t tick = *next;
      bool paused = false;
      auto mark = [&] { paused = db::set_last_tick(sv.db, name, tick); };
      if (!co_await until_done(*loop, sv.blocking, "record the tick", mark)) break;
      if (paused) {
        log::debug("tick skipped: the job is paused", {{"job", name}});
        continue;
      }
      co_await run_once(loop, "schedule", nullptr);
      // Ticks that came and went while the run ran are skipped, not queued.
      std::int64_t after = util::now_epoch_ms();
      std::int64_t missed = 0;
      for (auto t = next_tick_ms(job.schedule, *tz, tick); t && *t <= after && missed < 1000;
           t = next_tick_ms(job.schedule, *tz, *t)) {
        ++missed;
      }
      if (missed > 0) {
        loop->skipped += missed;
        for (std::int64_t i = 0; metrics && i < missed; ++i) metrics->run_skipped(name);
        log::warn("ticks skipped while the job was still running", {{"job", name}, {"skipped", missed}});
      }
    }
    loop->next_run_ms.reset();
  }

  void start_loop(const config::JobConfig& job) {
    auto loop = std::make_shared<JobLoop>();
    loop->job = job;
    loop->timer = std::make_unique<asio::steady_timer>(io);
    loops[job.name] = loop;
    // Not detached: an error ending a loop is logged (the job would silently stop otherwise).
    asio::co_spawn(io, job_loop(loop), [name = job.name](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::error("the job's schedule stopped on an error; reload or restart to resume it",
                   {{"job", name}, {"error", x.what()}});
      }
    });
  }

  static void stop_loop(JobLoop& loop) {
    loop.stopped = true;
    loop.timer->cancel();
  }
};

std::string describe(const config::JobSchedule& s) {
  switch (s.kind) {
    case config::JobSchedule::Kind::cron: return s.expression;
    case config::JobSchedule::Kind::every: return "every " + util::format_duration(s.every);
    case config::JobSchedule::Kind::manual: return "manual";
  }
  return "manual";
}

Scheduler::Scheduler(asio::io_context& io, ServicesFor services_for, std::shared_ptr<const config::Config> config)
    : impl_(std::make_shared<Impl>(io, std::move(services_for), std::move(config))) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  impl_->stopped = false;
  for (const auto& job : impl_->config->jobs) impl_->start_loop(job);
}

namespace {
bool same_job(const config::JobConfig& a, const config::JobConfig& b) {
  return a.schedule.kind == b.schedule.kind && a.schedule.expression == b.schedule.expression &&
         a.schedule.every == b.schedule.every && a.timezone == b.timezone && a.jitter == b.jitter &&
         a.catch_up == b.catch_up && a.credit_budget == b.credit_budget && a.resources == b.resources &&
         a.generate.size() == b.generate.size();
}
}  // namespace

void Scheduler::reload(std::shared_ptr<const config::Config> config) {
  impl_->config = std::move(config);
  if (impl_->stopped) return;  // shutting down: no new loops
  std::map<std::string, const config::JobConfig*> wanted;
  for (const auto& j : impl_->config->jobs) wanted[j.name] = &j;
  for (auto it = impl_->loops.begin(); it != impl_->loops.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || !same_job(it->second->job, *w->second)) {
      Impl::stop_loop(*it->second);  // a run in progress keeps its own config and finishes
      log::info(w == wanted.end() ? "job removed" : "job changed", {{"job", it->first}});
      it = impl_->loops.erase(it);
    } else {
      it->second->job = *w->second;
      ++it;
    }
  }
  for (const auto& j : impl_->config->jobs) {
    if (!impl_->loops.count(j.name)) impl_->start_loop(j);
  }
}

void Scheduler::stop() {
  impl_->stopped = true;
  for (auto& [name, loop] : impl_->loops) Impl::stop_loop(*loop);
  for (auto& a : impl_->active) a.control->cancellation.request();
}

bool Scheduler::idle() const { return impl_->running == 0; }

std::map<std::string, JobStatus> Scheduler::jobs() const {
  std::map<std::string, JobStatus> out;
  for (const auto& [name, loop] : impl_->loops) out.emplace(name, *job(name));
  return out;
}

std::optional<JobStatus> Scheduler::job(const std::string& name) const {
  auto it = impl_->loops.find(name);
  if (it == impl_->loops.end()) return std::nullopt;
  JobStatus s;
  s.next_run_ms = it->second->next_run_ms;
  if (const Active* a = impl_->active_run_of(name); a && a->control->status == "running") s.running = snapshot(*a);
  s.skipped_ticks = it->second->skipped;
  return s;
}

asio::awaitable<TriggerResult> Scheduler::trigger(const std::string& job) {
  auto it = impl_->loops.find(job);
  if (it == impl_->loops.end()) co_return TriggerResult{TriggerResult::Kind::unknown_job, 0, {}};
  if (impl_->stopped) co_return TriggerResult{TriggerResult::Kind::stopping, 0, {}};
  if (const Active* a = impl_->active_run_of(job)) {
    co_return TriggerResult{TriggerResult::Kind::already_running, a->control->run_id, {}};
  }
  auto wait = std::make_shared<TriggerWait>(impl_->io);
  async::spawn(impl_->io, impl_->run_triggered(it->second, wait), "triggered run");
  if (!wait->signalled) co_await wait->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return wait->result;
}

bool Scheduler::cancel(std::int64_t run_id) {
  for (auto& a : impl_->active) {
    if (a.control->run_id == run_id && a.control->status == "running") {
      a.control->cancellation.request();
      log::info("run cancel requested", {{"job", a.job}, {"run_id", run_id}});
      return true;
    }
  }
  return false;
}

std::optional<LiveRun> Scheduler::live(std::int64_t run_id) const {
  for (const auto& a : impl_->active) {
    if (a.control->run_id == run_id && a.control->status == "running") return snapshot(a);
  }
  return std::nullopt;
}

}  // namespace mh::schedule
