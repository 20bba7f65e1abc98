// Wall-clock timestamps in the one format mhloader writes: ISO 8601, UTC,
// milliseconds, `Z` (as Magic Hour and logfmt lines use).
#pragma once

#include <cstdint>
#include <string>

namespace mh::util {

std::int64_t now_epoch_ms();
std::string format_iso8601_ms(std::int64_t epoch_ms);  // 2026-11-27T00:13:12.091Z
inline std::string now_iso8601() { return format_iso8601_ms(now_epoch_ms()); }

}  // namespace mh::util
