#include "normalize/schema.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <stdexcept>

#include "util/codec.hpp"
#include "util/hash.hpp"
#include "util/sorted_json.hpp"

namespace mh::normalize {
namespace {

namespace json = boost::json;

constexpr std::string_view kDltTables[] = {"_dlt_version", "_dlt_loads", "_dlt_pipeline_state"};

bool is_dlt_table(std::string_view name) {
  return std::find(std::begin(kDltTables), std::end(kDltTables), name) != std::end(kDltTables);
}

json::object column_json(const Column& c) {
  json::object o;
  o["name"] = c.name;
  o["data_type"] = type_name(c.type);
  o["nullable"] = c.nullable;
  // dlt stores only hints that are set (false is the default and left out).
  if (c.unique) o["unique"] = true;
  if (c.row_key) o["row_key"] = true;
  if (c.parent_key) o["parent_key"] = true;
  if (c.root_key) o["root_key"] = true;
  if (c.primary_key) o["primary_key"] = true;
  if (c.variant) o["variant"] = true;
  return o;
}

json::object columns_json(const std::vector<Column>& columns) {
  json::object o;
  for (const auto& c : columns) o[c.name] = column_json(c);
  return o;
}

json::object dlt_table(std::string_view name, std::vector<Column> columns, std::string_view disposition,
                       std::string_view description) {
  json::object t;
  t["name"] = name;
  t["columns"] = columns_json(columns);
  t["write_disposition"] = disposition;
  t["resource"] = name;
  t["description"] = description;
  return t;
}

Column required(std::string name, DataType type) {
  return Column{.name = std::move(name), .type = type, .nullable = false};
}
Column optional_column(std::string name, DataType type) { return Column{.name = std::move(name), .type = type}; }

json::object version_table() {
  return dlt_table("_dlt_version",
                   {required("version", DataType::bigint), required("engine_version", DataType::bigint),
                    required("inserted_at", DataType::timestamp), required("schema_name", DataType::text),
                    required("version_hash", DataType::text), required("schema", DataType::text)},
                   "skip", "Created by DLT. Tracks schema updates");
}

json::object loads_table() {
  return dlt_table("_dlt_loads",
                   {required("load_id", DataType::text), optional_column("schema_name", DataType::text),
                    required("status", DataType::bigint), required("inserted_at", DataType::timestamp),
                    optional_column("schema_version_hash", DataType::text)},
                   "skip", "Created by DLT. Tracks completed loads");
}

json::object pipeline_state_table() {
  Column id = required(std::string(kDltId), DataType::text);
  id.unique = true;
  id.row_key = true;
  return dlt_table("_dlt_pipeline_state",
                   {required("version", DataType::bigint), required("engine_version", DataType::bigint),
                    required("pipeline_name", DataType::text), required("state", DataType::text),
                    required("created_at", DataType::timestamp), optional_column("version_hash", DataType::text),
                    required(std::string(kDltLoadId), DataType::text), id},
                   "append", "Created by DLT. Tracks pipeline state");
}

json::array strings(std::initializer_list<std::string_view> items) {
  json::array a;
  for (auto s : items) a.emplace_back(s);
  return a;
}

const json::object* member_object(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

std::string member_string(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

bool member_bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

}  // namespace

std::string_view to_string(WriteDisposition d) {
  switch (d) {
    case WriteDisposition::append: return "append";
    case WriteDisposition::replace: return "replace";
    case WriteDisposition::merge: return "merge";
  }
  return "append";
}

std::optional<WriteDisposition> parse_write_disposition(std::string_view s) {
  if (s == "append") return WriteDisposition::append;
  if (s == "replace") return WriteDisposition::replace;
  if (s == "merge") return WriteDisposition::merge;
  return std::nullopt;
}

bool is_system_column(std::string_view name) {
  return name == kDltId || name == kDltLoadId || name == kDltParentId || name == kDltListIdx || name == kDltRootId;
}

std::optional<std::size_t> Table::index_of(std::string_view column_name) const {
  auto it = index_.find(column_name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const Column* Table::find(std::string_view column_name) const {
  auto i = index_of(column_name);
  return i ? &columns_[*i] : nullptr;
}

Schema::Schema(std::string name) : name_(std::move(name)) { version_hash_ = content_hash(); }

std::optional<std::size_t> Schema::table_index(std::string_view table_name) const {
  auto it = table_index_.find(table_name);
  if (it == table_index_.end()) return std::nullopt;
  return it->second;
}

const Table* Schema::find_table(std::string_view table_name) const {
  auto i = table_index(table_name);
  return i ? &tables_[*i] : nullptr;
}

std::size_t Schema::add_table(std::string table_name, std::string parent) {
  if (table_index(table_name)) throw std::logic_error("table " + table_name + " exists already");
  Table t;
  t.name = std::move(table_name);
  t.parent = std::move(parent);
  std::size_t i = tables_.size();
  table_index_.emplace(t.name, i);
  tables_.push_back(std::move(t));
  journal_.push_back({i, true});
  return i;
}

std::size_t Schema::add_column(std::size_t table, Column column) {
  Table& t = tables_.at(table);
  if (t.index_.contains(column.name)) throw std::logic_error("column " + column.name + " exists already");
  std::size_t i = t.columns_.size();
  t.index_.emplace(column.name, i);
  t.columns_.push_back(std::move(column));
  journal_.push_back({table, false});
  return i;
}

void Schema::rollback(std::size_t mark) {
  while (journal_.size() > mark) {
    JournalEntry e = journal_.back();
    journal_.pop_back();
    if (e.new_table) {
      table_index_.erase(tables_.back().name);
      tables_.pop_back();
    } else {
      Table& t = tables_[e.table];
      t.index_.erase(t.columns_.back().name);
      t.columns_.pop_back();
    }
  }
}

std::vector<std::size_t> Schema::chain(std::size_t root) const {
  std::vector<std::size_t> out;
  // Depth first, children in creation order, as dlt's get_nested_tables.
  auto visit = [&](auto& self, std::size_t t) -> void {
    out.push_back(t);
    for (std::size_t c = 0; c < tables_.size(); ++c) {
      if (tables_[c].parent == tables_[t].name) self(self, c);
    }
  };
  visit(visit, root);
  return out;
}

std::size_t Schema::root_of(std::size_t table) const {
  std::size_t t = table;
  for (std::size_t guard = 0; !tables_[t].is_root() && guard < tables_.size(); ++guard) {
    auto parent = table_index(tables_[t].parent);
    if (!parent) break;
    t = *parent;
  }
  return t;
}

json::object Schema::to_json() const {
  json::object doc;
  doc["version"] = version_;
  doc["version_hash"] = version_hash_;
  doc["engine_version"] = kSchemaEngineVersion;
  doc["name"] = name_;

  json::object tables;
  tables["_dlt_version"] = version_table();
  tables["_dlt_loads"] = loads_table();
  json::object propagation;
  for (std::size_t i = 0; i < tables_.size(); ++i) {
    const Table& t = tables_[i];
    json::object o;
    o["name"] = t.name;
    o["columns"] = columns_json(t.columns_);
    if (t.is_root()) {
      o["write_disposition"] = to_string(t.write_disposition.value_or(WriteDisposition::append));
      o["resource"] = t.resource.empty() ? t.name : t.resource;
    } else {
      o["parent"] = t.parent;
    }
    json::object xn;
    if (t.max_nesting) xn["max_nesting"] = *t.max_nesting;
    xn["seen-data"] = true;
    o["x-normalizer"] = std::move(xn);
    tables[t.name] = std::move(o);
    if (t.is_root()) {
      bool propagates = t.write_disposition == WriteDisposition::merge;
      for (std::size_t c : chain(i)) propagates = propagates || tables_[c].index_.contains(kDltRootId);
      if (propagates) propagation[t.name] = json::object{{kDltId, kDltRootId}};
    }
  }
  tables["_dlt_pipeline_state"] = pipeline_state_table();
  doc["tables"] = std::move(tables);

  json::object default_hints;
  default_hints["not_null"] = strings({kDltId, kDltRootId, kDltParentId, kDltListIdx, kDltLoadId});
  default_hints["parent_key"] = strings({kDltParentId});
  default_hints["root_key"] = strings({kDltRootId});
  default_hints["unique"] = strings({kDltId});
  default_hints["row_key"] = strings({kDltId});
  doc["settings"] = json::object{{"detections", strings({"iso_timestamp"})}, {"default_hints", default_hints}};

  json::object json_normalizer{{"module", "dlt.common.normalizers.json.relational"}};
  if (!propagation.empty()) {
    json_normalizer["config"] = json::object{{"propagation", json::object{{"tables", std::move(propagation)}}}};
  }
  doc["normalizers"] = json::object{{"names", "snake_case"}, {"json", std::move(json_normalizer)}};
  json::array prev;
  for (const auto& h : previous_hashes_) prev.emplace_back(h);
  doc["previous_hashes"] = std::move(prev);
  return doc;
}

std::string Schema::content_hash() const {
  json::object doc = to_json();
  doc.erase("version");
  doc.erase("version_hash");
  doc.erase("imported_version_hash");
  doc.erase("previous_hashes");
  util::Sha3_256 h;
  h.update(util::serialize_sorted(doc));
  // Key order is lost in the sorted dump, so table and column order go in apart.
  const auto& tables = doc["tables"].get_object();
  std::vector<std::string_view> names;
  for (const auto& kv : tables) names.push_back(kv.key());
  std::sort(names.begin(), names.end());
  for (auto tn : names) {
    h.update(tn);
    const auto& t = tables.at(tn).get_object();
    if (const auto* cols = member_object(t, "columns")) {
      for (const auto& c : *cols) h.update(c.key());
    }
  }
  return util::base64_encode(h.digest());
}

bool Schema::bump_version() {
  std::string h = content_hash();
  if (h == version_hash_) return false;
  if (!version_hash_.empty()) {
    ++version_;
    if (std::find(previous_hashes_.begin(), previous_hashes_.end(), version_hash_) == previous_hashes_.end()) {
      previous_hashes_.insert(previous_hashes_.begin(), version_hash_);
      if (previous_hashes_.size() > 10) previous_hashes_.resize(10);
    }
  }
  version_hash_ = std::move(h);
  return true;
}

Schema Schema::from_json(const json::value& doc_value) {
  if (!doc_value.is_object()) throw std::invalid_argument("schema: not a JSON object");
  const auto& doc = doc_value.get_object();
  std::string name = member_string(doc, "name");
  if (name.empty()) throw std::invalid_argument("schema: no name");
  Schema s(name, NoHash{});
  if (auto it = doc.find("version"); it != doc.end() && it->value().is_int64()) s.version_ = it->value().get_int64();
  if (const auto* tables = member_object(doc, "tables")) {
    for (const auto& kv : *tables) {
      if (is_dlt_table(kv.key()) || !kv.value().is_object()) continue;
      const auto& t = kv.value().get_object();
      std::size_t ti = s.add_table(std::string(kv.key()), member_string(t, "parent"));
      Table& table = s.tables_[ti];
      if (table.is_root()) {
        table.resource = member_string(t, "resource");
        table.write_disposition = parse_write_disposition(member_string(t, "write_disposition"));
      }
      if (const auto* xn = member_object(t, "x-normalizer")) {
        if (auto it = xn->find("max_nesting"); it != xn->end() && it->value().is_int64()) {
          table.max_nesting = static_cast<int>(it->value().get_int64());
        }
      }
      if (const auto* cols = member_object(t, "columns")) {
        for (const auto& ckv : *cols) {
          if (!ckv.value().is_object()) continue;
          const auto& c = ckv.value().get_object();
          std::string type = member_string(c, "data_type");
          if (type.empty()) continue;  // incomplete column: a hint without data yet
          Column col;
          col.name = std::string(ckv.key());
          col.type = parse_type_name(type).value_or(DataType::text);
          auto nullable = c.find("nullable");
          col.nullable = nullable == c.end() || !nullable->value().is_bool() || nullable->value().get_bool();
          col.unique = member_bool(c, "unique");
          col.row_key = member_bool(c, "row_key");
          col.parent_key = member_bool(c, "parent_key") || member_bool(c, "foreign_key");
          col.root_key = member_bool(c, "root_key");
          col.primary_key = member_bool(c, "primary_key");
          col.variant = member_bool(c, "variant");
          s.add_column(ti, std::move(col));
        }
      }
    }
  }
  if (auto it = doc.find("previous_hashes"); it != doc.end() && it->value().is_array()) {
    for (const auto& h : it->value().get_array()) {
      if (h.is_string()) s.previous_hashes_.emplace_back(h.get_string());
    }
  }
  s.version_hash_ = member_string(doc, "version_hash");
  if (s.version_hash_.empty()) s.version_hash_ = s.content_hash();
  s.journal_.clear();
  return s;
}

}  // namespace mh::normalize
