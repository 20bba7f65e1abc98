// Merging a job's stored incremental cursors with the ones a package brings,
// so a stored cursor never moves backwards, whatever order packages load in.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace mh::load {

// One cursor entry ({last_value, unique_hashes, ...}) of the two: the one
// whose `last_value` is newer, whole; at an equal value the incoming one with
// both sides' hashes. The incoming one when either has no last_value.
boost::json::value newer_cursor(const boost::json::value& stored, const boost::json::value& incoming);

// Per resource: the package's cursor replaces the stored one unless the
// stored `last_value` is newer (same cursor_path); at an equal value the
// boundary hashes are united. Resources only one side has are kept.
boost::json::object merge_cursors(const boost::json::object& stored, const boost::json::object& incoming);

}  // namespace mh::load
