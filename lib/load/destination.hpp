// Where load packages go (Postgres or files), and the start-up step that
// loads what a previous run left behind. Blocking: run on the blocking pool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load/package.hpp"

namespace mh::config {
struct DestinationConfig;
}

namespace mh::load {

// dlt's schema (source) name for this pipeline: `_dlt_version.schema_name`, the state's source.
inline constexpr const char* kSchemaName = "magic_hour";

enum class LoadStatus {
  loaded,          // this call loaded the package
  already_loaded,  // its load id was already recorded as loaded
};

struct LoadResult {
  std::string load_id;
  LoadStatus status = LoadStatus::loaded;
  std::uint64_t rows = 0;
  std::map<std::string, std::uint64_t> table_rows;
  double seconds = 0;
};

class Destination {
 public:
  virtual ~Destination() = default;
  // Loads a complete package exactly once: either all of it, or (on an
  // exception) nothing. Loading a package that is already loaded is a no-op
  // reporting already_loaded.
  virtual LoadResult load(const Package& package) = 0;
  // The newest schema `schema_name` the destination stores (what every load
  // reconciles its package with), if any. A run starts from it.
  virtual std::optional<normalize::Schema> stored_schema(const std::string& schema_name) = 0;
  // "postgres postgresql://loader:***@db/magic_hour", never with a password.
  virtual std::string describe() const = 0;
  // "postgres" or "filesystem" (a metrics label).
  virtual const char* kind() const = 0;
};

// dlt's dataset name: the configured name through the naming convention.
// Throws std::invalid_argument for a blank name.
std::string normalize_dataset_name(std::string_view configured);

// dlt's staging dataset of a normalized dataset: `<dataset>_staging` through
// the naming convention, so a name past 63 bytes is shortened with a hash tag
// (never cut by Postgres into the dataset itself). Throws std::logic_error if
// it would still equal `dataset`.
std::string staging_dataset_name(const std::string& dataset);

// The destination the configuration names (destination.type, .dsn,
// .dataset, .filesystem.path).
std::unique_ptr<Destination> make_destination(const config::DestinationConfig& config);

// The schema a run starts from: the destination's stored one (or a new one).
// When the destination cannot be read it falls back, with a warning, to the
// state_dir cache (the schema of the last package built there); the load
// reconciles either way.
normalize::Schema starting_schema(Destination& destination, const std::string& state_dir,
                                  const std::string& schema_name);

// Loads a package, then removes its folder.
LoadResult load_and_remove(const Package& package, Destination& destination);

// At start: discards abandoned packages (incomplete, lock free), then loads
// (and removes) every complete one, oldest first (load_pending). Stops at the
// first failure, which it throws as BlockedLoad; the packages not yet loaded
// stay for the next attempt.
std::vector<LoadResult> resume_packages(const std::string& state_dir, Destination& destination);

}  // namespace mh::load
