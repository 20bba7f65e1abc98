// Load package ids as dlt makes them: Python's str(time.time()), strictly
// increasing within the process (docs/dlt-layout.md §System columns).
#pragma once

#include <string>

namespace mh::load {

std::string new_load_id();

// The load id as a number, for ordering packages; NaN when it is none.
double load_id_value(const std::string& load_id);

}  // namespace mh::load
