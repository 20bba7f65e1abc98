// `${VAR}` and `${VAR:-default}` expansion of configuration values.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
std::optional<std::string> getenv_lookup(const std::string& name);

struct Expansion {
  std::string value;
  std::vector<std::string> variables;  // names that were substituted (for messages)
};

// `$${` stays a literal `${`. An unset variable without a default, or a
// malformed reference, returns nullopt with `error` set.
std::optional<Expansion> expand_env(std::string_view text, const EnvLookup& lookup, std::string& error);

}  // namespace mh::config
