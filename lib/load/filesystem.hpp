// The filesystem destination, for users without Postgres: each package file
// becomes JSON lines under <path>/<dataset>/<table>/<load_id>.<n>.jsonl, and
// the `_dlt_*` records go alongside as dlt's filesystem destination keeps them.
#pragma once

#include <string>

#include "load/destination.hpp"

namespace mh::load {

struct FilesystemConfig {
  std::string path;
  std::string dataset;  // normalized by the destination
};

class FilesystemDestination : public Destination {
 public:
  explicit FilesystemDestination(FilesystemConfig config);

  // Writes every file atomically and `_dlt_loads/<schema>__<load_id>.jsonl`
  // last; that file marks the package as loaded, and a rerun rewrites the
  // same names. Merge is loaded as append (dlt's filesystem destination has
  // no merge for plain files either). Under an flock on
  // <dataset>/_mhloader.lock it reconciles the package's schema with the
  // newest `_dlt_version` record and decides the pipeline state, as the
  // Postgres destination does in its transaction.
  LoadResult load(const Package& package) override;
  std::optional<normalize::Schema> stored_schema(const std::string& schema_name) override;
  std::string describe() const override;
  const char* kind() const override { return "filesystem"; }
  std::string dataset_dir() const { return config_.path + "/" + dataset_; }

 private:
  FilesystemConfig config_;
  std::string dataset_;
};

}  // namespace mh::load
