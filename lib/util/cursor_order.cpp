#include "util/cursor_order.hpp"

#include <boost/json/serialize.hpp>
#include <string>

namespace mh::util {

int compare_cursor(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.to_number<double>(), y = b.to_number<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  std::string x = a.is_string() ? std::string(a.as_string()) : boost::json::serialize(a);
  std::string y = b.is_string() ? std::string(b.as_string()) : boost::json::serialize(b);
  return x.compare(y) < 0 ? -1 : (x.compare(y) > 0 ? 1 : 0);
}

}  // namespace mh::util
