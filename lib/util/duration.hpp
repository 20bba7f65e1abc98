// Durations written with units ("500ms", "30s", "5m", "1h", "1h30m", "2d"): parsed for the
// configuration and the simulator, formatted in messages by every module (hence util).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mh::util {

// nullopt with `error` set when the text is not a duration; a bare number is an error.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// The shortest unit form, e.g. 90000ms -> "1m30s"; parse_duration reads it back.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace mh::util
