// A RowSink that keeps every row in memory, keyed by column name, so tests
// can look at what the normalizer produced.
#pragma once

#include <boost/json/parse.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "normalize/normalizer.hpp"

namespace mh::test {

struct CapturedRow {
  std::string table;
  std::map<std::string, std::string> values;

  std::optional<std::string> get(const std::string& column) const {
    auto it = values.find(column);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

class RowCapture : public normalize::RowSink {
 public:
  void write_row(const normalize::Schema& schema, std::size_t table, std::span<const normalize::Cell> cells) override {
    CapturedRow row{schema.table(table).name, {}};
    for (const auto& c : cells) row.values[schema.table(table).column(c.column).name] = std::string(c.text);
    rows.push_back(std::move(row));
  }

  std::vector<CapturedRow> of(const std::string& table) const {
    std::vector<CapturedRow> out;
    for (const auto& r : rows) {
      if (r.table == table) out.push_back(r);
    }
    return out;
  }

  std::vector<CapturedRow> rows;
};

inline std::vector<std::string> column_names(const normalize::Schema& schema, const std::string& table) {
  std::vector<std::string> out;
  if (const auto* t = schema.find_table(table)) {
    for (const auto& c : t->columns()) out.push_back(c.name);
  }
  return out;
}

inline std::optional<normalize::DataType> column_type(const normalize::Schema& schema, const std::string& table,
                                                      const std::string& column) {
  const auto* t = schema.find_table(table);
  const auto* c = t != nullptr ? t->find(column) : nullptr;
  if (c == nullptr) return std::nullopt;
  return c->type;
}

inline boost::json::value json(const char* text) { return boost::json::parse(text); }

}  // namespace mh::test
