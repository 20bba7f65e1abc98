// Compact JSON with object keys sorted, like Python's json.dumps(sort_keys=True):
// the input of dlt's content hashes (schema and state version hashes).
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace mh::util {

std::string serialize_sorted(const boost::json::value& v);

}  // namespace mh::util
