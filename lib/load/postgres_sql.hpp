// The SQL the Postgres destination runs, as plain text from the schema: dlt's
// DDL, its `_dlt_*` tables and its delete-insert merge (docs/dlt-layout.md §dlt's own tables,
// §Write dispositions). Every identifier is quoted here, whatever the data made it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "normalize/schema.hpp"

namespace mh::load {

// "name" with embedded quotes doubled: safe for any text without NUL. Throws
// std::logic_error for a name over 63 bytes, which Postgres would truncate.
std::string quote_ident(std::string_view name);
std::string qualified(std::string_view schema, std::string_view table);

// `"name" type [UNIQUE] [NOT NULL]`; `add_column` leaves NOT NULL out, since
// a table with rows could not take it.
std::string column_definition(const normalize::Column& column, bool add_column = false);

std::string create_schema_sql(std::string_view dataset);
std::string create_table_sql(std::string_view dataset, const normalize::Table& table);
std::string add_columns_sql(std::string_view dataset, const normalize::Table& table,
                            const std::vector<const normalize::Column*>& columns);

// CREATE TABLE IF NOT EXISTS for `_dlt_loads`, `_dlt_version`, `_dlt_pipeline_state`.
std::vector<std::string> dlt_tables_sql(std::string_view dataset);

// dlt's delete-insert merge of `root` (and its nested tables) from the
// staging dataset into the dataset. `suffix` makes the temp table names
// unique. Nested tables without `_dlt_root_id` cannot be matched and are left
// out; `primary_key` empty makes it a staged append.
std::vector<std::string> merge_sql(std::string_view dataset, std::string_view staging, const normalize::Schema& schema,
                                   std::size_t root, const std::vector<std::string>& primary_key,
                                   std::string_view suffix);

}  // namespace mh::load
