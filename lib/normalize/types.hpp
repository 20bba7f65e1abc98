// dlt's data types for columns, their names in dlt's schema and their
// Postgres column types (docs/dlt-layout.md §Types).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mh::normalize {

enum class DataType : std::uint8_t { text, bigint, double_, bool_, timestamp, json, decimal };

// "text", "bigint", "double", "bool", "timestamp", "json", "decimal".
std::string_view type_name(DataType t);
// Also accepts dlt's older "complex" for json.
std::optional<DataType> parse_type_name(std::string_view name);
// varchar, bigint, double precision, boolean, timestamp with time zone, jsonb, numeric(38,9).
std::string_view postgres_type(DataType t);

}  // namespace mh::normalize
