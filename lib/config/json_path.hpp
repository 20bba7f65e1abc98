// The JSONPath subset of dlt's data_selector and cursor paths: `$`, `a.b`,
// `a[*].b`, `a[0]`, optionally led by `$.`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::config {

struct JsonPath {
  struct Step {
    enum class Kind { key, wildcard, index } kind = Kind::key;
    std::string key;
    std::size_t index = 0;
    bool operator==(const Step&) const = default;
  };
  std::string text;
  std::vector<Step> steps;  // empty: the document itself
  bool operator==(const JsonPath&) const = default;
};

std::optional<JsonPath> parse_json_path(std::string_view text, std::string& error);

}  // namespace mh::config
