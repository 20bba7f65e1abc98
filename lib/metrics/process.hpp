// The standard Prometheus process metrics of this process, read from /proc
// (Linux). Blocking file reads: call off the I/O thread.
#pragma once

#include <optional>

namespace mh::metrics {

struct ProcessStats {
  double resident_memory_bytes = 0;
  double cpu_seconds = 0;  // user + system
  double open_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

std::optional<ProcessStats> read_process_stats();

}  // namespace mh::metrics
