#include "load/state.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

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
