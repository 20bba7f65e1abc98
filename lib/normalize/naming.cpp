#include "normalize/naming.hpp"

#include <vector>

#include "util/codec.hpp"
#include "util/hash.hpp"

namespace mh::normalize {
namespace {

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_lower(c) || is_upper(c) || is_digit(c) || c == '_'; }

// Length in bytes of the whitespace code point at s[i] as Python's
// str.isspace() sees it, or 0.
std::size_t space_at(std::string_view s, std::size_t i) {
  auto u = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = u(i);
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xc2 && i + 1 < s.size() && (u(i + 1) == 0x85 || u(i + 1) == 0xa0)) return 2;
  if (i + 2 >= s.size()) return 0;
  unsigned cp = 0;
  if ((c & 0xf0) == 0xe0) cp = ((c & 0x0fu) << 12) | ((u(i + 1) & 0x3fu) << 6) | (u(i + 2) & 0x3fu);
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
      cp == 0x3000) {
    return 3;
  }
  return 0;
}

// Length of the whitespace code point that ends at s[end-1], or 0.
std::size_t space_before(std::string_view s, std::size_t end) {
  for (std::size_t len = 1; len <= 3 && len <= end; ++len) {
    if (space_at(s, end - len) == len) return len;
  }
  return 0;
}

std::string_view strip(std::string_view s) {
  std::size_t b = 0;
  while (b < s.size()) {
    std::size_t n = space_at(s, b);
    if (n == 0) break;
    b += n;
  }
  std::size_t e = s.size();
  while (e > b) {
    std::size_t n = space_before(s, e);
    if (n == 0) break;
    e -= n;
  }
  return s.substr(b, e - b);
}

// `([^_])([A-Z][a-z]+)` → `\1_\2`, with re.sub's left-to-right, non-overlapping scan.
std::string break_words(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '_' && i + 2 < s.size() && is_upper(s[i + 1]) && is_lower(s[i + 2])) {
      std::size_t j = i + 3;
      while (j < s.size() && is_lower(s[j])) ++j;
      out += s[i];
      out += '_';
      out.append(s, i + 1, j - i - 1);
      i = j;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// `([a-z0-9])([A-Z])` → `\1_\2`, then lower case.
std::string break_humps_and_lower(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t i = 0;
  auto lower = [](char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; };
  while (i < s.size()) {
    if ((is_lower(s[i]) || is_digit(s[i])) && i + 1 < s.size() && is_upper(s[i + 1])) {
      out += s[i];
      out += '_';
      out += lower(s[i + 1]);
      i += 2;
    } else {
      out += lower(s[i++]);
    }
  }
  return out;
}

std::string to_snake_case(std::string_view stripped) {
  // Reduce the alphabet, then every run of other characters (non-ASCII bytes
  // included, so one code point or many) becomes one `_`.
  std::string reduced;
  reduced.reserve(stripped.size());
  bool in_run = false;
  for (char c : stripped) {
    switch (c) {
      case '+': c = 'x'; break;
      case '-': c = '_'; break;
      case '*': c = 'x'; break;
      case '@': c = 'a'; break;
      case '|': c = 'l'; break;
      default: break;
    }
    if (is_word(c)) {
      reduced += c;
      in_run = false;
    } else if (!in_run) {
      reduced += '_';
      in_run = true;
    }
  }
  std::string s = break_humps_and_lower(break_words(reduced));
  if (!s.empty() && is_digit(s[0])) s.insert(s.begin(), '_');
  std::size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '_') ++trailing;
  s.replace(s.size() - trailing, trailing, trailing, 'x');
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '_' && !out.empty() && out.back() == '_') continue;
    out += c;
  }
  return out;
}

}  // namespace

std::string identifier_tag(std::string_view original) {
  // 4 bytes: dlt's int(3 * log2(1 / 0.001) // 8) + 1 for collision probability 0.001.
  std::string tag = util::base64_encode(util::shake128(original, 4), false);
  for (char& c : tag) {
    if (c == '/')
      c = 'a';
    else if (c == '+')
      c = 'b';
    else if (is_upper(c))
      c = static_cast<char>(c - 'A' + 'a');
  }
  return tag;
}

std::string shorten_identifier(std::string normalized, std::string_view original, std::size_t max_length) {
  if (max_length == 0 || normalized.size() <= max_length) return normalized;
  std::string tag = identifier_tag(original);
  std::size_t remaining = max_length - tag.size();
  std::size_t head = remaining / 2 + remaining % 2;
  std::size_t tail = remaining / 2;
  std::string out;
  out.reserve(max_length);
  out.append(normalized, 0, head);
  out += tag;
  out.append(normalized, normalized.size() - tail, tail);
  return out;
}

std::string normalize_identifier(std::string_view identifier, std::size_t max_length) {
  std::string_view stripped = strip(identifier);
  if (stripped.empty()) return {};
  return shorten_identifier(to_snake_case(stripped), stripped, max_length);
}

std::string normalize_path(std::string_view path, std::size_t max_length) {
  std::string joined;
  std::size_t start = 0;
  for (;;) {
    std::size_t sep = path.find(kPathSeparator, start);
    std::string_view part = path.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start);
    if (!strip(part).empty()) {
      if (!joined.empty()) joined += kPathSeparator;
      joined += normalize_identifier(part, max_length);
    }
    if (sep == std::string_view::npos) break;
    start = sep + kPathSeparator.size();
  }
  if (joined.empty()) return std::string(kEmptyKey);
  return shorten_identifier(std::move(joined), path, max_length);
}

std::string shorten_fragments(std::initializer_list<std::string_view> fragments, std::size_t max_length) {
  std::string joined;
  for (std::string_view f : fragments) {
    if (strip(f).empty()) continue;
    if (!joined.empty()) joined += kPathSeparator;
    joined += f;
  }
  if (max_length == 0 || joined.size() <= max_length) return joined;  // nothing to shorten: no copy
  std::string original = joined;
  return shorten_identifier(std::move(joined), original, max_length);
}

}  // namespace mh::normalize
