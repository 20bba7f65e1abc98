#include "config/json_path.hpp"

#include <charconv>

namespace mh::config {

std::optional<JsonPath> parse_json_path(std::string_view text, std::string& error) {
  JsonPath path;
  path.text = std::string(text);
  std::string_view s = text;
  if (s == "$") return path;
  if (s.starts_with("$.")) s.remove_prefix(2);
  if (s.empty()) {
    error = "empty path";
    return std::nullopt;
  }
  std::size_t i = 0;
  bool expect_key = true;
  while (i < s.size()) {
    if (s[i] == '[') {
      std::size_t close = s.find(']', i);
      if (close == std::string_view::npos) {
        error = "unclosed '[' in '" + std::string(text) + "'";
        return std::nullopt;
      }
      std::string_view inner = s.substr(i + 1, close - i - 1);
      JsonPath::Step step;
      if (inner == "*") {
        step.kind = JsonPath::Step::Kind::wildcard;
      } else {
        auto [p, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), step.index);
        if (inner.empty() || ec != std::errc() || p != inner.data() + inner.size()) {
          error = "'[" + std::string(inner) + "]' in '" + std::string(text) + "' is neither [*] nor a list index";
          return std::nullopt;
        }
        step.kind = JsonPath::Step::Kind::index;
      }
      path.steps.push_back(std::move(step));
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (s[i] == '.') {
      if (expect_key) {
        error = "empty segment in '" + std::string(text) + "'";
        return std::nullopt;
      }
      ++i;
      expect_key = true;
      if (i == s.size()) {
        error = "'" + std::string(text) + "' ends with '.'";
        return std::nullopt;
      }
      continue;
    }
    if (!expect_key) {
      error = "expected '.' or '[' after ']' in '" + std::string(text) + "'";
      return std::nullopt;
    }
    std::size_t end = s.find_first_of(".[", i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view key = s.substr(i, end - i);
    if (key == "*") {
      path.steps.push_back({JsonPath::Step::Kind::wildcard, {}, 0});
    } else {
      path.steps.push_back({JsonPath::Step::Kind::key, std::string(key), 0});
    }
    i = end;
    expect_key = false;
  }
  return path;
}

}  // namespace mh::config
