// Builds one load package from a run's records: normalizes them and spills
// the rows to disk as they come, then seals the package. The jobs layer's
// entry point to normalize + package (blocking; run it on the blocking pool).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "load/package.hpp"
#include "load/package_writer.hpp"
#include "load/state.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/schema.hpp"

namespace mh::load {

class PackageBuilder {
 public:
  // Creates state_dir/packages/<new load id>/. `schema` is the pipeline's
  // schema (see current_schema); the builder evolves it in place.
  PackageBuilder(const std::string& state_dir, normalize::Schema& schema);
  // A builder neither finished nor abandoned removes its folder.
  ~PackageBuilder();
  PackageBuilder(const PackageBuilder&) = delete;
  PackageBuilder& operator=(const PackageBuilder&) = delete;

  const std::string& load_id() const { return load_id_; }
  const std::string& dir() const { return dir_; }

  // Registers a resource that ran, also one that yielded no records.
  void begin_resource(const normalize::Resource& resource);
  // Normalizes a record into the package. Throws normalize::Error when the
  // record is rejected (nothing of it was written; the package stays usable).
  void add(const normalize::Resource& resource, const boost::json::value& record);
  // This package's pipeline state; the load stores it when it changes the
  // destination's newest state (see next_state_document).
  void set_state(PipelineState state) { state_ = std::move(state); }
  // Cursors to store in mhloader.job_state in the load's transaction.
  void set_job_cursors(JobCursors cursors) { job_cursors_ = std::move(cursors); }

  std::uint64_t records() const { return normalizer_->records(); }
  std::uint64_t rows() const { return writer_->rows(); }

  // Seals the package: bumps the schema version if it changed, writes the
  // files, schema.json and manifest.json, and saves the schema as the
  // pipeline's current one. Returns the complete package.
  Package finish();
  // Removes the package folder.
  void abandon();
  // The package's lock (see package_lock.hpp), held since construction; the
  // caller keeps it until the package is loaded, or its load failed.
  PackageLock take_lock() { return std::move(lock_); }

 private:
  std::string state_dir_;
  normalize::Schema& schema_;
  std::string load_id_;
  std::string dir_;
  PackageLock lock_;
  std::unique_ptr<PackageWriter> writer_;
  std::unique_ptr<normalize::Normalizer> normalizer_;
  struct SeenResource {
    normalize::Resource hints;
    PackageResource entry;
  };
  std::map<std::string, SeenResource> resources_;
  std::optional<PipelineState> state_;
  std::optional<JobCursors> job_cursors_;
  bool done_ = false;
};

// The schema the last finished package left in state_dir (schemas/<name>.schema.json),
// or a new one. The jobs layer may prefer a newer one stored in the destination.
normalize::Schema current_schema(const std::string& state_dir, const std::string& schema_name);
void save_schema(const std::string& state_dir, const normalize::Schema& schema);

}  // namespace mh::load
