// Reconciling a package's schema with the stored one: the union only grows,
// stored types win, a conflicting column maps to its variant, and the version
// moves by one exactly when the content changed.
#include <doctest/doctest.h>

#include <string>

#include "normalize/coerce.hpp"
#include "normalize/naming.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/reconcile.hpp"
#include "support/row_capture.hpp"

using mh::normalize::DataType;
using mh::normalize::Normalizer;
using mh::normalize::reconcile;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::json;

namespace {

// The schema a run starting from `start` infers from `record` of resource `name`.
Schema infer(const Schema& start, const std::string& name, const std::string& record) {
  Schema s = start;
  mh::test::RowCapture rows;
  Normalizer n(s, "1.1", rows);
  n.add(Resource{name, WriteDisposition::append, {}}, json(record.c_str()));
  s.bump_version();
  return s;
}

}  // namespace

TEST_CASE("reconcile: nothing stored gives the package's tables at version 2") {
  Schema p = infer(Schema("magic_hour"), "a", R"({"id": 1, "tags": ["x"]})");
  auto r = reconcile(std::nullopt, p);
  CHECK(r.changed);
  CHECK(r.schema.version() == 2);
  CHECK(r.schema.version_hash() == p.version_hash());
  REQUIRE(r.schema.tables().size() == 2);
  CHECK(r.variants.empty());
}

TEST_CASE("reconcile: two writers from one start get the union, one version up") {
  Schema start = reconcile(std::nullopt, infer(Schema("magic_hour"), "a", R"({"id": 1})")).schema;
  Schema pa = infer(start, "a", R"({"id": 1, "extra": "x"})");
  Schema pb = infer(start, "b", R"({"name": "n", "list": [1, 2]})");

  auto first = reconcile(start, pa);
  CHECK(first.changed);
  CHECK(first.schema.version() == start.version() + 1);
  auto second = reconcile(first.schema, pb);
  CHECK(second.changed);
  CHECK(second.schema.version() == start.version() + 2);
  for (const char* t : {"a", "b", "b__list"}) CHECK_MESSAGE(second.schema.find_table(t) != nullptr, t);
  CHECK(second.schema.find_table("a")->find("extra") != nullptr);
  CHECK(second.schema.find_table("b__list")->parent == "b");

  // The same package again, or one with a subset, changes nothing.
  auto again = reconcile(second.schema, pa);
  CHECK_FALSE(again.changed);
  CHECK(again.schema.version() == second.schema.version());
  CHECK(again.schema.version_hash() == second.schema.version_hash());
  CHECK(reconcile(second.schema, start).changed == false);
}

TEST_CASE("reconcile: a type conflict maps the package column to its variant, stored types win") {
  Schema start("magic_hour");
  Schema as_int = infer(start, "u", R"({"id": "k", "size": 5})");
  Schema as_text = infer(start, "u", R"({"id": "k", "size": "large"})");
  Schema stored = reconcile(std::nullopt, as_int).schema;

  auto r = reconcile(stored, as_text);
  CHECK(r.changed);
  const auto* u = r.schema.find_table("u");
  REQUIRE(u != nullptr);
  CHECK(u->find("size")->type == DataType::bigint);
  const auto* v = u->find("size__v_text");
  REQUIRE(v != nullptr);
  CHECK(v->type == DataType::text);
  CHECK(v->variant);
  CHECK(v->nullable);
  CHECK(r.target("u", "size") == "size__v_text");
  CHECK(r.target("u", "id") == "id");
  CHECK(r.target_columns("u", {"id", "size"}) == std::vector<std::string>{"id", "size__v_text"});

  // The other way round: integers' text is text, so they load into the stored column.
  auto back = reconcile(reconcile(std::nullopt, as_text).schema, as_int);
  CHECK(back.target("u", "size") == "size");
  CHECK(back.schema.find_table("u")->find("size")->type == DataType::text);
  CHECK(back.schema.find_table("u")->find("size__v_bigint") == nullptr);

  // A second package with the same conflict reuses the variant and changes nothing.
  auto twice = reconcile(r.schema, as_text);
  CHECK_FALSE(twice.changed);
  CHECK(twice.target("u", "size") == "size__v_text");
}

TEST_CASE("reconcile: variant names of long columns are shortened to 63 bytes") {
  const std::string key(62, 'k');
  Schema start("magic_hour");
  Schema as_int = infer(start, "u", "{\"" + key + "\": 5}");
  Schema as_text = infer(start, "u", "{\"" + key + "\": \"x\"}");
  auto r = reconcile(reconcile(std::nullopt, as_int).schema, as_text);
  const std::string& v = r.target("u", key);
  CHECK(v != key);
  CHECK(v.size() <= mh::normalize::kMaxIdentifierLength);
  CHECK(v == mh::normalize::shorten_fragments({key, "v_text"}));
  CHECK(r.schema.find_table("u")->find(v)->variant);
}

TEST_CASE("reconcile: the package's table hints replace the stored ones") {
  Schema stored = reconcile(std::nullopt, infer(Schema("magic_hour"), "a", R"({"id": 1})")).schema;
  Schema p = stored;
  p.table(*p.table_index("a")).write_disposition = WriteDisposition::merge;
  auto r = reconcile(stored, p);
  CHECK(r.changed);
  CHECK(r.schema.find_table("a")->write_disposition == WriteDisposition::merge);
}

// The layout a sequential run gives: `second` normalized after `first` was stored.
static Schema sequential(const std::string& first, const std::string& second) {
  Schema stored = reconcile(std::nullopt, infer(Schema("magic_hour"), "u", first)).schema;
  return infer(stored, "u", second);
}

TEST_CASE("reconcile: a package type whose text the stored column takes loads into it, as sequential runs do") {
  struct Case {
    const char* stored;
    const char* package;
    DataType stored_type;
  };
  for (const Case& c :
       {Case{R"({"v": "x"})", R"({"v": 5})", DataType::text}, Case{R"({"v": "x"})", R"({"v": 1.5})", DataType::text},
        Case{R"({"v": "x"})", R"({"v": 18446744073709551615})", DataType::text},
        Case{R"({"v": 2.5})", R"({"v": 5})", DataType::double_},
        Case{R"({"v": 18446744073709551615})", R"({"v": 5})", DataType::decimal}}) {
    CAPTURE(c.stored);
    CAPTURE(c.package);
    Schema start("magic_hour");
    Schema stored = reconcile(std::nullopt, infer(start, "u", c.stored)).schema;
    REQUIRE(stored.find_table("u")->find("v")->type == c.stored_type);
    auto r = reconcile(stored, infer(start, "u", c.package));
    CHECK(r.target("u", "v") == "v");
    CHECK(r.variants.empty());
    CHECK_FALSE(r.changed);
    // A sequential run adds no variant either.
    Schema seq = sequential(c.stored, c.package);
    for (const auto& col : seq.find_table("u")->columns()) CHECK_FALSE(col.variant);
  }
  // json into text: a nested object is not a column of its own when max nesting is 0, so
  // check the rule itself, which coerce shares with the normalizer.
  CHECK(mh::normalize::canonical_text_fits(DataType::text, DataType::json));
  // Values the stored column would read differently stay variants: bool (`t` vs `True`),
  // timestamps (normalized vs the original string), text into numbers.
  for (auto [stored, package] :
       {std::pair{DataType::text, DataType::bool_}, std::pair{DataType::text, DataType::timestamp},
        std::pair{DataType::bigint, DataType::double_}, std::pair{DataType::bigint, DataType::text},
        std::pair{DataType::double_, DataType::decimal}}) {
    CHECK_FALSE(mh::normalize::canonical_text_fits(stored, package));
  }
  Schema start("magic_hour");
  auto b = reconcile(reconcile(std::nullopt, infer(start, "u", R"({"v": "x"})")).schema,
                     infer(start, "u", R"({"v": true})"));
  CHECK(b.target("u", "v") == "v__v_bool");
}

TEST_CASE("reconcile: a primary key or NOT NULL column that cannot take the package's type fails clearly") {
  Schema start("magic_hour");
  Schema as_int = start, as_text = start;
  {
    mh::test::RowCapture rows;
    Normalizer n(as_int, "1.1", rows);
    n.add(Resource{"items", WriteDisposition::merge, {"id"}}, json(R"({"id": 1})"));
    as_int.bump_version();
  }
  {
    mh::test::RowCapture rows;
    Normalizer n(as_text, "1.1", rows);
    n.add(Resource{"items", WriteDisposition::merge, {"id"}}, json(R"({"id": "a"})"));
    as_text.bump_version();
  }
  Schema stored = reconcile(std::nullopt, as_int).schema;
  REQUIRE(stored.find_table("items")->find("id")->primary_key);
  std::string message;
  try {
    reconcile(stored, as_text);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message.find("table items") != std::string::npos);
  CHECK(message.find("column id") != std::string::npos);
  CHECK(message.find("bigint") != std::string::npos);
  CHECK(message.find("text") != std::string::npos);
  // Stored text ← bigint fits even on a key column.
  CHECK(reconcile(reconcile(std::nullopt, as_text).schema, as_int).target("items", "id") == "id");
}
