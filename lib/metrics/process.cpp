#include "metrics/process.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace mh::metrics {

namespace {

// Seconds since the epoch at which the machine booted (/proc/stat "btime").
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      if (in >> v) return v;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProcessStats> read_process_stats() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // Field 2 (comm) may contain spaces and parentheses: the fields we need follow its last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  // From field 3 (state) on; utime = 14, stime = 15, starttime = 22, rss = 24.
  std::string f;
  double utime = 0, stime = 0, start_ticks = 0, rss_pages = 0;
  for (int i = 3; i <= 24 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
    if (i == 22) start_ticks = std::stod(f);
    if (i == 24) rss_pages = std::stod(f);
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessStats s;
  s.resident_memory_bytes = rss_pages * page;
  s.cpu_seconds = (utime + stime) / ticks;
  static const std::optional<double> booted = boot_time();  // constant while the machine runs
  if (booted) s.start_time_seconds = *booted + start_ticks / ticks;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    s.open_fds += 1;
  }
  return s;
}

}  // namespace mh::metrics
