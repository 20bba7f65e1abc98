// The control plane's JSON: runs, jobs, submissions, loads, the schema, the
// credit and upstream monitors as /api/v1 shows them (docs/control-plane.md,
// lib/control/openapi.json). Pure functions of the daemon's state.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "db/inspect.hpp"
#include "db/ops.hpp"
#include "monitor/monitors.hpp"
#include "normalize/schema.hpp"
#include "schedule/scheduler.hpp"

namespace mh::control {

boost::json::object run_json(const db::RunRow& run);
// A run of this process as it goes: its in-memory progress is newer than the row.
void overlay_live(boost::json::object& run, const schedule::LiveRun& live);
// `status` is the scheduler's view (null until the job is scheduled), `overview` the database's.
boost::json::object job_json(const config::JobConfig& job, const schedule::JobStatus* status,
                             const db::JobOverview* overview);
boost::json::object submission_json(const db::Submission& submission);
boost::json::object load_json(const db::LoadRow& load);
boost::json::object schema_json(const normalize::Schema& schema, const std::string& dataset);
boost::json::object credits_json(const monitor::CreditState& state, const std::vector<monitor::CreditSample>& history,
                                 const config::CreditsMonitorConfig& config);
boost::json::object upstream_json(const monitor::HealthState& state);

}  // namespace mh::control
