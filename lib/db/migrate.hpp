// The `mhloader` operations schema: created and migrated at start, versioned in
// mhloader.schema_migrations, safe when several daemons start at once.
#pragma once

#include <string>

namespace mh::db {

struct MigrationOutcome {
  int from_version = 0;
  int to_version = 0;
};

// Blocking (libpqxx): call it from the blocking pool, never an I/O thread.
// Throws std::runtime_error whose message names what failed, without secrets.
MigrationOutcome migrate(const std::string& dsn);

// The newest migration this build knows.
int latest_schema_version();

// `dsn` with libpq's connect_timeout set (unless it already is), so a
// connection attempt to an unreachable server cannot block a worker for long.
std::string with_connect_timeout(const std::string& dsn, int seconds);

}  // namespace mh::db
