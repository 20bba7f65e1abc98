#include "load/postgres_sql.hpp"

#include <stdexcept>

#include "normalize/naming.hpp"

namespace mh::load {
namespace {

using normalize::Column;
using normalize::Table;

std::string column_list(const Table& t, std::string_view prefix = {}) {
  std::string out;
  for (const auto& c : t.columns()) {
    if (!out.empty()) out += ',';
    out.append(prefix).append(quote_ident(c.name));
  }
  return out;
}

std::string temp_name(std::string_view table, std::string_view kind, std::string_view suffix) {
  std::string name = std::string(table) + "_" + std::string(kind) + "_" + std::string(suffix);
  return quote_ident(normalize::shorten_identifier(name, name));
}

std::string dedup_select(const std::string& partition, const std::string& columns, const std::string& source) {
  return "SELECT " + columns + " FROM (SELECT ROW_NUMBER() OVER (partition BY " + partition +
         " ORDER BY (SELECT NULL)) AS _dlt_dedup_rn, " + columns + " FROM " + source + ") AS _dlt_dedup_numbered";
}

}  // namespace

std::string quote_ident(std::string_view name) {
  // Postgres would cut a longer name to 63 bytes without a word, and two names
  // could become one (a staging dataset its dataset): every derived name is
  // shortened with a tag before it gets here, so a long one is a bug.
  if (name.size() > normalize::kMaxIdentifierLength) {
    throw std::logic_error("identifier longer than " + std::to_string(normalize::kMaxIdentifierLength) +
                           " bytes: " + std::string(name));
  }
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string qualified(std::string_view schema, std::string_view table) {
  return quote_ident(schema) + "." + quote_ident(table);
}

std::string column_definition(const Column& c, bool add_column) {
  std::string out = quote_ident(c.name) + " " + std::string(normalize::postgres_type(c.type));
  if (c.unique) out += " UNIQUE";
  if (!c.nullable && !add_column) out += " NOT NULL";
  return out;
}

std::string create_schema_sql(std::string_view dataset) {
  return "CREATE SCHEMA IF NOT EXISTS " + quote_ident(dataset);
}

std::string create_table_sql(std::string_view dataset, const Table& t) {
  std::string out = "CREATE TABLE IF NOT EXISTS " + qualified(dataset, t.name) + " (\n";
  bool first = true;
  for (const auto& c : t.columns()) {
    if (!first) out += ",\n";
    first = false;
    out += column_definition(c);
  }
  return out + ")";
}

std::string add_columns_sql(std::string_view dataset, const Table& t, const std::vector<const Column*>& columns) {
  std::string out = "ALTER TABLE " + qualified(dataset, t.name);
  bool first = true;
  for (const Column* c : columns) {
    out += first ? "\n" : ",\n";
    first = false;
    out += "ADD COLUMN " + column_definition(*c, true);
  }
  return out;
}

std::vector<std::string> dlt_tables_sql(std::string_view dataset) {
  return {
      "CREATE TABLE IF NOT EXISTS " + qualified(dataset, "_dlt_loads") +
          " (\"load_id\" varchar(64) NOT NULL, \"schema_name\" varchar, \"status\" bigint NOT NULL, "
          "\"inserted_at\" timestamp with time zone NOT NULL, \"schema_version_hash\" varchar)",
      "CREATE TABLE IF NOT EXISTS " + qualified(dataset, "_dlt_version") +
          " (\"version\" bigint NOT NULL, \"engine_version\" bigint NOT NULL, "
          "\"inserted_at\" timestamp with time zone NOT NULL, \"schema_name\" varchar NOT NULL, "
          "\"version_hash\" varchar NOT NULL, \"schema\" varchar NOT NULL)",
      "CREATE TABLE IF NOT EXISTS " + qualified(dataset, "_dlt_pipeline_state") +
          " (\"version\" bigint NOT NULL, \"engine_version\" bigint NOT NULL, \"pipeline_name\" varchar NOT NULL, "
          "\"state\" varchar NOT NULL, \"created_at\" timestamp with time zone NOT NULL, \"version_hash\" varchar, "
          "\"_dlt_load_id\" varchar(64) NOT NULL, \"_dlt_id\" varchar UNIQUE NOT NULL)",
  };
}

std::vector<std::string> merge_sql(std::string_view dataset, std::string_view staging, const normalize::Schema& schema,
                                   std::size_t root, const std::vector<std::string>& primary_key,
                                   std::string_view suffix) {
  const Table& r = schema.table(root);
  std::vector<const Table*> nested;
  for (std::size_t t : schema.chain(root)) {
    if (t != root && schema.table(t).index_of(normalize::kDltRootId)) nested.push_back(&schema.table(t));
  }
  const std::string target = qualified(dataset, r.name);
  const std::string source = qualified(staging, r.name);
  const std::string columns = column_list(r);
  std::string key_match;
  std::string partition;
  for (const auto& k : primary_key) {
    if (!key_match.empty()) key_match += " AND ";
    key_match += "d." + quote_ident(k) + " = s." + quote_ident(k);
    if (!partition.empty()) partition += ", ";
    partition += quote_ident(k);
  }
  const std::string dlt_id = quote_ident(normalize::kDltId);
  const std::string root_id = quote_ident(normalize::kDltRootId);
  std::vector<std::string> sql;

  if (nested.empty()) {
    if (primary_key.empty()) {
      sql.push_back("INSERT INTO " + target + "(" + columns + ") SELECT " + columns + " FROM " + source);
      return sql;
    }
    sql.push_back("DELETE FROM " + target + " AS d WHERE EXISTS (SELECT 1 FROM " + source + " AS s WHERE " + key_match +
                  ")");
    sql.push_back("INSERT INTO " + target + "(" + columns + ") " + dedup_select(partition, columns, source) +
                  " WHERE _dlt_dedup_rn = 1");
    return sql;
  }

  const std::string del = temp_name(r.name, "delete", suffix);
  const std::string ins = temp_name(r.name, "insert", suffix);
  if (!primary_key.empty()) {
    sql.push_back("CREATE TEMPORARY TABLE " + del + " ON COMMIT DROP AS SELECT d." + dlt_id + " FROM " + target +
                  " AS d WHERE EXISTS (SELECT 1 FROM " + source + " AS s WHERE " + key_match + ")");
    for (const Table* t : nested) {
      sql.push_back("DELETE FROM " + qualified(dataset, t->name) + " WHERE " + root_id + " IN (SELECT * FROM " + del +
                    ")");
    }
    sql.push_back("DELETE FROM " + target + " WHERE " + dlt_id + " IN (SELECT * FROM " + del + ")");
    sql.push_back("CREATE TEMPORARY TABLE " + ins + " ON COMMIT DROP AS SELECT " + dlt_id +
                  " FROM (SELECT ROW_NUMBER() OVER (partition BY " + partition + " ORDER BY (SELECT NULL)) AS " +
                  "_dlt_dedup_rn, " + dlt_id + " FROM " + source +
                  ") AS _dlt_dedup_numbered WHERE _dlt_dedup_rn = 1 AND (1 = 1)");
    sql.push_back("INSERT INTO " + target + "(" + columns + ") SELECT " + columns + " FROM " + source + " WHERE " +
                  dlt_id + " IN (SELECT * FROM " + ins + ")");
  } else {
    sql.push_back("INSERT INTO " + target + "(" + columns + ") SELECT " + columns + " FROM " + source);
  }
  for (const Table* t : nested) {
    std::string cols = column_list(*t);
    std::string insert = "INSERT INTO " + qualified(dataset, t->name) + "(" + cols + ") " +
                         dedup_select(dlt_id, cols, qualified(staging, t->name)) + " WHERE _dlt_dedup_rn = 1";
    if (!primary_key.empty()) insert += " AND (" + root_id + " IN (SELECT * FROM " + ins + "))";
    sql.push_back(std::move(insert));
  }
  return sql;
}

}  // namespace mh::load
