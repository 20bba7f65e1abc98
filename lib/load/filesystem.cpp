#include "load/filesystem.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "load/copy_text.hpp"
#include "load/load_id.hpp"
#include "load/state.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "normalize/reconcile.hpp"
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
      if (ec || !v.is_number()) return json::value(nullptr);
      // A bigint package column loaded into a stored double column stays a double.
      if (type == DataType::double_ && !v.is_double()) return json::value(v.to_number<double>());
      return v;
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

// `columns` are the file's columns as the union schema names them.
std::string convert_file(const Package& package, const normalize::Table* table, const PackageFile& file,
                         const std::vector<std::string>& columns) {
  std::vector<DataType> types;
  for (const auto& c : columns) {
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
    for (std::size_t i = 0; i < fields.size() && i < columns.size(); ++i) {
      if (fields[i]) row[columns[i]] = typed(types[i], *fields[i]);
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

// An exclusive flock on the dataset's lock file, for one load at a time
// across processes (and replicas sharing the folder).
class DatasetLock {
 public:
  explicit DatasetLock(const std::string& base) {
    fs::create_directories(base);
    std::string path = base + "/_mhloader.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd_);
      throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err));
    }
  }
  ~DatasetLock() { ::close(fd_); }  // closing releases the lock
  DatasetLock(const DatasetLock&) = delete;
  DatasetLock& operator=(const DatasetLock&) = delete;

 private:
  int fd_ = -1;
};

// The record with the highest "version" among dir/<prefix>*.jsonl files (one
// record each) that `accept` takes.
std::optional<json::object> newest_record(const std::string& dir, const std::string& prefix,
                                          const std::function<bool(const json::object&)>& accept) {
  std::optional<json::object> best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".jsonl") continue;
    json::error_code pec;
    json::value v = json::parse(util::read_file(entry.path().string()), pec);
    if (pec || !v.is_object()) continue;
    const json::value* version = v.as_object().if_contains("version");
    if (version == nullptr || !version->is_int64() || !accept(v.as_object())) continue;
    if (!best || best->at("version").as_int64() < version->as_int64()) best = std::move(v.as_object());
  }
  return best;
}

std::optional<normalize::Schema> newest_schema_record(const std::string& base, const std::string& schema_name) {
  auto rec = newest_record(base + "/_dlt_version", file_component(schema_name) + "__",
                           [](const json::object&) { return true; });
  if (!rec) return std::nullopt;
  const json::value* text = rec->if_contains("schema");
  if (text == nullptr || !text->is_string()) return std::nullopt;
  return normalize::Schema::from_json(json::parse(text->as_string()));
}

// The newest pipeline state whose load completed (its `_dlt_loads` marker exists).
std::optional<json::object> newest_state_record(const std::string& base, const std::string& schema_part,
                                                const std::string& pipeline_name) {
  auto rec =
      newest_record(base + "/_dlt_pipeline_state", file_component(pipeline_name) + "__", [&](const json::object& r) {
        const json::value* id = r.if_contains("_dlt_load_id");
        const json::value* p = r.if_contains("pipeline_name");
        return id && id->is_string() && p && p->is_string() && p->as_string() == pipeline_name &&
               fs::exists(base + "/_dlt_loads/" + schema_part + "__" + std::string(id->as_string()) + ".jsonl");
      });
  if (!rec || !rec->at("state").is_string()) return std::nullopt;
  return decompress_state(rec->at("state").as_string());
}

}  // namespace

FilesystemDestination::FilesystemDestination(FilesystemConfig config)
    : config_(std::move(config)), dataset_(normalize_dataset_name(config_.dataset)) {}

std::string FilesystemDestination::describe() const { return "filesystem " + config_.path; }

std::optional<normalize::Schema> FilesystemDestination::stored_schema(const std::string& schema_name) {
  DatasetLock lock(dataset_dir());
  return newest_schema_record(dataset_dir(), schema_name);
}

LoadResult FilesystemDestination::load(const Package& package) {
  const auto start = std::chrono::steady_clock::now();
  const Manifest& m = package.manifest();
  const std::string base = dataset_dir();
  const std::string schema_part = file_component(m.schema_name);
  const std::string marker_dir = base + "/_dlt_loads";
  const std::string marker = schema_part + "__" + m.load_id + ".jsonl";
  LoadResult result;
  result.load_id = m.load_id;
  DatasetLock lock(base);
  if (fs::exists(marker_dir + "/" + marker)) {
    result.status = LoadStatus::already_loaded;
    return result;
  }
  const normalize::Reconciled reconciled =
      normalize::reconcile(newest_schema_record(base, m.schema_name), package.schema());
  const normalize::Schema& schema = reconciled.schema;

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
      write_jsonl(
          base + "/" + table.name, m.load_id + "." + std::to_string(n) + ".jsonl",
          convert_file(package, t, table.files[n], reconciled.target_columns(table.name, table.files[n].columns)));
    }
    result.table_rows[table.name] = table.rows;
    result.rows += table.rows;
  }

  // Named by version and hash: a union whose hash an older version already has
  // (hints flipped back) still gets its own, newest file. Older datasets'
  // <schema>__<hash>.jsonl files share the prefix, so they are read too.
  std::string version_file =
      schema_part + "__" + std::to_string(schema.version()) + "__" + file_component(schema.version_hash()) + ".jsonl";
  if (reconciled.changed && !fs::exists(base + "/_dlt_version/" + version_file)) {
    json::object v{{"version", schema.version()},
                   {"engine_version", normalize::kSchemaEngineVersion},
                   {"inserted_at", now_iso()},
                   {"schema_name", schema.name()},
                   {"version_hash", schema.version_hash()},
                   {"schema", json::serialize(schema.to_json())}};
    write_jsonl(base + "/_dlt_version", version_file, json::serialize(v) + "\n");
  }
  if (m.state) {
    auto doc = next_state_document(newest_state_record(base, schema_part, m.state->pipeline_name), *m.state);
    if (doc) {
      json::object s{{"version", doc->at("_state_version")},
                     {"engine_version", kStateEngineVersion},
                     {"pipeline_name", m.state->pipeline_name},
                     {"state", compress_state(*doc)},
                     {"created_at", now_iso()},
                     {"version_hash", doc->at("_version_hash")},
                     {"_dlt_load_id", m.load_id}};
      write_jsonl(base + "/_dlt_pipeline_state", file_component(m.state->pipeline_name) + "__" + m.load_id + ".jsonl",
                  json::serialize(s) + "\n");
    }
  }
  json::object load{{"load_id", m.load_id},
                    {"schema_name", m.schema_name},
                    {"status", 0},
                    {"inserted_at", now_iso()},
                    {"schema_version_hash", schema.version_hash()}};
  write_jsonl(marker_dir, marker, json::serialize(load) + "\n");
  util::fsync_path(marker_dir);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("load package written", {{"load_id", m.load_id}, {"path", base}, {"rows", result.rows}});
  return result;
}

}  // namespace mh::load
