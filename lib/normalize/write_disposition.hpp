// How a resource's rows meet the rows already loaded (dlt's write dispositions).
#pragma once

#include <optional>
#include <string_view>

namespace mh::normalize {

enum class WriteDisposition { append, replace, merge };
std::string_view to_string(WriteDisposition d);
std::optional<WriteDisposition> parse_write_disposition(std::string_view s);

}  // namespace mh::normalize
