#include "extract/select.hpp"

#include <boost/json.hpp>
#include <functional>

namespace mh::extract {
namespace json = boost::json;

namespace {

void collect(const json::value& v, const std::vector<config::JsonPath::Step>& steps, std::size_t i,
             std::vector<json::value>& out) {
  if (i == steps.size()) {
    if (v.is_array()) {
      for (const auto& item : v.as_array()) out.push_back(item);
    } else if (!v.is_null()) {
      out.push_back(v);  // a selected non-list is one record
    }
    return;
  }
  const auto& step = steps[i];
  switch (step.kind) {
    case config::JsonPath::Step::Kind::key:
      if (v.is_object()) {
        if (const json::value* c = v.as_object().if_contains(step.key)) collect(*c, steps, i + 1, out);
      }
      break;
    case config::JsonPath::Step::Kind::index:
      if (v.is_array() && step.index < v.as_array().size()) collect(v.as_array()[step.index], steps, i + 1, out);
      break;
    case config::JsonPath::Step::Kind::wildcard:
      if (v.is_array()) {
        for (const auto& item : v.as_array()) collect(item, steps, i + 1, out);
      } else if (v.is_object()) {
        for (const auto& kv : v.as_object()) collect(kv.value(), steps, i + 1, out);
      }
      break;
  }
}

constexpr std::string_view kListKeys[] = {"data",     "items",   "results", "entries", "records", "rows",
                                          "entities", "payload", "content", "objects", "values"};

}  // namespace

std::vector<json::value> select_records(const json::value& body, const std::optional<config::JsonPath>& selector) {
  std::vector<json::value> out;
  if (selector) {
    collect(body, selector->steps, 0, out);
    return out;
  }
  if (body.is_array()) {
    for (const auto& item : body.as_array()) out.push_back(item);
    return out;
  }
  if (!body.is_object()) return out;
  // Well-known keys first (up to two levels deep), else the least nested list.
  const json::array* best = nullptr;
  int best_depth = 99;
  std::function<void(const json::object&, int)> scan = [&](const json::object& o, int depth) {
    for (auto key : kListKeys) {
      const json::value* v = o.if_contains(key);
      if (v && v->is_array() && (best == nullptr || best_depth > -1)) {
        best = &v->as_array();
        best_depth = -1;  // a named list wins over any unnamed one
        return;
      }
    }
    for (const auto& kv : o) {
      if (kv.value().is_array() && depth < best_depth && best_depth != -1) {
        best = &kv.value().as_array();
        best_depth = depth;
      }
    }
    if (depth < 1) {
      for (const auto& kv : o) {
        if (kv.value().is_object() && best_depth != -1) scan(kv.value().as_object(), depth + 1);
      }
    }
  };
  scan(body.as_object(), 0);
  if (best != nullptr) {
    for (const auto& item : *best) out.push_back(item);
  } else {
    out.push_back(body);
  }
  return out;
}

const json::value* find_value(const json::value& root, const config::JsonPath& path) {
  const json::value* v = &root;
  for (const auto& step : path.steps) {
    if (step.kind == config::JsonPath::Step::Kind::key) {
      if (!v->is_object()) return nullptr;
      v = v->as_object().if_contains(step.key);
    } else if (step.kind == config::JsonPath::Step::Kind::index) {
      if (!v->is_array() || step.index >= v->as_array().size()) return nullptr;
      v = &v->as_array()[step.index];
    } else {
      return nullptr;
    }
    if (v == nullptr) return nullptr;
  }
  return v;
}

const json::value* find_value(const json::value& root, std::string_view path) {
  std::string error;
  auto p = config::parse_json_path(path, error);
  return p ? find_value(root, *p) : nullptr;
}

}  // namespace mh::extract
