// SQL fragments the operations queries share.
#pragma once

#include <string>

namespace mh::db {

// Timestamps leave the database as ISO 8601 UTC with milliseconds, like every other time mhloader prints.
inline std::string iso_utc(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

}  // namespace mh::db
