#include "app/notify.hpp"

#include <systemd/sd-daemon.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#include "log/log.hpp"

namespace mh::app {
namespace {

// Failures are logged but never fatal: a lost notification must not stop the daemon
// (systemd then reports a timeout, which says more than a crash would). Only the first
// is a warning: a broken socket would otherwise log every watchdog ping.
void send(const std::string& state) {
  static std::atomic<bool> warned{false};
  int r = ::sd_notify(0, state.c_str());
  if (r >= 0) return;
  log::Level level = warned.exchange(true) ? log::Level::debug : log::Level::warn;
  log::write(level, "sd_notify failed", {{"state", state.substr(0, state.find('='))}, {"error", std::strerror(-r)}});
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

}  // namespace

void notify_ready() { send("READY=1"); }

void notify_reloading() { send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec())); }

void notify_stopping() { send("STOPPING=1"); }

void notify_status(std::string_view text) {
  // The protocol is newline-separated assignments: a newline would start a new one.
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  send("STATUS=" + line);
}

void notify_watchdog() { send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
  std::uint64_t usec = 0;
  // 0 = keep WATCHDOG_USEC/WATCHDOG_PID in the environment; nothing we start needs them,
  // but unsetting would make a second call (tests, a future re-exec) see "off".
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

}  // namespace mh::app
