// Reconciles a package's schema with the newest schema the destination
// stores: the union both writers can load into, its version, and where each
// package column whose type the stored schema disagrees with goes (the
// stored column or dlt's variant column). Pure: the destinations run it under their lock.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "normalize/schema.hpp"

namespace mh::normalize {

struct Reconciled {
  // Stored tables and columns plus the package's new ones; stored types win.
  Schema schema;
  // The union differs from the stored schema (or nothing was stored): it
  // needs DDL and a new `_dlt_version` row, at version stored + 1.
  bool changed = false;
  // table → package column → the union's variant column it loads into.
  std::map<std::string, std::map<std::string, std::string>> variants;

  // The union column a package column of `table` loads into.
  const std::string& target(const std::string& table, const std::string& column) const;
  // `columns` of a package file of `table`, each through target().
  std::vector<std::string> target_columns(const std::string& table, const std::vector<std::string>& columns) const;
};

// Tables and columns are only ever added. A package column of another type
// than the stored one loads into the stored column when its text fits
// (canonical_text_fits), else maps to `<col>__v_<type>` (nullable, variant).
// Table hints (write disposition, resource, nesting) are the package's, as
// its configuration is the newer one. Throws std::runtime_error naming the
// table and column when a primary-key or NOT NULL column cannot take the
// package's type, or when a variant name is taken by a column of another type.
Reconciled reconcile(const std::optional<Schema>& stored, const Schema& package);

}  // namespace mh::normalize
