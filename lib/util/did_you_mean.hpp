// "Did you mean …?" suggestions for mistyped names (config keys, subcommands).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::util {

std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a typo-sized distance of `word`, if any.
std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace mh::util
