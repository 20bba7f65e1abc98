#include "util/py_float.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>

namespace mh::util {

void python_float_repr_append(std::string& out, double x) {
  if (std::isnan(x)) {
    out += "nan";
    return;
  }
  if (std::isinf(x)) {
    out += x < 0 ? "-inf" : "inf";
    return;
  }
  // to_chars gives the shortest round-trip digits; CPython uses the same
  // digits (David Gay's mode 0) and only lays them out differently.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  bool negative = false;
  if (!sci.empty() && sci.front() == '-') {
    negative = true;
    sci.remove_prefix(1);
  }
  std::size_t e = sci.find('e');
  char digit_buf[32];
  std::size_t ndigits = 0;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digit_buf[ndigits++] = c;
  }
  int exp10 = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp10);
  while (ndigits > 1 && digit_buf[ndigits - 1] == '0') --ndigits;
  std::string_view digits(digit_buf, ndigits);
  int decpt = exp10 + 1;  // value = 0.DIGITS * 10^decpt

  if (negative) out += '-';
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-decpt), '0');
      out += digits;
    } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
      out += digits;
      out.append(static_cast<std::size_t>(decpt) - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits.substr(0, static_cast<std::size_t>(decpt)));
      out += '.';
      out.append(digits.substr(static_cast<std::size_t>(decpt)));
    }
    return;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits.substr(1));
  }
  int shown = decpt - 1;
  out += shown < 0 ? "e-" : "e+";
  int mag = std::abs(shown);
  if (mag < 10) out += '0';
  out += std::to_string(mag);
}

std::string python_float_repr(double x) {
  std::string out;
  python_float_repr_append(out, x);
  return out;
}

}  // namespace mh::util
