#include "load/filesystem.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "load/copy_text.hpp"
#include "load/load_id.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "normalize/timestamp.hpp"
#include "util/atomic_file.hpp"

namespace mh::load {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using normalize::DataType;

json::value typed(DataType type, const std::string& text) {
  switch (type) {
    case DataType::bigint:
    case DataType::double_: {
      json::error_code ec;
      json::value v = json::parse(text, ec);
      // NaN and infinities have no JSON form.
      return ec || !v.is_number() ? json::value(nullptr) : v;
    }
    case DataType::bool_: return json::value(text == "t");
    case DataType::json: {
      json::error_code ec;
      json::value v = json::parse(text, ec);
      return ec ? json::value(text) : v;
    }
    case DataType::text:
    case DataType::timestamp:
    case DataType::decimal: break;  // decimals as strings keep their precision
  }
  return json::value(text);
}

std::string now_iso() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::string out;
  normalize::format_utc_timestamp(out, us);
  return out;
}

// A name from configuration or a hash, made safe as one path component.
std::string file_component(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string convert_file(const Package& package, const normalize::Table* table, const PackageFile& file) {
  std::vector<DataType> types;
  for (const auto& c : file.columns) {
    const normalize::Column* col = table != nullptr ? table->find(c) : nullptr;
    types.push_back(col != nullptr ? col->type : DataType::text);
  }
  std::ifstream in(package.path(file), std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + package.path(file));
  std::string out;
  std::string line;
  std::vector<std::optional<std::string>> fields;
  while (std::getline(in, line)) {
    parse_copy_line(line, fields);
    json::object row;
    for (std::size_t i = 0; i < fields.size() && i < file.columns.size(); ++i) {
      if (fields[i]) row[file.columns[i]] = typed(types[i], *fields[i]);
    }
    out += json::serialize(row);
    out += '\n';
  }
  if (in.bad()) throw std::runtime_error("cannot read " + package.path(file));
  return out;
}

// The newest load id among a table's files (<load_id>.<n>.jsonl); -1 when none.
double newest_load(const std::string& table_dir) {
  double newest = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(table_dir, ec)) {
    if (entry.path().extension() != ".jsonl") continue;
    std::string id = entry.path().stem().string();  // <load_id>.<n>
    id = id.substr(0, id.rfind('.'));
    double v = load_id_value(id);
    if (!std::isnan(v) && v > newest) newest = v;
  }
  return newest;
}

void write_jsonl(const std::string& dir, const std::string& name, const std::string& content) {
  fs::create_directories(dir);
  util::write_file_atomic(dir + "/" + name, content);
}

}  // namespace

FilesystemDestination::FilesystemDestination(FilesystemConfig config)
    : config_(std::move(config)), dataset_(normalize_dataset_name(config_.dataset)) {}

std::string FilesystemDestination::describe() const { return "filesystem " + config_.path; }

LoadResult FilesystemDestination::load(const Package& package) {
  const auto start = std::chrono::steady_clock::now();
  const Manifest& m = package.manifest();
  const normalize::Schema& schema = package.schema();
  const std::string base = dataset_dir();
  const std::string schema_part = file_component(m.schema_name);
  const std::string marker_dir = base + "/_dlt_loads";
  const std::string marker = schema_part + "__" + m.load_id + ".jsonl";
  LoadResult result;
  result.load_id = m.load_id;
  if (fs::exists(marker_dir + "/" + marker)) {
    result.status = LoadStatus::already_loaded;
    return result;
  }

  std::set<std::string> stale;  // replace tables left alone
  for (const auto& r : m.resources) {
    auto root = schema.table_index(r.table);
    if (!root) continue;
    if (r.write_disposition == normalize::WriteDisposition::merge) {
      log::warn("the filesystem destination loads merge as append", {{"table", r.table}});
    }
    if (r.write_disposition != normalize::WriteDisposition::replace) continue;
    if (newest_load(base + "/" + r.table) > load_id_value(m.load_id)) {
      // An older package than the table's data (see load-packages.md): the table stays.
      log::warn("replace skipped: the table holds a newer load than this package",
                {{"table", r.table}, {"load_id", m.load_id}});
      for (std::size_t t : schema.chain(*root)) stale.insert(schema.table(t).name);
      continue;
    }
    for (std::size_t t : schema.chain(*root)) {
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(base + "/" + schema.table(t).name, ec)) {
        if (entry.path().extension() == ".jsonl") fs::remove(entry.path());
      }
    }
  }

  for (const auto& table : m.tables) {
    if (stale.contains(table.name)) continue;
    const normalize::Table* t = schema.find_table(table.name);
    for (std::size_t n = 0; n < table.files.size(); ++n) {
      write_jsonl(base + "/" + table.name, m.load_id + "." + std::to_string(n) + ".jsonl",
                  convert_file(package, t, table.files[n]));
    }
    result.table_rows[table.name] = table.rows;
    result.rows += table.rows;
  }

  std::string version_file = schema_part + "__" + file_component(schema.version_hash()) + ".jsonl";
  if (!fs::exists(base + "/_dlt_version/" + version_file)) {
    json::object v{{"version", schema.version()},
                   {"engine_version", normalize::kSchemaEngineVersion},
                   {"inserted_at", now_iso()},
                   {"schema_name", schema.name()},
                   {"version_hash", schema.version_hash()},
                   {"schema", json::serialize(schema.to_json())}};
    write_jsonl(base + "/_dlt_version", version_file, json::serialize(v) + "\n");
  }
  if (m.state) {
    json::object s{{"version", m.state->version},
                   {"engine_version", m.state->engine_version},
                   {"pipeline_name", m.state->pipeline_name},
                   {"state", m.state->state},
                   {"created_at", now_iso()},
                   {"version_hash", m.state->version_hash},
                   {"_dlt_load_id", m.load_id}};
    write_jsonl(base + "/_dlt_pipeline_state", file_component(m.state->pipeline_name) + "__" + m.load_id + ".jsonl",
                json::serialize(s) + "\n");
  }
  json::object load{{"load_id", m.load_id},
                    {"schema_name", m.schema_name},
                    {"status", 0},
                    {"inserted_at", now_iso()},
                    {"schema_version_hash", m.schema_version_hash}};
  write_jsonl(marker_dir, marker, json::serialize(load) + "\n");
  util::fsync_path(marker_dir);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("load package written", {{"load_id", m.load_id}, {"path", base}, {"rows", result.rows}});
  return result;
}

}  // namespace mh::load
