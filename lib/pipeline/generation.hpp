// Generation within a run (DESIGN.md §2.4): every request gets a ledger row
// committed before its POST, the credit guard and the job's budget are checked
// first, creates are never resent when they may have arrived, projects are
// polled to completion and their files archived. Produces one record per project.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "extract/resources.hpp"
#include "pipeline/run.hpp"

namespace mh::pipeline {

// The estimated cost of a request before it is sent (magichour-api.md §3–4):
// per model × image count, per upscale mode × factor; an unknown model counts at
// the highest known price.
std::int64_t estimate_credits(magichour::CreateKind kind, const boost::json::object& request);

struct GenerationOutcome {
  extract::ResourceOutcome resource;
  bool guard_stopped = false;
  boost::json::object guard;  // the numbers when the guard or budget stopped submissions
};

boost::asio::awaitable<GenerationOutcome> run_generation(Services& services, const config::JobConfig& job,
                                                         const config::GenerateConfig& generate, std::int64_t run_id,
                                                         bool resuming, RunControl& control, extract::PageSink& sink);

}  // namespace mh::pipeline
