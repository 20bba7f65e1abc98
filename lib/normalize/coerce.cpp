#include "normalize/coerce.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "normalize/timestamp.hpp"
#include "util/numeric.hpp"
#include "util/pg_text.hpp"
#include "util/py_float.hpp"

namespace mh::normalize {
namespace {

namespace json = boost::json;

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Python's int(str): surrounding whitespace, a sign, digits with single
// underscores between them.
std::optional<std::int64_t> parse_python_int(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  std::string digits;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i - 1] == '_') return std::nullopt;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    digits += s[i];
  }
  if (negative) digits.insert(digits.begin(), '-');
  std::int64_t v = 0;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (res.ec != std::errc() || res.ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

// A finite decimal literal: [+-](digits[.digits]|.digits)[e[+-]digits].
bool is_decimal_literal(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// Python's float(str), without digit-group underscores.
std::optional<double> parse_python_float(std::string_view s) {
  s = trim(s);
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (iequals(body, "inf") || iequals(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (!is_decimal_literal(body) || body[0] == '+' || body[0] == '-') return std::nullopt;
  double v = 0;
  auto res = std::from_chars(body.data(), body.data() + body.size(), v);
  if (res.ec == std::errc::result_out_of_range) {
    v = std::numeric_limits<double>::infinity();
  } else if (res.ec != std::errc() || res.ptr != body.data() + body.size()) {
    return std::nullopt;
  }
  return negative ? -v : v;
}

// dlt's str2bool.
std::optional<bool> parse_bool_text(std::string_view s) {
  for (std::string_view t : {"yes", "true", "t", "y", "1"}) {
    if (iequals(s, t)) return true;
  }
  for (std::string_view f : {"no", "false", "f", "n", "0"}) {
    if (iequals(s, f)) return false;
  }
  return std::nullopt;
}

void append_double_pg(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d < 0 ? "-Infinity" : "Infinity";
  } else {
    util::python_float_repr_append(out, d);
  }
}

bool encode_text(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::string: {
      const auto& s = v.get_string();
      out.append(s.data(), s.size());
      return true;
    }
    case json::kind::int64: append_number(out, v.get_int64()); return true;
    case json::kind::uint64: append_number(out, v.get_uint64()); return true;
    case json::kind::double_: util::python_float_repr_append(out, v.get_double()); return true;
    case json::kind::bool_: out += v.get_bool() ? "True" : "False"; return true;
    case json::kind::array:
    case json::kind::object: append_json_text(out, v); return true;
    case json::kind::null: return false;
  }
  return false;
}

bool encode_bigint(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::int64: append_number(out, v.get_int64()); return true;
    case json::kind::double_: {
      double d = v.get_double();
      // Only a whole number inside int64 fits; 1e30 or 2^70 goes to a variant column.
      auto i = util::to_int64(d);
      if (!i || d != std::trunc(d)) return false;
      append_number(out, *i);
      return true;
    }
    case json::kind::string: {
      const auto& s = v.get_string();
      auto parsed = parse_python_int(std::string_view(s.data(), s.size()));
      if (!parsed) return false;
      append_number(out, *parsed);
      return true;
    }
    default: return false;
  }
}

bool encode_double(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::int64: append_double_pg(out, static_cast<double>(v.get_int64())); return true;
    case json::kind::uint64: append_double_pg(out, static_cast<double>(v.get_uint64())); return true;
    case json::kind::double_: append_double_pg(out, v.get_double()); return true;
    case json::kind::string: {
      const auto& s = v.get_string();
      auto parsed = parse_python_float(std::string_view(s.data(), s.size()));
      if (!parsed) return false;
      append_double_pg(out, *parsed);
      return true;
    }
    default: return false;
  }
}

bool encode_bool(const json::value& v, std::string& out) {
  std::optional<bool> b;
  switch (v.kind()) {
    case json::kind::bool_: b = v.get_bool(); break;
    case json::kind::int64: b = v.get_int64() != 0; break;
    case json::kind::uint64: b = true; break;
    case json::kind::double_: b = v.get_double() != 0.0; break;
    case json::kind::string: {
      const auto& s = v.get_string();
      b = parse_bool_text(std::string_view(s.data(), s.size()));
      break;
    }
    default: break;
  }
  if (!b) return false;
  out += *b ? 't' : 'f';
  return true;
}

bool encode_timestamp(const json::value& v, std::string& out) {
  std::optional<UnixMicros> t;
  switch (v.kind()) {
    case json::kind::string: {
      const auto& s = v.get_string();
      t = parse_iso_timestamp(std::string_view(s.data(), s.size()), true);
      break;
    }
    case json::kind::int64: t = timestamp_from_unix_seconds(static_cast<double>(v.get_int64())); break;
    case json::kind::uint64: t = timestamp_from_unix_seconds(static_cast<double>(v.get_uint64())); break;
    case json::kind::double_: t = timestamp_from_unix_seconds(v.get_double()); break;
    default: break;
  }
  if (!t) return false;
  format_utc_timestamp(out, *t);
  return true;
}

bool encode_json(const json::value& v, std::string& out) {
  if (v.is_array() || v.is_object()) {
    append_json_text(out, v);
    return true;
  }
  if (!v.is_string()) return false;
  json::error_code ec;
  json::value parsed = json::parse(v.get_string(), ec);
  if (ec) return false;
  append_json_text(out, parsed);
  return true;
}

// numeric(38,9) holds 29 digits before the point; COPY fails the whole package on
// anything larger, so such a value goes to a variant column instead. The test is on
// the rounded double, which errs on the side of the variant right at the edge.
bool fits_decimal(double d) { return std::isfinite(d) && std::fabs(d) < 1e29; }

bool encode_decimal(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::int64: append_number(out, v.get_int64()); return true;
    case json::kind::uint64: append_number(out, v.get_uint64()); return true;
    case json::kind::double_: {
      double d = v.get_double();
      if (!fits_decimal(d)) return false;
      util::python_float_repr_append(out, d);
      return true;
    }
    case json::kind::string: {
      std::string_view s = trim(std::string_view(v.get_string().data(), v.get_string().size()));
      if (!is_decimal_literal(s)) return false;
      std::string_view digits = s[0] == '+' || s[0] == '-' ? s.substr(1) : s;
      double d = 0;
      auto res = std::from_chars(digits.data(), digits.data() + digits.size(), d);
      if (res.ec != std::errc() || !fits_decimal(d)) return false;
      out.append(s);
      return true;
    }
    default: return false;
  }
}

}  // namespace

DataType natural_type(const json::value& v, bool detect_timestamps) {
  switch (v.kind()) {
    case json::kind::string: {
      if (detect_timestamps) {
        const auto& s = v.get_string();
        if (parse_iso_timestamp(std::string_view(s.data(), s.size()))) return DataType::timestamp;
      }
      return DataType::text;
    }
    case json::kind::int64: return DataType::bigint;
    case json::kind::uint64: return DataType::decimal;
    case json::kind::double_: return DataType::double_;
    case json::kind::bool_: return DataType::bool_;
    case json::kind::array:
    case json::kind::object: return DataType::json;
    case json::kind::null: break;
  }
  return DataType::text;
}

bool encode_value(DataType target, const json::value& v, std::string& out) {
  switch (target) {
    case DataType::text: return encode_text(v, out);
    case DataType::bigint: return encode_bigint(v, out);
    case DataType::double_: return encode_double(v, out);
    case DataType::bool_: return encode_bool(v, out);
    case DataType::timestamp: return encode_timestamp(v, out);
    case DataType::json: return encode_json(v, out);
    case DataType::decimal: return encode_decimal(v, out);
  }
  return false;
}

bool canonical_text_fits(DataType stored, DataType package) {
  if (stored == package) return true;
  switch (stored) {
    case DataType::text:
      return package == DataType::bigint || package == DataType::double_ || package == DataType::json ||
             package == DataType::decimal;
    case DataType::double_:
    case DataType::decimal: return package == DataType::bigint;
    default: return false;
  }
}

void append_json_text(std::string& out, const json::value& v) { util::append_pg_json(out, v); }

}  // namespace mh::normalize
