#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>

#include "db/states.hpp"
#include "metrics/process.hpp"

namespace mh::metrics {

namespace {

namespace pm = prometheus;

const pm::Histogram::BucketBoundaries kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
// Runs and loads take seconds to an hour.
const pm::Histogram::BucketBoundaries kRunBuckets{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
// The control plane answers in microseconds to milliseconds.
const pm::Histogram::BucketBoundaries kControlBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1};

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
  pm::Registry& r = *registry;
  // Every family with its HELP and TYPE lines (see serialize()).
  std::vector<std::pair<std::string, std::string>> declared;  // name, "# HELP …\n# TYPE …\n"

  void declare(const char* name, const char* help, const char* type) {
    declared.emplace_back(name, std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n");
  }
  pm::Family<pm::Counter>& counter(pm::Registry& reg, const char* name, const char* help) {
    declare(name, help, "counter");
    return pm::BuildCounter().Name(name).Help(help).Register(reg);
  }
  pm::Family<pm::Gauge>& gauge(pm::Registry& reg, const char* name, const char* help) {
    declare(name, help, "gauge");
    return pm::BuildGauge().Name(name).Help(help).Register(reg);
  }
  pm::Family<pm::Histogram>& histogram(pm::Registry& reg, const char* name, const char* help) {
    declare(name, help, "histogram");
    return pm::BuildHistogram().Name(name).Help(help).Register(reg);
  }
  pm::Family<pm::Gauge>& build_info = gauge(r, "mhloader_build_info", "Build version and revision; always 1");

  pm::Family<pm::Counter>& runs = counter(r, "mhloader_runs_total", "Finished runs (and skipped ticks) by outcome");
  pm::Family<pm::Histogram>& run_duration =
      histogram(r, "mhloader_run_duration_seconds", "Wall time of a run, extraction to load");
  pm::Family<pm::Gauge>& run_in_progress = gauge(r, "mhloader_run_in_progress", "1 while the job runs here");
  pm::Family<pm::Gauge>& last_success =
      gauge(r, "mhloader_last_success_timestamp_seconds", "When the job last finished a run that succeeded");
  pm::Family<pm::Gauge>& next_run =
      gauge(r, "mhloader_next_run_timestamp_seconds", "When the job's next scheduled run is due (0: manual only)");
  pm::Family<pm::Counter>& rows_loaded =
      counter(r, "mhloader_rows_loaded_total", "Rows loaded into the destination per job and table");
  pm::Family<pm::Histogram>& load_duration =
      histogram(r, "mhloader_load_duration_seconds", "Duration of a load package's load (one transaction)");

  pm::Family<pm::Counter>& upstream_requests =
      counter(r, "mhloader_upstream_requests_total",
              "Requests to Magic Hour by endpoint template and HTTP status (or transport failure)");
  pm::Family<pm::Histogram>& upstream_duration = histogram(r, "mhloader_upstream_request_duration_seconds",
                                                           "Duration of requests to Magic Hour by endpoint template");
  pm::Family<pm::Counter>& upstream_retries =
      counter(r, "mhloader_upstream_retries_total", "Retried requests to Magic Hour by reason");
  pm::Gauge& upstream_up =
      gauge(r, "mhloader_upstream_up", "1 when the last Magic Hour health probe succeeded").Add({});
  pm::Gauge& credits_balance = gauge(r, "mhloader_credits_balance", "Last observed Magic Hour credit balance").Add({});
  pm::Gauge& credits_low =
      gauge(r, "mhloader_credits_low", "1 when the balance is below monitor.credits.low_balance").Add({});
  pm::Family<pm::Counter>& credits_charged =
      counter(r, "mhloader_credits_charged_total", "Credits charged by Magic Hour per resource");
  // Issue 12 added the budget gauges (docs/control-plane.md §Metrics lists them).
  pm::Family<pm::Gauge>& credit_budget =
      gauge(r, "mhloader_credits_budget", "The job's credit_budget per run (only jobs that have one)");
  pm::Family<pm::Gauge>& credit_budget_used =
      gauge(r, "mhloader_credits_budget_used",
            "Credits the job's latest run in this process has committed: charged where known, else estimated");
  pm::Family<pm::Gauge>& submissions =
      gauge(r, "mhloader_submissions", "Generation ledger rows per state (mhloader.submissions)");
  pm::Gauge& postgres_up = gauge(r, "mhloader_postgres_up", "1 when the last Postgres probe succeeded").Add({});
  pm::Gauge& reload_ok =
      gauge(r, "mhloader_config_last_reload_successful", "0 when the last configuration reload was rejected").Add({});
  pm::Family<pm::Counter>& control_requests =
      counter(r, "mhloader_control_requests_total", "Control-plane requests by route template and status");
  pm::Family<pm::Histogram>& control_duration =
      histogram(r, "mhloader_control_request_duration_seconds", "Control-plane request duration by route template");

  pm::Gauge& process_rss = gauge(r, "process_resident_memory_bytes", "Resident memory size in bytes").Add({});
  pm::Counter& process_cpu =
      counter(r, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds").Add({});
  pm::Gauge& process_fds = gauge(r, "process_open_fds", "Number of open file descriptors").Add({});
  pm::Gauge& process_start =
      gauge(r, "process_start_time_seconds", "Start time of the process since the Unix epoch in seconds").Add({});
  std::mutex process_mu;  // scrapes may overlap
  double cpu_reported = 0;

  void declare_job(const std::string& job) {
    for (const char* o : db::kRunStatuses) {
      if (std::string_view(o) != "running") runs.Add({{"job", job}, {"outcome", o}});  // outcomes only
    }
    run_duration.Add({{"job", job}}, kRunBuckets);
    run_in_progress.Add({{"job", job}});
    last_success.Add({{"job", job}});
    next_run.Add({{"job", job}});
    credit_budget_used.Add({{"job", job}});
  }

  void update_process() {
    auto s = read_process_stats();
    if (!s) return;
    std::lock_guard lock(process_mu);
    process_rss.Set(s->resident_memory_bytes);
    process_fds.Set(s->open_fds);
    process_start.Set(s->start_time_seconds);
    if (s->cpu_seconds > cpu_reported) {
      process_cpu.Increment(s->cpu_seconds - cpu_reported);
      cpu_reported = s->cpu_seconds;
    }
  }
};

Metrics::Metrics(const std::string& version, const std::string& revision) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", version}, {"revision", revision}}).Set(1);
  // Known label sets start at 0, so rate() and absent() work from the first scrape.
  for (const char* r : {"ai_image_generator", "ai_image_upscaler"}) impl_->credits_charged.Add({{"resource", r}});
  for (const char* s : db::kSubmissionStates) impl_->submissions.Add({{"state", s}});
  for (const char* d : {"postgres", "filesystem"}) impl_->load_duration.Add({{"destination", d}}, kRunBuckets);
  impl_->reload_ok.Set(1);
}

Metrics::~Metrics() = default;

void Metrics::upstream_request(std::string_view endpoint, std::string_view code, double seconds) {
  std::string e(endpoint);
  impl_->upstream_requests.Add({{"endpoint", e}, {"code", str(code)}}).Increment();
  impl_->upstream_duration.Add({{"endpoint", e}}, kLatencyBuckets).Observe(seconds);
}

void Metrics::upstream_retry(std::string_view endpoint, std::string_view reason) {
  impl_->upstream_retries.Add({{"endpoint", str(endpoint)}, {"reason", str(reason)}}).Increment();
}

void Metrics::set_upstream_up(bool up) { impl_->upstream_up.Set(up ? 1 : 0); }

void Metrics::set_credits(std::int64_t balance, bool low) {
  impl_->credits_balance.Set(static_cast<double>(balance));
  impl_->credits_low.Set(low ? 1 : 0);
}

void Metrics::credits_charged(std::string_view resource, std::int64_t credits) {
  impl_->credits_charged.Add({{"resource", str(resource)}}).Increment(static_cast<double>(credits));
}

void Metrics::declare_jobs(const std::vector<std::string>& jobs) {
  for (const auto& j : jobs) impl_->declare_job(j);
}

void Metrics::run_started(std::string_view job) { impl_->run_in_progress.Add({{"job", str(job)}}).Increment(); }

void Metrics::run_finished(std::string_view job, std::string_view outcome, double seconds,
                           const std::map<std::string, std::uint64_t>& table_rows) {
  const std::string j(job);
  impl_->run_in_progress.Add({{"job", j}}).Decrement();
  impl_->runs.Add({{"job", j}, {"outcome", str(outcome)}}).Increment();
  impl_->run_duration.Add({{"job", j}}, kRunBuckets).Observe(seconds);
  std::map<std::string, std::uint64_t> by_root;
  for (const auto& [table, rows] : table_rows) {
    // dlt names a nested table <parent>__<key>; the part before the first `__` is the
    // configured resource's table (or a _dlt_ system table).
    const auto sep = table.find("__", 1);
    by_root[table.substr(0, sep)] += rows;
  }
  for (const auto& [table, rows] : by_root) {
    impl_->rows_loaded.Add({{"job", j}, {"table", table}}).Increment(static_cast<double>(rows));
  }
}

void Metrics::run_skipped(std::string_view job) {
  impl_->runs.Add({{"job", str(job)}, {"outcome", "skipped"}}).Increment();
}

void Metrics::set_next_run(std::string_view job, std::optional<std::int64_t> epoch_ms) {
  impl_->next_run.Add({{"job", str(job)}}).Set(epoch_ms ? static_cast<double>(*epoch_ms) / 1000.0 : 0.0);
}

void Metrics::set_last_success(std::string_view job, std::int64_t epoch_ms) {
  impl_->last_success.Add({{"job", str(job)}}).Set(static_cast<double>(epoch_ms) / 1000.0);
}

void Metrics::load_finished(std::string_view destination, double seconds) {
  impl_->load_duration.Add({{"destination", str(destination)}}, kRunBuckets).Observe(seconds);
}

void Metrics::set_credit_budget(std::string_view job, std::optional<std::int64_t> budget) {
  const std::map<std::string, std::string> labels{{"job", str(job)}};
  if (!budget) {
    if (impl_->credit_budget.Has(labels)) impl_->credit_budget.Remove(&impl_->credit_budget.Add(labels));
    return;
  }
  impl_->credit_budget.Add(labels).Set(static_cast<double>(*budget));
}

void Metrics::set_credit_budget_used(std::string_view job, std::int64_t credits) {
  impl_->credit_budget_used.Add({{"job", str(job)}}).Set(static_cast<double>(credits));
}

void Metrics::set_submissions(const std::map<std::string, std::int64_t>& per_state) {
  for (const char* s : db::kSubmissionStates) {
    auto it = per_state.find(s);
    impl_->submissions.Add({{"state", s}}).Set(it == per_state.end() ? 0.0 : static_cast<double>(it->second));
  }
}

void Metrics::set_postgres_up(bool up) { impl_->postgres_up.Set(up ? 1 : 0); }
void Metrics::set_config_reload_successful(bool ok) { impl_->reload_ok.Set(ok ? 1 : 0); }

void Metrics::control_request(std::string_view route, int code, double seconds) {
  const std::string r(route);
  impl_->control_requests.Add({{"route", r}, {"code", std::to_string(code)}}).Increment();
  impl_->control_duration.Add({{"route", r}}, kControlBuckets).Observe(seconds);
}

std::string Metrics::serialize() const {
  impl_->update_process();
  std::string text = pm::TextSerializer().Serialize(impl_->registry->Collect());
  // prometheus-cpp leaves out a family without series; docs/design.md §Metrics wants every family
  // exported from the start, so one whose label sets are not known yet (upstream
  // endpoints and codes) shows its HELP and TYPE with no samples.
  for (const auto& [name, head] : impl_->declared) {
    if (text.find("# TYPE " + name + " ") == std::string::npos) text += head;
  }
  return text;
}

}  // namespace mh::metrics
