// One-line queries against a test database, for assertions.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace mh::test {

// The rows of `sql`, every field as text ("<null>" for NULL).
inline std::vector<std::vector<std::string>> query(const std::string& dsn, const std::string& sql) {
  pqxx::connection c{dsn};
  pqxx::read_transaction tx{c};
  std::vector<std::vector<std::string>> out;
  for (const auto& row : tx.exec(sql)) {
    std::vector<std::string> r;
    for (const auto& f : row) r.push_back(f.is_null() ? "<null>" : f.c_str());
    out.push_back(std::move(r));
  }
  return out;
}

// The first field of the first row.
inline std::string scalar(const std::string& dsn, const std::string& sql) {
  auto rows = query(dsn, sql);
  return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
}

inline long long count(const std::string& dsn, const std::string& from) {
  return std::stoll(scalar(dsn, "SELECT count(*) FROM " + from));
}

}  // namespace mh::test
