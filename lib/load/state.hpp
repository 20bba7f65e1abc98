// dlt's pipeline state document, as stored in `_dlt_pipeline_state.state`
// (base64 of zlib level 9 of the JSON; docs/dlt-layout.md §`_dlt_pipeline_state`) and used to
// restore incremental cursors.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mh::load {

inline constexpr int kStateEngineVersion = 4;

struct PipelineState {
  std::string pipeline_name;
  std::string dataset_name;
  std::string schema_name;
  std::string destination_type = "dlt.destinations.postgres";
  // sources.<source>.resources.<resource>.incremental.<cursor_path> and friends.
  boost::json::object sources;
  // _state_version: state_document() writes it as is; next_state_document() ignores it.
  std::int64_t version = 1;
};

// The full document, `_version_hash` included, in dlt's key order.
boost::json::object state_document(const PipelineState& state);

// dlt's generate_state_version_hash: SHA3-256 (base64) of the sorted JSON
// without _state_version, _state_engine_version, _version_hash and _local.
std::string state_version_hash(const boost::json::object& document);

// The state document to store after a load that brings `update` (this
// package's pipeline, dataset and resource states), given the newest stored
// document: the stored one with update's names and its resources' entries
// replaced, at _state_version + 1. Nothing (std::nullopt) when its hash equals
// the stored one's: dlt writes a row on the first run and on every change only.
std::optional<boost::json::object> next_state_document(const std::optional<boost::json::object>& stored,
                                                       const PipelineState& update);

std::string compress_state(const boost::json::object& document);
// Throws std::runtime_error on text that is not a compressed state.
boost::json::object decompress_state(std::string_view text);

}  // namespace mh::load
