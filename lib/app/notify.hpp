// systemd service notifications (sd_notify, docs/design.md §Process): READY, RELOADING,
// STOPPING, STATUS and WATCHDOG. Every call is a no-op when NOTIFY_SOCKET is unset.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace mh::app {

// Start-up finished, or a reload finished (whether it kept the old config or not).
void notify_ready();
// A reload begins: RELOADING=1 plus MONOTONIC_USEC (CLOCK_MONOTONIC, µs), which
// systemd ≥ 253 uses to match the reload to its request and older versions ignore.
void notify_reloading();
// Shutdown begins: systemd stops expecting watchdog pings and shows "deactivating".
void notify_stopping();
// Free-form text for `systemctl status` (one line; newlines are replaced).
void notify_status(std::string_view text);
// Keep-alive for WatchdogSec=.
void notify_watchdog();

// How often to send WATCHDOG=1: half of the watchdog timeout systemd passed in
// WATCHDOG_USEC (only when WATCHDOG_PID, if set, is this process); nullopt when
// the watchdog is off.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace mh::app
