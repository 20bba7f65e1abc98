// Generation within a run (docs/design.md §Generation): every request gets a ledger row
// committed before its POST, in the same step as the credit guard's check against
// the reserve and the job's budget (credit_guard.hpp); creates are never resent
// when they may have arrived, projects are polled to completion and their files
// archived. Produces one record per project.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "extract/resources.hpp"
#include "pipeline/run.hpp"

namespace mh::pipeline {

struct GenerationOutcome {
  extract::ResourceOutcome resource;
  bool guard_stopped = false;
  boost::json::object guard;  // the numbers when the guard or budget stopped submissions
};

boost::asio::awaitable<GenerationOutcome> run_generation(Services& services, const config::JobConfig& job,
                                                         const config::GenerateConfig& generate, std::int64_t run_id,
                                                         bool resuming, RunControl& control, extract::PageSink& sink);

// For image_projects: a known project (one its run stopped polling: poll timeout, cancel)
// that is final now gets its files archived (with archive.dir; `project.raw` then lists
// them as the generation resources do). Its ledger row is settled only once the record is
// loaded (settle_known_projects after the load commits): settled earlier, a crash before the
// load would drop it from known_projects with its record never loaded.
struct ProjectSettlement {
  std::string project_id;
  std::string status;
  std::int64_t credits_charged = 0;
  boost::json::object result;
  std::optional<std::string> error;
};

boost::asio::awaitable<std::optional<ProjectSettlement>> archive_known_project(Services& services,
                                                                               const magichour::CallOptions& call,
                                                                               magichour::Project& project);

// Blocking (run it on the blocking pool): settles the ledger rows of the projects loaded.
void settle_known_projects(Services& services, const std::vector<ProjectSettlement>& settled);

}  // namespace mh::pipeline
