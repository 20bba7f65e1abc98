// ISO-8601 date-times as dlt's `iso_timestamp` detection reads them, and the
// UTC text we write for them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mh::normalize {

// Microseconds since the Unix epoch, UTC.
using UnixMicros = std::int64_t;

// A date-time (`2025-01-01T00:00:01.265Z`, `2024-05-01 10:00:00`,
// `20240501T100000+0200`, …), normalized to UTC; a string without a zone is
// UTC. With `allow_date` a bare date (`2024-05-01`) counts as its midnight.
// nullopt for anything else (a date alone without `allow_date`, a time alone,
// out-of-range fields, trailing text).
std::optional<UnixMicros> parse_iso_timestamp(std::string_view text, bool allow_date = false);

// Python's isoformat() of the UTC datetime: `2024-05-01T10:00:00+00:00`,
// with `.ffffff` only when there are microseconds.
void format_utc_timestamp(std::string& out, UnixMicros t);

// Unix seconds (int or float) as a timestamp; nullopt when out of range.
std::optional<UnixMicros> timestamp_from_unix_seconds(double seconds);

}  // namespace mh::normalize
