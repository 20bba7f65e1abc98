#include "control/views.hpp"

#include <boost/json.hpp>

#include "normalize/types.hpp"
#include "normalize/write_disposition.hpp"
#include "util/time.hpp"

namespace mh::control {

namespace json = boost::json;

namespace {

json::value iso_or_null(const std::optional<std::int64_t>& ms) {
  if (!ms) return nullptr;
  return json::value(util::format_iso8601_ms(*ms));
}

template <class T>
json::value or_null(const std::optional<T>& v) {
  if (!v) return nullptr;
  return json::value_from(*v);
}

json::value string_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return json::value(s);
}

}  // namespace

json::object run_json(const db::RunRow& r) {
  return json::object{{"id", r.id},
                      {"job", r.job},
                      {"trigger", r.trigger},
                      {"status", r.status},
                      {"started_at", r.started_at},
                      {"finished_at", or_null(r.finished_at)},
                      {"load_id", or_null(r.load_id)},
                      {"rows", r.rows},
                      {"credits_charged", r.credits_charged},
                      {"error", or_null(r.error)},
                      {"resources", r.resources.is_array() ? r.resources : json::array()},
                      {"details", r.details}};
}

void overlay_live(json::object& run, const schedule::LiveRun& live) {
  std::int64_t rows = 0;
  for (const auto& r : live.resources) rows += r.records;
  run["resources"] = extract::to_json(live.resources);
  run["rows"] = rows;
  run["credits_charged"] = live.credits_charged;
  run["live"] = true;
  run["cancel_requested"] = live.cancel_requested;
}

json::object job_json(const config::JobConfig& j, const schedule::JobStatus* st, const db::JobOverview* ov) {
  json::object o{{"name", j.name}, {"schedule", schedule::describe(j.schedule)}, {"timezone", j.timezone}};
  json::array resources;
  for (const auto& r : j.resources) resources.push_back(json::value(r));
  for (const auto& g : j.generate) resources.push_back(json::value(g.resource));
  o["resources"] = std::move(resources);
  o["credit_budget"] = or_null(j.credit_budget);
  // The latest run's committed spend (from the ledger: charged where known, else estimated).
  o["credit_budget_used"] = ov && ov->last_run ? json::value(ov->last_run_committed) : json::value(nullptr);
  o["scheduled"] = st != nullptr;  // false until the database is ready
  o["next_run_at"] = st ? iso_or_null(st->next_run_ms) : json::value(nullptr);
  o["skipped_ticks"] = st ? st->skipped_ticks : 0;
  json::value running = nullptr;
  if (st && st->running) {
    json::object r{{"id", st->running->run_id}, {"trigger", st->running->trigger}};
    overlay_live(r, *st->running);
    running = std::move(r);
  }
  o["running_run"] = std::move(running);
  o["paused"] = ov && ov->paused;
  o["last_run"] = ov && ov->last_run ? json::value(run_json(*ov->last_run)) : json::value(nullptr);
  return o;
}

json::object submission_json(const db::Submission& s) {
  return json::object{{"key", s.key},
                      {"job", s.job},
                      {"run_id", s.run_id},
                      {"resource", s.resource},
                      {"state", s.state},
                      {"project_id", or_null(s.project_id)},
                      {"credits_charged", or_null(s.credits_charged)},
                      {"credits_estimate", s.credits_estimate},
                      {"error", or_null(s.error)},
                      {"source_file", or_null(s.source_file)},
                      {"request", s.request}};
}

json::object load_json(const db::LoadRow& l) {
  return json::object{{"load_id", l.load_id},
                      {"schema_name", l.schema_name},
                      {"status", l.status},
                      {"inserted_at", l.inserted_at},
                      {"schema_version_hash", l.schema_version_hash}};
}

json::object schema_json(const normalize::Schema& s, const std::string& dataset) {
  json::array tables;
  for (const auto& t : s.tables()) {
    json::array columns;
    for (const auto& c : t.columns()) {
      columns.push_back(json::object{
          {"name", c.name}, {"data_type", std::string(normalize::type_name(c.type))}, {"nullable", c.nullable}});
    }
    json::object to{{"name", t.name},
                    {"parent", string_or_null(t.parent)},
                    {"resource", string_or_null(t.resource)},
                    {"columns", std::move(columns)}};
    if (t.write_disposition) to["write_disposition"] = std::string(normalize::to_string(*t.write_disposition));
    tables.push_back(std::move(to));
  }
  return json::object{{"name", s.name()},
                      {"version", s.version()},
                      {"version_hash", s.version_hash()},
                      {"dataset", dataset},
                      {"tables", std::move(tables)}};
}

json::object credits_json(const monitor::CreditState& s, const std::vector<monitor::CreditSample>& samples,
                          const config::CreditsMonitorConfig& c) {
  json::array history;
  for (const auto& h : samples) {
    history.push_back(json::object{{"at", util::format_iso8601_ms(h.at_ms)}, {"balance", h.balance}});
  }
  return json::object{{"balance", or_null(s.balance)},
                      {"observed_at", s.balance ? json::value(util::format_iso8601_ms(s.observed_at_ms)) : nullptr},
                      {"source", string_or_null(s.source)},
                      {"low", s.low},
                      {"low_balance", c.low_balance},
                      {"reserve", c.reserve},
                      {"below_reserve", s.balance && *s.balance < c.reserve},
                      {"last_error", string_or_null(s.last_error)},
                      {"history", std::move(history)}};
}

json::object upstream_json(const monitor::HealthState& s) {
  return json::object{{"up", s.up},
                      {"probed", s.probed},
                      {"probe", string_or_null(s.probe)},
                      {"http_status", s.http_status ? json::value(s.http_status) : json::value(nullptr)},
                      {"latency_ms", s.latency_ms},
                      {"consecutive_failures", s.consecutive_failures},
                      {"last_probe_at", s.probed ? json::value(util::format_iso8601_ms(s.last_probe_ms)) : nullptr},
                      {"last_error", string_or_null(s.last_error)},
                      {"status", s.upstream.empty() ? json::value(nullptr) : json::value(s.upstream)}};
}

}  // namespace mh::control
