// Read-only views of what has been loaded into the destination's dataset
// (dlt's _dlt_loads), shared by `mhloader show` and the control plane.
// Blocking (libpqxx): call from the blocking pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mh::db {

class Pool;

struct LoadRow {
  std::string load_id;
  std::string schema_name;
  int status = 0;
  std::string inserted_at;  // ISO 8601 UTC
  std::string schema_version_hash;
};

// The newest loads first; empty when nothing was loaded yet (no _dlt_loads table).
std::vector<LoadRow> recent_loads(Pool& pool, const std::string& dataset, int limit,
                                  const std::optional<std::string>& before = std::nullopt);

}  // namespace mh::db
