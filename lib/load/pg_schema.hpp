// The schema and pipeline state a Postgres dataset stores (`_dlt_version`,
// `_dlt_pipeline_state`): read and written inside a load's transaction, under
// its per-dataset advisory lock, and read by whoever shows the schema.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "load/state.hpp"
#include "normalize/schema.hpp"

namespace mh::load {

bool dataset_has_table(pqxx::transaction_base& tx, const std::string& dataset, const std::string& table);

// The stored schema with the highest version (ours or dlt's), if any.
std::optional<normalize::Schema> newest_schema(pqxx::transaction_base& tx, const std::string& dataset,
                                               const std::string& schema_name);

// Inserts `schema` as a `_dlt_version` row (at its own version). inserted_at is
// the insert's clock time, so the rows' order in time is their order of versions.
void insert_schema_version(pqxx::transaction_base& tx, const std::string& dataset, const normalize::Schema& schema);

// Inserts `schema` unless the dataset's newest `_dlt_version` row already has its hash.
void insert_schema_version_if_new(pqxx::transaction_base& tx, const std::string& dataset,
                                  const normalize::Schema& schema);

// The newest state of `pipeline_name` whose load completed, decoded: the
// highest version, then the newest load.
std::optional<boost::json::object> newest_state(pqxx::transaction_base& tx, const std::string& dataset,
                                                const std::string& pipeline_name);

// Merges `update` into the newest stored state and inserts a
// `_dlt_pipeline_state` row for `load_id` when that changed it. Returns
// whether it inserted one.
bool record_pipeline_state(pqxx::transaction_base& tx, const std::string& dataset, const PipelineState& update,
                           const std::string& load_id);

}  // namespace mh::load
