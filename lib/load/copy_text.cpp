#include "load/copy_text.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace mh::load {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// 1: needs escaping or replacing; 2: starts a multi-byte sequence.
constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> c{};
  c['\\'] = 1;
  c['\t'] = 1;
  c['\n'] = 1;
  c['\r'] = 1;
  c['\0'] = 1;
  for (int b = 0x80; b < 0x100; ++b) c[b] = 2;
  return c;
}
constexpr auto kClasses = make_classes();

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n = s.size() - i;
  auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;
    if (c == 0xED && b(i + 1) > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

// True when none of the 8 bytes needs a look: no byte below 0x0e (NUL, tab,
// newline, CR and a few harmless ones), no backslash, no byte >= 0x80.
bool plain_word(const char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  std::uint64_t below = (x - ones * 0x0e) & ~x & highs;
  std::uint64_t bs = x ^ (ones * '\\');
  std::uint64_t backslash = (bs - ones) & ~bs & highs;
  return ((below | backslash | (x & highs))) == 0;
}

}  // namespace

void append_copy_field(std::string& out, std::string_view text) {
  std::size_t run = 0;  // start of the pending span copied verbatim
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 8 <= text.size() && plain_word(text.data() + i)) {
      i += 8;
      continue;
    }
    std::uint8_t cls = kClasses[static_cast<unsigned char>(text[i])];
    if (cls == 0) {
      ++i;
      continue;
    }
    if (cls == 2) {
      std::size_t len = utf8_length(text, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(text.data() + run, i - run);
    switch (text[i]) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += kReplacement; break;
    }
    ++i;
    run = i;
  }
  out.append(text.data() + run, text.size() - run);
}

void parse_copy_line(std::string_view line, std::vector<std::optional<std::string>>& fields) {
  fields.clear();
  std::size_t start = 0;
  for (;;) {
    std::size_t end = line.find('\t', start);
    std::string_view raw = line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (raw == kCopyNull) {
      fields.emplace_back(std::nullopt);
    } else {
      std::string value;
      value.reserve(raw.size());
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 == raw.size()) {
          value += raw[i];
          continue;
        }
        char e = raw[++i];
        switch (e) {
          case 't': value += '\t'; break;
          case 'n': value += '\n'; break;
          case 'r': value += '\r'; break;
          case 'b': value += '\b'; break;
          case 'f': value += '\f'; break;
          case 'v': value += '\v'; break;
          default: value += e; break;
        }
      }
      fields.emplace_back(std::move(value));
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

}  // namespace mh::load
