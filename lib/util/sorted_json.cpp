#include "util/sorted_json.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <vector>

namespace mh::util {
namespace {

void write(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> items;
      items.reserve(obj.size());
      for (const auto& kv : obj) items.push_back(&kv);
      std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string(kv->key()));
        out += ':';
        write(out, kv->value());
      }
      out += '}';
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(out, item);
      }
      out += ']';
      break;
    }
    default: out += boost::json::serialize(v);
  }
}

}  // namespace

std::string serialize_sorted(const boost::json::value& v) {
  std::string out;
  write(out, v);
  return out;
}

}  // namespace mh::util
