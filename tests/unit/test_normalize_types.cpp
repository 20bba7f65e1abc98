// Type inference, coercion, variant columns and hostile keys
// (docs/dlt-layout.md §Types, §Variant columns), and the ISO timestamp reader behind detection.
#include <doctest/doctest.h>

#include <limits>
#include <string>
#include <vector>

#include "normalize/coerce.hpp"
#include "normalize/naming.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/timestamp.hpp"
#include "support/row_capture.hpp"
#include "util/numeric.hpp"

using mh::normalize::DataType;
using mh::normalize::Normalizer;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::test::column_names;
using mh::test::column_type;
using mh::test::json;
using Names = std::vector<std::string>;

namespace {

struct Fixture {
  Schema schema{"magic_hour"};
  mh::test::RowCapture rows;
  Normalizer normalizer{schema, "1.5", rows};
  void add(const char* record) { normalizer.add(Resource{"t"}, json(record)); }
  std::optional<std::string> last(const std::string& column) const { return rows.of("t").back().get(column); }
};

std::optional<std::string> encode(DataType t, const char* value) {
  std::string out;
  if (!mh::normalize::encode_value(t, json(value), out)) return std::nullopt;
  return out;
}

}  // namespace

TEST_CASE("types: inference of a new column") {
  Fixture f;
  f.add(R"({"s": "x", "i": 1, "f": 1.5, "b": false, "ts": "2025-01-01T00:00:01.265Z", "naive": "2024-05-01 10:00:00",
            "date": "2024-05-01", "time": "10:00:00", "big": 18446744073709551615, "neg": -5})");
  CHECK(column_type(f.schema, "t", "s") == DataType::text);
  CHECK(column_type(f.schema, "t", "i") == DataType::bigint);
  CHECK(column_type(f.schema, "t", "f") == DataType::double_);
  CHECK(column_type(f.schema, "t", "b") == DataType::bool_);
  CHECK(column_type(f.schema, "t", "ts") == DataType::timestamp);
  CHECK(column_type(f.schema, "t", "naive") == DataType::timestamp);
  CHECK(column_type(f.schema, "t", "date") == DataType::text);
  CHECK(column_type(f.schema, "t", "time") == DataType::text);
  CHECK(column_type(f.schema, "t", "big") == DataType::decimal);
  CHECK(f.last("naive") == "2024-05-01T10:00:00+00:00");  // naive is UTC
  CHECK(f.last("big") == "18446744073709551615");
  CHECK(f.last("b") == "f");
}

TEST_CASE("types: later values are coerced into the column's type") {
  Fixture f;
  f.add(R"({"d": "text", "x": 1.0, "flag": true, "ts": "2024-05-01T10:00:00Z", "n": 1})");
  f.add(R"({"d": 5, "x": 2, "flag": "yes", "ts": 1714557600, "n": "123"})");
  CHECK(f.last("d") == "5");
  CHECK(f.last("x") == "2.0");
  CHECK(f.last("flag") == "t");
  CHECK(f.last("ts") == "2024-05-01T10:00:00+00:00");
  CHECK(f.last("n") == "123");
  f.add(R"({"d": 2.5, "n": 3.0, "ts": "2024-05-02"})");
  CHECK(f.last("d") == "2.5");
  CHECK(f.last("n") == "3");
  CHECK(f.last("ts") == "2024-05-02T00:00:00+00:00");
  f.add(R"({"flag": 0})");
  CHECK(f.last("flag") == "f");
  // Beyond the nesting limit a dict is a json value, and json into text is its JSON text.
  f.normalizer.add(Resource{"t", mh::normalize::WriteDisposition::append, {}, 0},
                   json(R"({"d": {"k": [1, "\u00fc"]}})"));
  CHECK(f.last("d") == "{\"k\":[1,\"\xC3\xBC\"]}");
  CHECK(column_names(f.schema, "t") == Names{"d", "x", "flag", "ts", "n", "_dlt_load_id", "_dlt_id"});
}

TEST_CASE("types: a value that does not fit gets a variant column <col>__v_<type>") {
  Fixture f;
  f.add(R"({"id": 1, "ts": "2024-05-01T10:00:00Z", "f": 1.5})");
  f.add(R"({"id": "not-an-int", "ts": "not a date", "f": "x"})");
  CHECK(f.last("id__v_text") == "not-an-int");
  CHECK_FALSE(f.last("id"));
  CHECK(f.last("ts__v_text") == "not a date");
  CHECK(f.last("f__v_text") == "x");
  f.add(R"({"id": 2.5})");
  CHECK(f.last("id__v_double") == "2.5");
  const auto* t = f.schema.find_table("t");
  CHECK(t->find("id__v_text")->variant);
  CHECK(t->find("id__v_text")->nullable);
  CHECK(t->find("id__v_double")->type == DataType::double_);
  // Nothing is dropped, variants are appended.
  CHECK(column_names(f.schema, "t") ==
        Names{"id", "ts", "f", "_dlt_load_id", "_dlt_id", "id__v_text", "ts__v_text", "f__v_text", "id__v_double"});
}

TEST_CASE("types: an integer beyond int64 lands in a numeric variant instead of failing") {
  Fixture f;
  f.add(R"({"n": 1})");
  f.add(R"({"n": 9223372036854775808})");
  CHECK(f.last("n__v_decimal") == "9223372036854775808");
  CHECK(column_type(f.schema, "t", "n__v_decimal") == DataType::decimal);
  f.add(R"({"n": 9223372036854775807})");
  CHECK(f.last("n") == "9223372036854775807");
}

TEST_CASE("types: a field that changes shape") {
  Fixture f;
  f.add(R"({"nested": {"lvl1": {"a": 1}}, "s": 1})");
  f.add(R"({"nested": {"lvl1": "x"}, "s": {"sub": 2}})");
  f.add(R"({"s": [1, 2]})");
  CHECK(f.schema.find_table("t")->find("nested__lvl1__a") != nullptr);
  CHECK(column_type(f.schema, "t", "nested__lvl1") == DataType::text);
  CHECK(column_type(f.schema, "t", "s__sub") == DataType::bigint);
  CHECK(f.schema.find_table("t__s") != nullptr);
}

TEST_CASE("types: encode_value follows dlt's coercions") {
  CHECK(encode(DataType::bigint, "\" 1_000 \"") == "1000");
  CHECK_FALSE(encode(DataType::bigint, "\"1__0\""));
  CHECK_FALSE(encode(DataType::bigint, "true"));
  CHECK_FALSE(encode(DataType::bigint, "1.5"));
  CHECK_FALSE(encode(DataType::bigint, "1e30"));
  CHECK(encode(DataType::double_, "\" 1e3 \"") == "1000.0");
  CHECK(encode(DataType::double_, "\"-inf\"") == "-Infinity");
  CHECK_FALSE(encode(DataType::double_, "\"abc\""));
  CHECK(encode(DataType::text, "true") == "True");
  CHECK(encode(DataType::text, "1e16") == "1e+16");
  CHECK(encode(DataType::bool_, "\"No\"") == "f");
  CHECK_FALSE(encode(DataType::bool_, "\"maybe\""));
  CHECK(encode(DataType::json, "\"[1, 2]\"") == "[1,2]");
  CHECK_FALSE(encode(DataType::json, "\"{oops\""));
  CHECK_FALSE(encode(DataType::json, "5"));
  CHECK(encode(DataType::decimal, "\"12.50\"") == "12.50");
  CHECK_FALSE(encode(DataType::decimal, "\"12,5\""));
  // Past numeric(38,9)'s 29 integer digits: a variant, never a failed COPY.
  CHECK(encode(DataType::decimal, "1e28") == "1e+28");
  CHECK_FALSE(encode(DataType::decimal, "1e30"));
  CHECK_FALSE(encode(DataType::decimal, "-1e29"));
  CHECK_FALSE(encode(DataType::decimal, "\"1e40\""));
  CHECK_FALSE(encode(DataType::decimal, "\"-123456789012345678901234567890\""));
  CHECK(encode(DataType::decimal, "\"-12345678901234567890123456789\"") == "-12345678901234567890123456789");
  // 2^70 parses as a double; neither it nor +-1e300 is cast into int64 (UB), both go to a variant.
  CHECK_FALSE(encode(DataType::bigint, "1180591620717411303424"));
  CHECK_FALSE(encode(DataType::bigint, "-1e300"));
  CHECK_FALSE(encode(DataType::bigint, "9223372036854775808.0"));
  CHECK(encode(DataType::bigint, "-9223372036854775808.0") == "-9223372036854775808");
  CHECK_FALSE(encode(DataType::timestamp, "true"));
  // jsonb cannot hold \u0000; it becomes U+FFFD, a literal backslash-u stays.
  CHECK(encode(DataType::json, R"({"a":"x\u0000y","b":"\\u0000"})") == R"({"a":"x\ufffdy","b":"\\u0000"})");
}

TEST_CASE("timestamp: the ISO forms detection accepts") {
  using mh::normalize::parse_iso_timestamp;
  auto iso = [](const char* s, bool allow_date = false) -> std::optional<std::string> {
    auto t = parse_iso_timestamp(s, allow_date);
    if (!t) return std::nullopt;
    std::string out;
    mh::normalize::format_utc_timestamp(out, *t);
    return out;
  };
  CHECK(iso("2025-01-01T00:00:01.265Z") == "2025-01-01T00:00:01.265000+00:00");
  CHECK(iso("2024-05-01 10:00:00") == "2024-05-01T10:00:00+00:00");
  CHECK(iso("2024-05-01T10:00") == "2024-05-01T10:00:00+00:00");
  CHECK(iso("2024-05-01T10:00:00+02:00") == "2024-05-01T08:00:00+00:00");
  CHECK(iso("2024-05-01T00:30:00-0130") == "2024-05-01T02:00:00+00:00");
  CHECK(iso("20240501T100000Z") == "2024-05-01T10:00:00+00:00");
  CHECK(iso("2024-05-01T10:00:00.1234567Z") == "2024-05-01T10:00:00.123456+00:00");
  CHECK(iso("1969-12-31T23:59:59.5Z") == "1969-12-31T23:59:59.500000+00:00");
  CHECK(iso("2024-02-29T00:00:00Z"));
  CHECK_FALSE(iso("2023-02-29T00:00:00Z"));
  CHECK_FALSE(iso("2024-05-01"));
  CHECK(iso("2024-05-01", true) == "2024-05-01T00:00:00+00:00");
  CHECK_FALSE(iso("10:00:00"));
  CHECK_FALSE(iso("2024-13-01T00:00:00"));
  CHECK_FALSE(iso("2024-05-01T25:00:00"));
  CHECK_FALSE(iso("2024-05-01T10:00:00 trailing"));
  CHECK_FALSE(iso("0001-01-01T00:00:00+01:00"));  // before year 1 in UTC
  CHECK_FALSE(iso("not a date"));
  CHECK_FALSE(iso(""));
}

TEST_CASE("hostile keys never escape the identifier alphabet") {
  Fixture f;
  std::string huge(10000, 'K');
  boost::json::object record;
  record["a\"; DROP TABLE x; --"] = 1;
  record["back\\slash"] = 2;
  record[""] = 3;
  record["   "] = 4;
  record["\xE2\x98\x83 snow\xC3\xA9"] = 5;
  record[huge] = 6;
  record["tab\there\nnewline"] = 7;
  record["list\"; --"] = boost::json::array{1, 2};
  record[huge + "_list"] = boost::json::array{boost::json::object{{"k\"", 1}}};
  f.normalizer.add(Resource{"res\"; DROP SCHEMA public; --"}, record);
  for (const auto& t : f.schema.tables()) {
    CHECK(t.name.size() <= 63);
    CHECK(t.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    for (const auto& c : t.columns()) {
      CHECK(c.name.size() <= 63);
      CHECK(!c.name.empty());
      CHECK(c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    }
  }
  const auto* root = f.schema.find_table(Normalizer::table_name("res\"; DROP SCHEMA public; --"));
  REQUIRE(root != nullptr);
  CHECK(root->name == "res_drop_schema_publicxxx");
  CHECK(root->find("a_drop_table_xxxx") != nullptr);
  CHECK(root->find("back_slash") != nullptr);
  CHECK(root->find("_empty") != nullptr);
  CHECK(f.rows.rows[0].get("_empty") == "4");  // both blank keys become _empty: the later wins
  CHECK(root->find("_snowx") != nullptr);
}

TEST_CASE("numeric: doubles become int64 only inside its range, never by an undefined cast") {
  using mh::util::saturate_int64;
  using mh::util::to_int64;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  CHECK(to_int64(42.9) == 42);
  CHECK(to_int64(-42.9) == -42);
  CHECK(to_int64(-9223372036854775808.0) == min);
  CHECK_FALSE(to_int64(9223372036854775808.0));  // 2^63
  CHECK_FALSE(to_int64(1e30));
  CHECK_FALSE(to_int64(-1e300));
  CHECK_FALSE(to_int64(std::numeric_limits<double>::quiet_NaN()));
  CHECK_FALSE(to_int64(std::numeric_limits<double>::infinity()));
  CHECK(saturate_int64(1e30) == max);
  CHECK(saturate_int64(-std::numeric_limits<double>::infinity()) == min);
  CHECK(saturate_int64(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(saturate_int64(12.5) == 12);
}
