// Postgres COPY text format: how rows are stored in load package files and
// streamed into COPY. Values are sanitized on the way in so a hostile string
// (NUL, invalid UTF-8) cannot make Postgres reject a package forever.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::load {

// Appends `text` escaped for one COPY text field: backslash, tab, newline and
// carriage return escaped; NUL and invalid UTF-8 bytes become U+FFFD.
void append_copy_field(std::string& out, std::string_view text);

// The NULL marker of the text format.
inline constexpr std::string_view kCopyNull = "\\N";

// Splits one line (without its newline) into fields; nullopt is NULL.
void parse_copy_line(std::string_view line, std::vector<std::optional<std::string>>& fields);

}  // namespace mh::load
