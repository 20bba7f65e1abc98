#include "load/state.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "load/cursors.hpp"
#include "util/codec.hpp"
#include "util/hash.hpp"
#include "util/sorted_json.hpp"

namespace mh::load {

namespace json = boost::json;

std::string state_version_hash(const json::object& document) {
  json::object copy = document;
  for (const char* key : {"_state_version", "_state_engine_version", "_version_hash", "_local"}) copy.erase(key);
  return util::base64_encode(util::sha3_256(util::serialize_sorted(copy)));
}

json::object state_document(const PipelineState& state) {
  json::object doc;
  doc["_state_version"] = state.version;
  doc["_state_engine_version"] = kStateEngineVersion;
  doc["schema_names"] = json::array{json::value(state.schema_name)};
  doc["dataset_name"] = state.dataset_name;
  doc["default_schema_name"] = state.schema_name;
  doc["pipeline_name"] = state.pipeline_name;
  doc["destination_type"] = state.destination_type;
  doc["destination_name"] = nullptr;
  if (!state.sources.empty()) doc["sources"] = state.sources;
  doc["_version_hash"] = state_version_hash(doc);
  return doc;
}

namespace {

// `into` with every key of `from` replaced by from's; objects below `depth` merge key by key.
void merge_objects(json::object& into, const json::object& from, int depth) {
  for (const auto& kv : from) {
    json::value* have = into.if_contains(kv.key());
    if (depth > 0 && have != nullptr && have->is_object() && kv.value().is_object()) {
      merge_objects(have->get_object(), kv.value().get_object(), depth - 1);
    } else {
      into[kv.key()] = kv.value();
    }
  }
}

// A resource's state: the package's replaces the stored one, except that each
// `incremental.<cursor_path>` entry both have keeps the newer of the two whole
// (the job_state rule), so an older package loading late never moves it back.
void merge_resource(json::value& into, const json::value& from) {
  json::value stored = std::move(into);
  into = from;
  const json::value* old_inc = stored.is_object() ? stored.get_object().if_contains("incremental") : nullptr;
  json::value* inc = into.is_object() ? into.get_object().if_contains("incremental") : nullptr;
  if (old_inc == nullptr || !old_inc->is_object() || inc == nullptr || !inc->is_object()) return;
  for (auto& [path, entry] : inc->get_object()) {
    if (const json::value* old = old_inc->get_object().if_contains(path)) entry = newer_cursor(*old, entry);
  }
}

// sources.<source>.resources.<resource>: this package's resources replace theirs, cursors merge.
void merge_sources(json::object& into, const json::object& from) {
  for (const auto& [source, state] : from) {
    json::value& have = into[source];
    if (!have.is_object() || !state.is_object()) {
      have = state;
      continue;
    }
    const json::value* resources = state.get_object().if_contains("resources");
    json::object rest = state.get_object();
    rest.erase("resources");
    merge_objects(have.get_object(), rest, 0);
    if (resources == nullptr || !resources->is_object()) continue;
    json::value& have_resources = have.get_object()["resources"];
    if (!have_resources.is_object()) have_resources = json::object{};
    for (const auto& [name, resource] : resources->get_object())
      merge_resource(have_resources.get_object()[name], resource);
  }
}

}  // namespace

std::optional<json::object> next_state_document(const std::optional<json::object>& stored,
                                                const PipelineState& update) {
  json::object fresh = state_document(update);
  json::object doc = stored ? *stored : fresh;  // a first document in dlt's key order
  std::int64_t version = 0;
  if (const json::value* v = doc.if_contains("_state_version"); stored && v && v->is_int64()) version = v->get_int64();
  json::array names;
  if (const json::value* n = doc.if_contains("schema_names"); n && n->is_array()) names = n->get_array();
  if (std::find(names.begin(), names.end(), json::value(update.schema_name)) == names.end()) {
    names.emplace_back(update.schema_name);
  }
  fresh["schema_names"] = std::move(names);
  for (const char* key : {"schema_names", "dataset_name", "default_schema_name", "pipeline_name", "destination_type"}) {
    doc[key] = fresh[key];
  }
  if (!doc.contains("destination_name")) doc["destination_name"] = nullptr;
  if (!update.sources.empty()) {
    json::value& sources = doc["sources"];
    if (!sources.is_object()) sources = json::object{};
    merge_sources(sources.get_object(), update.sources);
  }
  doc["_state_engine_version"] = kStateEngineVersion;
  std::string hash = state_version_hash(doc);
  if (stored && state_version_hash(*stored) == hash) return std::nullopt;
  doc["_state_version"] = version + 1;
  doc["_version_hash"] = hash;
  return doc;
}

std::string compress_state(const json::object& document) {
  return util::base64_encode(util::zlib_compress(json::serialize(document), 9));
}

json::object decompress_state(std::string_view text) {
  std::string raw;
  try {
    raw = util::zlib_decompress(util::base64_decode(text));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("pipeline state: ") + e.what());
  }
  json::error_code ec;
  json::value v = json::parse(raw, ec);
  if (ec || !v.is_object()) throw std::runtime_error("pipeline state: not a JSON object");
  return std::move(v.get_object());
}

}  // namespace mh::load
