// Collects the log lines written while it lives (tests of what gets logged).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "log/log.hpp"

namespace mh::test {

struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  LogCapture() {
    mh::log::set_sink([this](std::string_view l) {
      std::lock_guard lock(mu);
      lines.emplace_back(l);
    });
  }
  ~LogCapture() { mh::log::set_sink({}); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
};

}  // namespace mh::test
