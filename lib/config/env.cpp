#include "config/env.hpp"

#include <cctype>
#include <cstdlib>

namespace mh::config {

std::optional<std::string> getenv_lookup(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<Expansion> expand_env(std::string_view text, const EnvLookup& lookup, std::string& error) {
  Expansion out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.value += text[i++];
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unclosed '${' in value";
      return std::nullopt;
    }
    std::string_view inner = text.substr(i + 2, close - i - 2);
    std::size_t sep = inner.find(":-");
    std::string name(inner.substr(0, sep));
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) {
      error = "'${" + std::string(inner) + "}' is not a valid variable reference (use ${NAME} or ${NAME:-default})";
      return std::nullopt;
    }
    std::optional<std::string> v = lookup(name);
    if (v && v->empty() && sep != std::string_view::npos) v.reset();  // ":-" also covers set-but-empty
    if (v) {
      out.value += *v;
    } else if (sep != std::string_view::npos) {
      out.value += inner.substr(sep + 2);
    } else {
      error = "environment variable " + name + " is not set (use ${" + name + ":-default} for a default)";
      return std::nullopt;
    }
    out.variables.push_back(name);
    i = close + 1;
  }
  return out;
}

}  // namespace mh::config
