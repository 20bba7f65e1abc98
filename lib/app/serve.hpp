// `mhloader serve`: the long-running daemon around a validated configuration.
#pragma once

#include "config/config.hpp"

namespace mh::app {

struct ServeOptions {
  // Reload re-reads this file; a config given on the command line keeps its path.
  std::string config_path;
  // Set by --log-level; overrides the configured level across reloads.
  bool log_level_pinned = false;
};

// Runs until SIGINT or SIGTERM; returns the process exit code.
int serve(config::Config config, const ServeOptions& options);

}  // namespace mh::app
