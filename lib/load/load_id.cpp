#include "load/load_id.hpp"

#include <cmath>
#include <ctime>
#include <limits>
#include <mutex>

#include "util/py_float.hpp"

namespace mh::load {

std::string new_load_id() {
  static std::mutex mutex;
  static double last = 0;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  double now = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  std::lock_guard lock(mutex);
  if (now <= last) now = std::nextafter(last, std::numeric_limits<double>::infinity());
  last = now;
  return util::python_float_repr(now);
}

double load_id_value(const std::string& load_id) {
  if (load_id.empty() || load_id.find_first_not_of("0123456789.") != std::string::npos) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  try {
    std::size_t used = 0;
    double v = std::stod(load_id, &used);
    return used == load_id.size() ? v : std::numeric_limits<double>::quiet_NaN();
  } catch (...) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace mh::load
