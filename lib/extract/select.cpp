#include "extract/select.hpp"

#include <boost/json.hpp>
#include <functional>
#include <unordered_set>

namespace mh::extract {
namespace json = boost::json;

namespace {

using Pinned = std::unordered_set<const json::value*>;

// Every value the kept paths pass through, from the root down.
Pinned pin(const json::value& root, const std::vector<const config::JsonPath*>& keep) {
  Pinned out;
  for (const config::JsonPath* path : keep) {
    const json::value* v = &root;
    for (const auto& step : path->steps) {
      if (step.kind == config::JsonPath::Step::Kind::key && v->is_object()) {
        v = v->as_object().if_contains(step.key);
      } else if (step.kind == config::JsonPath::Step::Kind::index && v->is_array() &&
                 step.index < v->as_array().size()) {
        v = &v->as_array()[step.index];
      } else {
        v = nullptr;
      }
      if (v == nullptr) break;
      out.insert(v);
    }
  }
  return out;
}

// Moves `v` into `out`, or copies it when a kept path runs through it (the page's next link
// or cursor may sit inside a record; the paginator reads it after the records are taken).
void take(json::value& v, const Pinned& pinned, std::vector<json::value>& out) {
  if (pinned.count(&v) != 0) {
    out.push_back(v);
  } else {
    out.push_back(std::move(v));
  }
}

// Takes every item; then, unless a kept path runs into the list, frees the list's storage
// (its items were moved out) before the records are normalized.
void take_all(json::array& items, const Pinned& pinned, std::vector<json::value>& out) {
  out.reserve(out.size() + items.size());
  bool kept = false;
  for (auto& item : items) {
    kept = kept || pinned.count(&item) != 0;
    take(item, pinned, out);
  }
  if (!kept) {
    items.clear();
    items.shrink_to_fit();
  }
}

void collect(json::value& v, const std::vector<config::JsonPath::Step>& steps, std::size_t i, const Pinned& pinned,
             std::vector<json::value>& out) {
  if (i == steps.size()) {
    if (v.is_array()) {
      take_all(v.as_array(), pinned, out);
    } else if (!v.is_null()) {
      take(v, pinned, out);  // a selected non-list is one record
    }
    return;
  }
  const auto& step = steps[i];
  switch (step.kind) {
    case config::JsonPath::Step::Kind::key:
      if (v.is_object()) {
        if (json::value* c = v.as_object().if_contains(step.key)) collect(*c, steps, i + 1, pinned, out);
      }
      break;
    case config::JsonPath::Step::Kind::index:
      if (v.is_array() && step.index < v.as_array().size()) {
        collect(v.as_array()[step.index], steps, i + 1, pinned, out);
      }
      break;
    case config::JsonPath::Step::Kind::wildcard:
      if (v.is_array()) {
        for (auto& item : v.as_array()) collect(item, steps, i + 1, pinned, out);
      } else if (v.is_object()) {
        for (auto& kv : v.as_object()) collect(kv.value(), steps, i + 1, pinned, out);
      }
      break;
  }
}

constexpr std::string_view kListKeys[] = {"data",     "items",   "results", "entries", "records", "rows",
                                          "entities", "payload", "content", "objects", "values"};

}  // namespace

json::array* detect_list(json::object& body) {
  // Well-known keys first (up to two levels deep), else the least nested list.
  json::array* best = nullptr;
  int best_depth = 99;
  std::function<void(json::object&, int)> scan = [&](json::object& o, int depth) {
    for (auto key : kListKeys) {
      json::value* v = o.if_contains(key);
      if (v && v->is_array() && (best == nullptr || best_depth > -1)) {
        best = &v->as_array();
        best_depth = -1;  // a named list wins over any unnamed one
        return;
      }
    }
    for (auto& kv : o) {
      if (kv.value().is_array() && depth < best_depth && best_depth != -1) {
        best = &kv.value().as_array();
        best_depth = depth;
      }
    }
    if (depth < 1) {
      for (auto& kv : o) {
        if (kv.value().is_object() && best_depth != -1) scan(kv.value().as_object(), depth + 1);
      }
    }
  };
  scan(body, 0);
  return best;
}

std::vector<json::value> take_records(json::value& body, const std::optional<config::JsonPath>& selector,
                                      const std::vector<const config::JsonPath*>& keep) {
  std::vector<json::value> out;
  const Pinned pinned = pin(body, keep);
  if (selector) {
    collect(body, selector->steps, 0, pinned, out);
    return out;
  }
  if (body.is_array()) {
    take_all(body.as_array(), pinned, out);
    return out;
  }
  if (!body.is_object()) return out;
  json::array* best = detect_list(body.as_object());
  if (best != nullptr) {
    take_all(*best, pinned, out);
  } else {
    out.push_back(body);  // the body itself is the record: a copy, the paginator may read it
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
