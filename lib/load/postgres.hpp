// The Postgres destination: loads a package into the dataset in one
// transaction (DDL, COPY, replace/merge, `_dlt_version`, state, `_dlt_loads`),
// so a package is loaded entirely and exactly once or not at all. Its schema
// is reconciled with the dataset's stored one under the dataset's lock.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "load/destination.hpp"
#include "normalize/schema.hpp"

namespace mh::load {

struct PostgresConfig {
  std::string dsn;
  std::string dataset;  // normalized by the destination, as dlt does
  int connect_timeout_seconds = 10;
};

// Points inside a load, for tests that kill the process there.
enum class LoadPhase {
  before_commit,  // everything written, the transaction not yet committed
  committed,      // committed; the package folder not yet removed
};

class PostgresDestination : public Destination {
 public:
  // `on_phase` is a test hook; production code leaves it empty.
  explicit PostgresDestination(PostgresConfig config,
                               std::function<void(LoadPhase, const std::string& load_id)> on_phase = {});

  LoadResult load(const Package& package) override;
  std::optional<normalize::Schema> stored_schema(const std::string& schema_name) override;
  std::string describe() const override;
  const char* kind() const override { return "postgres"; }
  const std::string& dataset() const { return dataset_; }
  const std::string& staging_dataset() const { return staging_; }

 private:
  PostgresConfig config_;
  std::string dataset_;
  std::string staging_;  // staging_dataset_name(dataset_)
  std::function<void(LoadPhase, const std::string&)> on_phase_;
};

// The newest schema `schema_name` stored in the dataset's `_dlt_version`
// (ours or dlt's), if any.
std::optional<normalize::Schema> stored_schema(const PostgresConfig& config, const std::string& schema_name);

// The newest pipeline state of `pipeline_name` whose load completed, decoded.
std::optional<boost::json::object> stored_state(const PostgresConfig& config, const std::string& pipeline_name);

}  // namespace mh::load
