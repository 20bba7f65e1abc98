#include "config/dsn.hpp"

#include <cctype>
#include <optional>

#include "util/codec.hpp"

namespace mh::config {
namespace {

bool is_uri(std::string_view dsn) { return dsn.starts_with("postgresql://") || dsn.starts_with("postgres://"); }

struct Span {
  std::size_t pos;
  std::size_t len;
};

// Where the password sits in the DSN (raw text), if it has one.
std::optional<Span> password_span(std::string_view dsn) {
  if (is_uri(dsn)) {
    std::size_t start = dsn.find("://") + 3;
    std::size_t end = dsn.find_first_of("/?", start);
    std::string_view authority =
        dsn.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      std::size_t colon = authority.find(':');
      if (colon != std::string_view::npos && colon < at) return Span{start + colon + 1, at - colon - 1};
    }
    // ?password=… in the query string
    std::size_t q = dsn.find('?');
    while (q != std::string_view::npos) {
      std::size_t key = q + 1;
      if (dsn.compare(key, 9, "password=") == 0) {
        std::size_t v = key + 9;
        std::size_t amp = dsn.find('&', v);
        return Span{v, (amp == std::string_view::npos ? dsn.size() : amp) - v};
      }
      q = dsn.find('&', key);
    }
    return std::nullopt;
  }
  // keyword=value pairs; values may be single-quoted with backslash escapes.
  std::size_t i = 0;
  while (i < dsn.size()) {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::size_t eq = dsn.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string_view key = dsn.substr(i, eq - i);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.remove_suffix(1);
    std::size_t v = eq + 1;
    while (v < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[v]))) ++v;
    std::size_t end = v;
    if (v < dsn.size() && dsn[v] == '\'') {
      end = v + 1;
      while (end < dsn.size() && dsn[end] != '\'') end += (dsn[end] == '\\') ? 2 : 1;
      end = std::min(end + 1, dsn.size());
    } else {
      while (end < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[end]))) ++end;
    }
    if (key == "password") return Span{v, end - v};
    i = end;
  }
  return std::nullopt;
}

}  // namespace

std::string dsn_password(std::string_view dsn) {
  auto span = password_span(dsn);
  if (!span) return {};
  std::string_view raw = dsn.substr(span->pos, span->len);
  if (is_uri(dsn)) return util::percent_decode(raw);
  if (raw.size() >= 2 && raw.front() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 2 < raw.size()) ++i;
      out += raw[i];
    }
    return out;
  }
  return std::string(raw);
}

std::string mask_dsn(std::string_view dsn) {
  auto span = password_span(dsn);
  if (!span) return std::string(dsn);
  std::string out(dsn);
  out.replace(span->pos, span->len, "***");
  return out;
}

}  // namespace mh::config
