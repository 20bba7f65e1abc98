#include "normalize/types.hpp"

namespace mh::normalize {

std::string_view type_name(DataType t) {
  switch (t) {
    case DataType::text: return "text";
    case DataType::bigint: return "bigint";
    case DataType::double_: return "double";
    case DataType::bool_: return "bool";
    case DataType::timestamp: return "timestamp";
    case DataType::json: return "json";
    case DataType::decimal: return "decimal";
  }
  return "text";
}

std::optional<DataType> parse_type_name(std::string_view name) {
  if (name == "text") return DataType::text;
  if (name == "bigint") return DataType::bigint;
  if (name == "double") return DataType::double_;
  if (name == "bool") return DataType::bool_;
  if (name == "timestamp") return DataType::timestamp;
  if (name == "json" || name == "complex") return DataType::json;
  if (name == "decimal") return DataType::decimal;
  return std::nullopt;
}

std::string_view postgres_type(DataType t) {
  switch (t) {
    case DataType::text: return "varchar";
    case DataType::bigint: return "bigint";
    case DataType::double_: return "double precision";
    case DataType::bool_: return "boolean";
    case DataType::timestamp: return "timestamp with time zone";
    case DataType::json: return "jsonb";
    case DataType::decimal: return "numeric(38,9)";
  }
  return "varchar";
}

}  // namespace mh::normalize
