// Reconciling a package's schema with the stored one: the union only grows,
// stored types win, a conflicting column maps to its variant, and the version
// moves by one exactly when the content changed.
#include <doctest/doctest.h>

#include <string>

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

  // The other way round: the integer writer maps to size__v_bigint.
  auto back = reconcile(reconcile(std::nullopt, as_text).schema, as_int);
  CHECK(back.target("u", "size") == "size__v_bigint");
  CHECK(back.schema.find_table("u")->find("size")->type == DataType::text);

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
