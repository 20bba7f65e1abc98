// Python's repr() of a float: the text dlt writes for load ids (str(time.time()))
// and for floats coerced into text columns, so ours match byte for byte.
#pragma once

#include <string>

namespace mh::util {

// repr(x) as CPython 3 prints it: shortest round-trip digits; fixed notation
// with at least one fractional digit for 1e-4 <= |x| < 1e16, else d.ddde±XX;
// `nan`, `inf`, `-inf`.
std::string python_float_repr(double x);
void python_float_repr_append(std::string& out, double x);

}  // namespace mh::util
