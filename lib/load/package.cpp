#include "load/package.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "load/load_id.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "util/atomic_file.hpp"

namespace mh::load {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const json::value& member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) throw std::invalid_argument("manifest: missing '" + std::string(key) + "'");
  return it->value();
}

std::string str(const json::object& o, std::string_view key) {
  const auto& v = member(o, key);
  if (!v.is_string()) throw std::invalid_argument("manifest: '" + std::string(key) + "' is not a string");
  return std::string(v.get_string());
}

std::int64_t int64(const json::object& o, std::string_view key) {
  const auto& v = member(o, key);
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  throw std::invalid_argument("manifest: '" + std::string(key) + "' is not an integer");
}

const json::array& arr(const json::object& o, std::string_view key) {
  const auto& v = member(o, key);
  if (!v.is_array()) throw std::invalid_argument("manifest: '" + std::string(key) + "' is not an array");
  return v.get_array();
}

const json::object& obj(const json::value& v) {
  if (!v.is_object()) throw std::invalid_argument("manifest: an entry is not an object");
  return v.get_object();
}

json::array strings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

std::vector<std::string> strings(const json::array& a) {
  std::vector<std::string> out;
  for (const auto& v : a) {
    if (!v.is_string()) throw std::invalid_argument("manifest: a name is not a string");
    out.emplace_back(v.get_string());
  }
  return out;
}

// Table names are normalized identifiers: [a-z0-9_]. Checked again here
// because they become file and folder names.
bool valid_identifier(std::string_view name) {
  if (name.empty() || name.size() > normalize::kMaxIdentifierLength) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool valid_file_name(const std::string& name) {
  std::size_t dot = name.find('.');
  if (dot == std::string::npos || !name.ends_with(".copy") ||
      !valid_identifier(std::string_view(name).substr(0, dot))) {
    return false;
  }
  std::string_view n(name.data() + dot + 1, name.size() - dot - 1 - 5);
  return !n.empty() && n.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::uint64_t Manifest::rows() const {
  std::uint64_t n = 0;
  for (const auto& t : tables) n += t.rows;
  return n;
}

const PackageResource* Manifest::resource_for_table(const std::string& root_table) const {
  for (const auto& r : resources) {
    if (r.table == root_table) return &r;
  }
  return nullptr;
}

json::object Manifest::to_json() const {
  json::object doc;
  doc["format"] = 1;
  doc["load_id"] = load_id;
  doc["schema_name"] = schema_name;
  doc["schema_version"] = schema_version;
  doc["schema_version_hash"] = schema_version_hash;
  json::array res;
  for (const auto& r : resources) {
    res.push_back(json::object{{"name", r.name},
                               {"table", r.table},
                               {"write_disposition", normalize::to_string(r.write_disposition)},
                               {"primary_key", strings(r.primary_key)}});
  }
  doc["resources"] = std::move(res);
  json::array tabs;
  for (const auto& t : tables) {
    json::array files;
    for (const auto& f : t.files) {
      files.push_back(json::object{{"name", f.name}, {"columns", strings(f.columns)}, {"rows", f.rows}});
    }
    tabs.push_back(json::object{{"name", t.name}, {"parent", t.parent}, {"rows", t.rows}, {"files", std::move(files)}});
  }
  doc["tables"] = std::move(tabs);
  if (state) {
    doc["state"] = json::object{{"pipeline_name", state->pipeline_name},
                                {"dataset_name", state->dataset_name},
                                {"schema_name", state->schema_name},
                                {"destination_type", state->destination_type},
                                {"sources", state->sources}};
  } else {
    doc["state"] = nullptr;
  }
  if (job_cursors) {
    doc["job_cursors"] = json::object{{"job", job_cursors->job}, {"cursors", job_cursors->cursors}};
  }
  return doc;
}

Manifest Manifest::from_json(const json::value& value) {
  const auto& doc = obj(value);
  Manifest m;
  m.load_id = str(doc, "load_id");
  m.schema_name = str(doc, "schema_name");
  m.schema_version = int64(doc, "schema_version");
  m.schema_version_hash = str(doc, "schema_version_hash");
  for (const auto& rv : arr(doc, "resources")) {
    const auto& r = obj(rv);
    PackageResource res{str(r, "name"), str(r, "table"), normalize::WriteDisposition::append,
                        strings(arr(r, "primary_key"))};
    auto wd = normalize::parse_write_disposition(str(r, "write_disposition"));
    if (!wd) throw std::invalid_argument("manifest: unknown write disposition");
    res.write_disposition = *wd;
    m.resources.push_back(std::move(res));
  }
  for (const auto& tv : arr(doc, "tables")) {
    const auto& t = obj(tv);
    PackageTable table{str(t, "name"), str(t, "parent"), static_cast<std::uint64_t>(int64(t, "rows")), {}};
    if (!valid_identifier(table.name)) throw std::invalid_argument("manifest: bad table name " + table.name);
    for (const auto& fv : arr(t, "files")) {
      const auto& f = obj(fv);
      PackageFile file{str(f, "name"), strings(arr(f, "columns")), static_cast<std::uint64_t>(int64(f, "rows"))};
      if (!valid_file_name(file.name)) throw std::invalid_argument("manifest: bad file name " + file.name);
      table.files.push_back(std::move(file));
    }
    m.tables.push_back(std::move(table));
  }
  // A state of the earlier shape (a finished row, no "dataset_name") was never written by a run: ignored.
  if (auto it = doc.find("state");
      it != doc.end() && it->value().is_object() && it->value().get_object().contains("dataset_name")) {
    const auto& s = it->value().get_object();
    const json::value* sources = s.if_contains("sources");
    m.state = PipelineState{str(s, "pipeline_name"), str(s, "dataset_name"), str(s, "schema_name"),
                            str(s, "destination_type"),
                            sources && sources->is_object() ? sources->get_object() : json::object{}};
  }
  if (auto it = doc.find("job_cursors"); it != doc.end() && it->value().is_object()) {
    const auto& j = it->value().get_object();
    const json::value* c = j.if_contains("cursors");
    m.job_cursors = JobCursors{str(j, "job"), c && c->is_object() ? c->get_object() : json::object{}};
  }
  return m;
}

Package Package::open(const std::string& dir) {
  try {
    Manifest manifest = Manifest::from_json(json::parse(util::read_file(dir + "/" + kManifestFile)));
    normalize::Schema schema = normalize::Schema::from_json(json::parse(util::read_file(dir + "/" + kSchemaFile)));
    if (fs::path(dir).filename() != manifest.load_id) {
      throw std::invalid_argument("manifest load id " + manifest.load_id + " does not match its folder");
    }
    return Package(dir, std::move(manifest), std::move(schema));
  } catch (const std::exception& e) {
    throw std::runtime_error("load package " + dir + ": " + e.what());
  }
}

std::string packages_dir(const std::string& state_dir) { return state_dir + "/packages"; }

std::vector<std::string> complete_packages(const std::string& state_dir) {
  std::vector<std::pair<double, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(packages_dir(state_dir), ec)) {
    if (!entry.is_directory()) continue;
    double id = load_id_value(entry.path().filename().string());
    if (std::isnan(id)) continue;
    if (fs::exists(entry.path() / kManifestFile)) found.emplace_back(id, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace mh::load
