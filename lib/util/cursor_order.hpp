// The order of incremental cursor values (dlt's `last_value`): numbers by
// value, anything else by its text. Shared by extraction, which keeps the
// largest value it saw, and the load, which never stores a smaller one.
#pragma once

#include <boost/json/value.hpp>

namespace mh::util {

// -1, 0 or 1 as `a` sorts before, with or after `b`.
int compare_cursor(const boost::json::value& a, const boost::json::value& b);

}  // namespace mh::util
