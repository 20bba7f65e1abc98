// The pipeline's schema: tables, columns, types and hints, versioned with a
// content hash, and serializable to dlt's stored-schema JSON (what
// `_dlt_version.schema` holds), so a dlt pipeline can attach to our dataset.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "normalize/types.hpp"
#include "normalize/write_disposition.hpp"

namespace mh::normalize {

// System column names (docs/dlt-layout.md §System columns).
inline constexpr std::string_view kDltId = "_dlt_id";
inline constexpr std::string_view kDltLoadId = "_dlt_load_id";
inline constexpr std::string_view kDltParentId = "_dlt_parent_id";
inline constexpr std::string_view kDltListIdx = "_dlt_list_idx";
inline constexpr std::string_view kDltRootId = "_dlt_root_id";
inline constexpr std::string_view kValueColumn = "value";
bool is_system_column(std::string_view name);

// dlt schema engine version written to `_dlt_version.engine_version`.
inline constexpr int kSchemaEngineVersion = 11;
// Postgres refuses tables with more columns.
inline constexpr std::size_t kMaxColumnsPerTable = 1600;

struct Column {
  std::string name;
  DataType type = DataType::text;
  bool nullable = true;
  bool unique = false;
  bool row_key = false;
  bool parent_key = false;
  bool root_key = false;
  bool primary_key = false;
  bool variant = false;

  bool operator==(const Column&) const = default;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using NameIndex = std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>;

class Table {
 public:
  std::string name;
  std::string parent;                                 // empty for a root table
  std::string resource;                               // root tables: the resource filling it
  std::optional<WriteDisposition> write_disposition;  // root tables
  std::optional<int> max_nesting;                     // x-normalizer.max_nesting

  bool is_root() const { return parent.empty(); }
  const std::vector<Column>& columns() const { return columns_; }
  const Column& column(std::size_t i) const { return columns_[i]; }
  Column& column(std::size_t i) { return columns_[i]; }
  std::optional<std::size_t> index_of(std::string_view column_name) const;
  const Column* find(std::string_view column_name) const;

 private:
  friend class Schema;
  std::vector<Column> columns_;
  NameIndex index_;
};

class Schema {
 public:
  // A new schema has version 1 and the hash of its (empty) content, as dlt's.
  explicit Schema(std::string name = "magic_hour");

  const std::string& name() const { return name_; }
  std::int64_t version() const { return version_; }
  const std::string& version_hash() const { return version_hash_; }
  const std::vector<std::string>& previous_hashes() const { return previous_hashes_; }

  const std::vector<Table>& tables() const { return tables_; }
  const Table& table(std::size_t i) const { return tables_[i]; }
  Table& table(std::size_t i) { return tables_[i]; }
  std::optional<std::size_t> table_index(std::string_view table_name) const;
  const Table* find_table(std::string_view table_name) const;

  // Adding tables and columns is journaled: rollback(mark) undoes what was
  // added since `mark()`, so a record that fails halfway leaves no trace.
  std::size_t add_table(std::string table_name, std::string parent);
  std::size_t add_column(std::size_t table, Column column);
  std::size_t mark() const { return journal_.size(); }
  void rollback(std::size_t mark);
  void forget_journal() { journal_.clear(); }

  // `root` and its nested tables, parents before children (dlt's table chain).
  std::vector<std::size_t> chain(std::size_t root) const;
  // The root table of `table`'s chain.
  std::size_t root_of(std::size_t table) const;

  // dlt's generate_version_hash over to_json() without version and hashes.
  std::string content_hash() const;
  // Bumps the version when the content changed since the last bump; returns
  // whether it did.
  bool bump_version();

  // dlt's stored schema document (engine version 11), including the
  // `_dlt_version`, `_dlt_loads` and `_dlt_pipeline_state` tables.
  boost::json::object to_json() const;
  // Reads what to_json() writes, and schemas dlt stored. Unknown data types
  // become text; dlt's own tables and incomplete columns are skipped.
  // Throws std::invalid_argument on a document that is not a schema.
  static Schema from_json(const boost::json::value& doc);

 private:
  struct NoHash {};
  Schema(std::string name, NoHash) : name_(std::move(name)) {}  // from_json sets the hash itself
  struct JournalEntry {
    std::size_t table;
    bool new_table;
  };

  std::string name_;
  std::int64_t version_ = 1;
  std::string version_hash_;
  std::vector<std::string> previous_hashes_;
  std::vector<Table> tables_;
  NameIndex table_index_;
  std::vector<JournalEntry> journal_;
};

}  // namespace mh::normalize
