// Every name mhloader derives for Postgres fits its 63 bytes: the staging
// dataset, child tables, variant columns and the merge's temp tables are
// shortened with dlt's tag, and a longer one never reaches the SQL.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "load/destination.hpp"
#include "load/postgres_sql.hpp"
#include "normalize/naming.hpp"
#include "support/row_capture.hpp"

using mh::normalize::identifier_tag;
using mh::normalize::kMaxIdentifierLength;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::json;

namespace {

// Every double-quoted identifier in `sql`.
std::set<std::string> quoted(const std::string& sql) {
  std::set<std::string> out;
  for (std::size_t i = sql.find('"'); i != std::string::npos; i = sql.find('"', i + 1)) {
    std::size_t end = sql.find('"', i + 1);
    REQUIRE(end != std::string::npos);
    out.insert(sql.substr(i + 1, end - i - 1));
    i = end;
  }
  return out;
}

// dlt's shortened form of `name`: 29 characters, the tag of `name`, the last 28.
std::string dlt_short(const std::string& name) {
  return name.substr(0, 29) + identifier_tag(name) + name.substr(name.size() - 28);
}

const std::string kLong63 = "d" + std::string(61, 'x') + "d";

}  // namespace

TEST_CASE("identifiers: the staging dataset of a 63-character dataset is shortened as dlt does") {
  CHECK(mh::load::staging_dataset_name("magic_hour_data") == "magic_hour_data_staging");
  REQUIRE(kLong63.size() == 63);
  std::string staging = mh::load::staging_dataset_name(kLong63);
  CHECK(staging.size() == kMaxIdentifierLength);
  CHECK(staging != kLong63);
  CHECK(staging == dlt_short(kLong63 + "_staging"));
  // 56 + 8 = 64: one byte over is shortened too; 55 + 8 fits as it is.
  std::string d56(56, 'a');
  CHECK(mh::load::staging_dataset_name(d56) == dlt_short(d56 + "_staging"));
  CHECK(mh::load::staging_dataset_name(std::string(55, 'a')) == std::string(55, 'a') + "_staging");
}

TEST_CASE("identifiers: a name Postgres would truncate never reaches the SQL") {
  CHECK(mh::load::quote_ident(std::string(63, 'a')) == "\"" + std::string(63, 'a') + "\"");
  CHECK_THROWS_AS(mh::load::quote_ident(std::string(64, 'a')), std::logic_error);
  CHECK_THROWS_AS(mh::load::qualified(kLong63 + "_staging", "t"), std::logic_error);
}

TEST_CASE("identifiers: child tables, variant columns and merge temp tables of long names fit 63 bytes") {
  Schema schema("magic_hour");
  mh::test::RowCapture rows;
  mh::normalize::Normalizer n(schema, "1.1", rows);
  const std::string column = "c" + std::string(61, 'y') + "c";
  const std::string list = "l" + std::string(40, 'z');
  Resource r{kLong63, WriteDisposition::merge, {"id"}};
  n.add(r, json((R"({"id": "a", ")" + column + R"(": 1, ")" + list + R"(": [{"k": 1}]})").c_str()));
  // A text where the column is bigint: the variant column's name is shortened too.
  n.add(r, json((R"({"id": "b", ")" + column + R"(": "not a number", ")" + list + R"(": [{"k": 2}]})").c_str()));
  REQUIRE(schema.tables().size() == 2);
  const auto& root = schema.table(0);
  const auto& child = schema.table(1);
  CHECK(root.name == kLong63);
  CHECK(child.name == dlt_short(kLong63 + "__" + list));
  bool variant = false;
  for (const auto& c : root.columns()) {
    CAPTURE(c.name);
    CHECK(c.name.size() <= kMaxIdentifierLength);
    if (c.variant) {
      variant = true;
      CHECK(c.name == dlt_short(column + "__v_text"));
    }
  }
  CHECK(variant);

  auto merge = mh::load::merge_sql(kLong63, mh::load::staging_dataset_name(kLong63), schema, 0, {"id"},
                                   "0123456789abcdef0123456789abcdef");
  REQUIRE(merge.size() == 6);
  std::set<std::string> temp;
  for (const auto& sql : merge) {
    for (const auto& name : quoted(sql)) {
      CAPTURE(name);
      CHECK(name.size() <= kMaxIdentifierLength);
    }
    const std::string create = "CREATE TEMPORARY TABLE \"";
    if (sql.starts_with(create)) temp.insert(sql.substr(create.size(), sql.find('"', create.size()) - create.size()));
  }
  CHECK(temp.size() == 2);  // the delete and insert temp tables stay two distinct names
}
