// dlt's `snake_case` naming convention: how JSON keys, resource and dataset
// names become Postgres identifiers (docs/dlt-layout.md §Naming).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mh::normalize {

// Postgres' identifier limit, which dlt passes to the naming convention.
inline constexpr std::size_t kMaxIdentifierLength = 63;
// dlt's replacement for keys that are empty or only whitespace.
inline constexpr std::string_view kEmptyKey = "_empty";
inline constexpr std::string_view kPathSeparator = "__";

// One identifier, without breaking it on `__`: strip, reduce the alphabet,
// camelCase → snake_case, prefix leading digits, trailing `_` → `x`, collapse
// `__+`, shorten. A blank identifier gives "" (dlt raises there).
std::string normalize_identifier(std::string_view identifier, std::size_t max_length = kMaxIdentifierLength);

// A JSON key or table name: split on `__`, normalize each non-blank part, join
// with `__`, shorten the whole. A key with no non-blank part gives "_empty".
std::string normalize_path(std::string_view path, std::size_t max_length = kMaxIdentifierLength);

// `normalized` cut to `max_length` with a 6-character tag hashed from
// `original` in the middle; unchanged when it already fits.
std::string shorten_identifier(std::string normalized, std::string_view original,
                               std::size_t max_length = kMaxIdentifierLength);

// base64(shake_128(original).digest(4)) with `=` stripped, `/`→`a`, `+`→`b`, lower case.
std::string identifier_tag(std::string_view original);

// Already-normalized fragments joined with `__` (blank ones skipped) and
// shortened as one identifier, the tag computed from the joined text.
std::string shorten_fragments(std::initializer_list<std::string_view> fragments,
                              std::size_t max_length = kMaxIdentifierLength);

}  // namespace mh::normalize
