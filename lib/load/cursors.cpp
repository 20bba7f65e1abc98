#include "load/cursors.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "util/cursor_order.hpp"

namespace mh::load {
namespace json = boost::json;

namespace {

const json::value* field(const json::value& cursor, const char* key) {
  return cursor.is_object() ? cursor.get_object().if_contains(key) : nullptr;
}

json::value merged(const json::value& stored, const json::value& incoming) {
  const json::value* old_path = field(stored, "cursor_path");
  const json::value* new_path = field(incoming, "cursor_path");
  // Another cursor path (the config changed) or nothing to compare: the package's wins.
  if (old_path == nullptr || new_path == nullptr || *old_path != *new_path) return incoming;
  return newer_cursor(stored, incoming);
}

}  // namespace

json::value newer_cursor(const json::value& stored, const json::value& incoming) {
  const json::value* old_last = field(stored, "last_value");
  const json::value* new_last = field(incoming, "last_value");
  if (old_last == nullptr || new_last == nullptr) return incoming;
  int order = util::compare_cursor(*old_last, *new_last);
  if (order > 0) return stored;
  if (order < 0) return incoming;
  json::value out = incoming;
  json::array hashes;
  for (const json::value* side : {field(stored, "unique_hashes"), field(incoming, "unique_hashes")}) {
    if (side == nullptr || !side->is_array()) continue;
    for (const auto& h : side->get_array()) {
      if (std::find(hashes.begin(), hashes.end(), h) == hashes.end()) hashes.push_back(h);
    }
  }
  out.as_object()["unique_hashes"] = std::move(hashes);
  return out;
}

json::object merge_cursors(const json::object& stored, const json::object& incoming) {
  json::object out = stored;
  for (const auto& [name, cursor] : incoming) {
    auto it = stored.find(name);
    out[name] = it == stored.end() ? cursor : merged(it->value(), cursor);
  }
  return out;
}

}  // namespace mh::load
