// mhloader's Prometheus metrics (docs/control-plane.md §Metrics): one registry, typed methods to
// update it, and the text exposition. prometheus-cpp stays behind this header.
// Label values must come from bounded sets (endpoint templates, job, table and
// route names), never from ids or user input.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::metrics {

class Metrics {
 public:
  Metrics(const std::string& version, const std::string& revision);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Upstream (Magic Hour). `endpoint` is a template such as "GET /v1/image-projects/{id}";
  // `code` an HTTP status, or a transport failure kind ("timeout", "reset", ...).
  void upstream_request(std::string_view endpoint, std::string_view code, double seconds);
  void upstream_retry(std::string_view endpoint, std::string_view reason);
  void set_upstream_up(bool up);
  void set_credits(std::int64_t balance, bool low);
  void credits_charged(std::string_view resource, std::int64_t credits);

  // Jobs and runs. declare_jobs() gives the configured jobs their series at 0.
  void declare_jobs(const std::vector<std::string>& jobs);
  void run_started(std::string_view job);
  // `outcome`: succeeded | failed | cancelled | skipped | partial. Rows of a nested
  // table (`<root>__<key>…`) count under its root table: the keys of upstream JSON
  // name nested tables and must not mint label values.
  void run_finished(std::string_view job, std::string_view outcome, double seconds,
                    const std::map<std::string, std::uint64_t>& table_rows);
  void run_skipped(std::string_view job);  // a tick that did not run (still running, or running elsewhere)
  void set_next_run(std::string_view job, std::optional<std::int64_t> epoch_ms);
  void set_last_success(std::string_view job, std::int64_t epoch_ms);
  void load_finished(std::string_view destination, double seconds);
  // The job's credit_budget (per run; no series without one) and its budget used: what
  // its latest run here has committed, charged where known, else estimated.
  void set_credit_budget(std::string_view job, std::optional<std::int64_t> budget);
  void set_credit_budget_used(std::string_view job, std::int64_t credits);

  // Daemon state.
  void set_submissions(const std::map<std::string, std::int64_t>& per_state);
  void set_postgres_up(bool up);
  void set_config_reload_successful(bool ok);
  // `route` is the route template ("GET /api/v1/runs/{id}") or "unmatched".
  void control_request(std::string_view route, int code, double seconds);

  // The Prometheus text format (version 0.0.4) of every family, with the process
  // metrics read from /proc at this moment (file I/O: call off the I/O thread).
  std::string serialize() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::metrics
