// The one-shot subcommands: `mhloader run JOB` and `mhloader show`.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"

namespace mh::app {

// One run of `job` in the foreground; prints the load summary. Exit code 0 or 1.
int run_command(std::shared_ptr<const config::Config> config, const std::string& job);

// The pipeline's state: recent loads, runs, tables with columns, types and row counts.
int show_command(std::shared_ptr<const config::Config> config);

// The configuration's log.level, unless --log-level pinned one on the command line.
void apply_log_level(const config::Config& config, bool pinned);

}  // namespace mh::app
