// The Postgres load's guards against going back in time: a package older than
// what a replace table holds does not replace it, and a job's stored cursors
// only move forward. Both run inside the load's transaction.
#pragma once

#include <cstddef>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "load/package.hpp"
#include "normalize/schema.hpp"

namespace mh::load {

// The tables (root and nested, by schema index) of replace resources whose
// dataset table already holds rows of a newer load than `load_id`: the
// package must leave them alone. Logs each skip.
std::set<std::size_t> stale_replace_tables(pqxx::work& tx, const std::string& dataset, const normalize::Schema& schema,
                                           const std::map<std::size_t, const PackageResource*>& roots,
                                           const std::string& load_id);

// Writes the package's cursors into mhloader.job_state (if that table
// exists), merged with the stored ones under a row lock (merge_cursors).
void store_job_cursors(pqxx::work& tx, const JobCursors& cursors);

}  // namespace mh::load
