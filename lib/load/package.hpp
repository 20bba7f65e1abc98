// Load packages on disk (state_dir/packages/<load_id>/): what a complete
// package holds, how to find the ones left over from a previous run, and how
// to drop them once loaded. A package is complete once manifest.json exists.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "load/state.hpp"
#include "load/package_lock.hpp"
#include "normalize/schema.hpp"

namespace mh::load {

// One COPY text file: its rows have exactly these columns, in this order.
struct PackageFile {
  std::string name;  // "<table>.<n>.copy"
  std::vector<std::string> columns;
  std::uint64_t rows = 0;
};

struct PackageTable {
  std::string name;
  std::string parent;  // empty for a root table
  std::uint64_t rows = 0;
  std::vector<PackageFile> files;
};

// A resource that ran for this package (also one that yielded nothing: a
// replace still empties its tables).
struct PackageResource {
  std::string name;
  std::string table;
  normalize::WriteDisposition write_disposition = normalize::WriteDisposition::append;
  std::vector<std::string> primary_key;  // normalized column names
};

// Incremental cursors of a job, written to mhloader.job_state in the load's
// transaction, so a cursor moves exactly when its rows land.
struct JobCursors {
  std::string job;
  boost::json::object cursors;  // resource name -> {cursor_path, last_value, unique_hashes}
};

struct Manifest {
  std::string load_id;
  std::string schema_name;
  std::int64_t schema_version = 0;
  std::string schema_version_hash;
  std::vector<PackageResource> resources;
  std::vector<PackageTable> tables;
  // This package's pipeline state (names and its resources' incremental
  // state). The load merges it into the newest stored state and writes a
  // `_dlt_pipeline_state` row only when that changed.
  std::optional<PipelineState> state;
  std::optional<JobCursors> job_cursors;

  std::uint64_t rows() const;
  const PackageResource* resource_for_table(const std::string& root_table) const;
  boost::json::object to_json() const;
  // Throws std::invalid_argument on a malformed manifest, including file
  // names that are not `<identifier>.<n>.copy`.
  static Manifest from_json(const boost::json::value& doc);
};

class Package {
 public:
  // Reads manifest.json and schema.json of a complete package. Throws
  // std::runtime_error when the package is incomplete or malformed.
  static Package open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const std::string& load_id() const { return manifest_.load_id; }
  const Manifest& manifest() const { return manifest_; }
  const normalize::Schema& schema() const { return schema_; }
  std::string path(const PackageFile& file) const { return dir_ + "/" + file.name; }

 private:
  Package(std::string dir, Manifest manifest, normalize::Schema schema)
      : dir_(std::move(dir)), manifest_(std::move(manifest)), schema_(std::move(schema)) {}
  std::string dir_;
  Manifest manifest_;
  normalize::Schema schema_;
};

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kSchemaFile = "schema.json";

std::string packages_dir(const std::string& state_dir);

// Directories of complete packages, oldest load id first (locked or not).
std::vector<std::string> complete_packages(const std::string& state_dir);

}  // namespace mh::load
