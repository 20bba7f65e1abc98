// Text for Postgres, which holds no NUL: not in text (libpq would cut the
// value there) and not as \u0000 in jsonb (rejected). A NUL becomes U+FFFD,
// the Unicode replacement character; everything else is kept as it is.
#pragma once

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mh::util {

inline constexpr std::string_view kNulReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// `text` with each NUL byte replaced by U+FFFD.
inline std::string pg_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\0')
      out += kNulReplacement;
    else
      out += c;
  }
  return out;
}

inline std::string pg_text(const std::string& text) { return pg_text(std::string_view(text)); }

inline std::optional<std::string> pg_text(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return pg_text(std::string_view(*text));
}

// Appends `v` as JSON text for jsonb: every escaped \u0000 becomes \ufffd.
inline void append_pg_json(std::string& out, const boost::json::value& v) {
  std::size_t start = out.size();
  out += boost::json::serialize(v);
  // Inside JSON text a backslash always starts an escape, so a left-to-right
  // scan finds exactly the escaped NULs.
  for (std::size_t i = start; i + 1 < out.size(); ++i) {
    if (out[i] != '\\') continue;
    if (out.compare(i + 1, 5, "u0000") == 0) out.replace(i + 1, 5, "ufffd");
    ++i;
  }
}

inline std::string pg_json(const boost::json::value& v) {
  std::string out;
  append_pg_json(out, v);
  return out;
}

}  // namespace mh::util
