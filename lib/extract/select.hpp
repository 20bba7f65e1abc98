// Picking records and values out of API responses: dlt's data_selector (a
// JSONPath subset, with dlt's auto-detection when none is configured) and
// single values by path (cursors, totals, next links).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <vector>

#include "config/json_path.hpp"

namespace mh::extract {

// The records of a page, moved out of `body` (a page's tree is not copied: a 16 MiB page
// can be hundreds of MiB as a tree). With no selector: a top-level list, else the first
// list under data/items/results/… at most two levels deep, else the least nested list, else
// the body itself as one record (dlt's detector). A list taken from is emptied, unless a
// path in `keep` runs into it (a next link or cursor inside a record): then the records on
// those paths are copied and the others left null, so the paginator can still read them.
std::vector<boost::json::value> take_records(boost::json::value& body, const std::optional<config::JsonPath>& selector,
                                             const std::vector<const config::JsonPath*>& keep = {});

// The list dlt's detector picks in an object body (named keys up to two levels deep, else
// the least nested list), or nullptr. Shared with the streaming selector (stream_select.hpp).
boost::json::array* detect_list(boost::json::object& body);

// The value at `path` (no wildcards), or nullptr.
const boost::json::value* find_value(const boost::json::value& root, const config::JsonPath& path);
const boost::json::value* find_value(const boost::json::value& root, std::string_view path);

}  // namespace mh::extract
