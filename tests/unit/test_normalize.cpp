// The relational normalizer: tables, columns, rows and ids as dlt makes them
// (docs/dlt-layout.md §Nesting), on a Magic Hour image project and dlt's examples.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "normalize/naming.hpp"
#include "normalize/normalizer.hpp"
#include "normalize/row_id.hpp"
#include "support/row_capture.hpp"

using mh::normalize::DataType;
using mh::normalize::Normalizer;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::column_names;
using mh::test::column_type;
using mh::test::json;
using Names = std::vector<std::string>;

namespace {

constexpr const char* kProject = R"({
  "id": "cuid-example",
  "name": "Example Name",
  "status": "complete",
  "image_count": 2,
  "type": "AI_IMAGE",
  "created_at": "2024-10-18T05:16:19.027Z",
  "enabled": true,
  "credits_charged": 5,
  "total_frame_cost": 5,
  "downloads": [
    {"url": "https://videos.magichour.ai/id/output.png", "expires_at": "2024-10-19T05:16:19.027Z"},
    {"url": "https://videos.magichour.ai/id/output-2.png", "expires_at": "2024-10-19T05:16:19.027+02:00"}
  ],
  "error": null
})";

struct Fixture {
  Schema schema{"magic_hour"};
  mh::test::RowCapture rows;
  Normalizer normalizer{schema, "1795731604.105738", rows};
};

}  // namespace

TEST_CASE("normalize: a Magic Hour image project (append) → root table and downloads child table") {
  Fixture f;
  Resource r{"image_projects"};
  f.normalizer.add(r, json(kProject));

  CHECK(column_names(f.schema, "image_projects") == Names{"id", "name", "status", "image_count", "type", "created_at",
                                                          "enabled", "credits_charged", "total_frame_cost",
                                                          "_dlt_load_id", "_dlt_id"});
  CHECK(column_type(f.schema, "image_projects", "id") == DataType::text);
  CHECK(column_type(f.schema, "image_projects", "image_count") == DataType::bigint);
  CHECK(column_type(f.schema, "image_projects", "created_at") == DataType::timestamp);
  CHECK(column_type(f.schema, "image_projects", "enabled") == DataType::bool_);
  CHECK_FALSE(column_type(f.schema, "image_projects", "error"));  // only ever null: no column

  CHECK(column_names(f.schema, "image_projects__downloads") ==
        Names{"url", "expires_at", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
  CHECK(column_type(f.schema, "image_projects__downloads", "expires_at") == DataType::timestamp);
  const auto* child = f.schema.find_table("image_projects__downloads");
  REQUIRE(child != nullptr);
  CHECK(child->parent == "image_projects");

  auto root = f.rows.of("image_projects");
  REQUIRE(root.size() == 1);
  CHECK(root[0].get("id") == "cuid-example");
  CHECK(root[0].get("created_at") == "2024-10-18T05:16:19.027000+00:00");
  CHECK(root[0].get("enabled") == "t");
  CHECK(root[0].get("_dlt_load_id") == "1795731604.105738");
  std::string root_id = *root[0].get("_dlt_id");
  CHECK(root_id.size() == 14);

  auto downloads = f.rows.of("image_projects__downloads");
  REQUIRE(downloads.size() == 2);
  CHECK(downloads[0].get("url") == "https://videos.magichour.ai/id/output.png");
  CHECK(downloads[1].get("expires_at") == "2024-10-19T03:16:19.027000+00:00");  // +02:00 normalized to UTC
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(downloads[i].get("_dlt_parent_id") == root_id);
    CHECK(downloads[i].get("_dlt_list_idx") == std::to_string(i));
    CHECK(downloads[i].get("_dlt_id") == mh::normalize::nested_row_id(root_id, "image_projects__downloads", i));
    CHECK_FALSE(downloads[i].get("_dlt_root_id"));  // append: no root key
  }
  // The parent row comes before its children.
  CHECK(f.rows.rows[0].table == "image_projects");
}

TEST_CASE("normalize: merge propagates _dlt_root_id and the primary key is NOT NULL") {
  Fixture f;
  Resource r{"image_projects", WriteDisposition::merge, {"id"}};
  f.normalizer.add(r, json(kProject));
  f.normalizer.add(r, json(R"({"id": "p2", "status": "error", "error": {"code": "no_source_face",
                                "message": "Please use an image with a detectable face"}, "downloads": []})"));

  const auto* root = f.schema.find_table("image_projects");
  REQUIRE(root != nullptr);
  CHECK(root->write_disposition == WriteDisposition::merge);
  CHECK(root->find("id")->primary_key);
  CHECK_FALSE(root->find("id")->nullable);
  CHECK(root->find("name")->nullable);
  // error is an object only in the second record: flattened, appended at the end.
  CHECK(column_names(f.schema, "image_projects").back() == "error__message");
  CHECK(root->find("error__code") != nullptr);
  CHECK(root->find("error") == nullptr);
  CHECK(column_names(f.schema, "image_projects__downloads") ==
        Names{"url", "expires_at", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
  auto roots = f.rows.of("image_projects");
  for (const auto& d : f.rows.of("image_projects__downloads")) CHECK(d.get("_dlt_root_id") == roots[0].get("_dlt_id"));
  CHECK(f.rows.of("image_projects__downloads").size() == 2);  // the empty list gives no rows
}

TEST_CASE("normalize: sibling dicts flatten LIFO, as dlt 1.26 orders columns") {
  Fixture f;
  f.normalizer.add(Resource{"t"}, json(R"({"z":1,"a":{"x":1,"deep":{"q":1}},"m":2,"b":{"y":1},"c":3})"));
  CHECK(column_names(f.schema, "t") == Names{"z", "m", "c", "b__y", "a__x", "a__deep__q", "_dlt_load_id", "_dlt_id"});
  f.normalizer.add(Resource{"t"}, json(R"({"z":1,"settings":{"style":{"prompt":"Sunset"}}})"));
  CHECK(column_names(f.schema, "t").back() == "settings__style__prompt");
}

TEST_CASE("normalize: lists of scalars, lists in lists, nested paths and empty dicts") {
  Fixture f;
  f.normalizer.add(Resource{"items"},
                   json(R"({"tags": ["a", "b"], "lst": [[1, 2], [3]], "objs": [{"sub": [{"k": 1}]}], "empty": {},
                           "none": null})"));
  CHECK(column_names(f.schema, "items") == Names{"_dlt_load_id", "_dlt_id"});
  CHECK(column_names(f.schema, "items__tags") == Names{"value", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
  auto tags = f.rows.of("items__tags");
  REQUIRE(tags.size() == 2);
  CHECK(tags[1].get("value") == "b");
  // A list of lists: one system-only row per inner list, the values one level down.
  CHECK(column_names(f.schema, "items__lst") == Names{"_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
  CHECK(f.rows.of("items__lst").size() == 2);
  auto inner = f.rows.of("items__lst__list");
  REQUIRE(inner.size() == 3);
  CHECK(inner[2].get("value") == "3");
  CHECK(inner[2].get("_dlt_parent_id") == f.rows.of("items__lst")[1].get("_dlt_id"));
  CHECK(f.rows.of("items__objs__sub").size() == 1);
  CHECK(f.schema.find_table("items__objs__sub")->parent == "items__objs");
  CHECK(f.schema.find_table("items__empty") == nullptr);
}

TEST_CASE("normalize: the nesting limit keeps deeper values as json") {
  const char* record = R"({"id": 1, "a": {"b": {"c": 1}}, "l": [{"x": {"y": 1}, "inner": [1]}]})";
  SUBCASE("max_table_nesting 0: nothing flattened, no child tables") {
    Fixture f;
    f.normalizer.add(Resource{"t", WriteDisposition::append, {}, 0}, json(record));
    CHECK(column_names(f.schema, "t") == Names{"id", "a", "l", "_dlt_load_id", "_dlt_id"});
    CHECK(column_type(f.schema, "t", "a") == DataType::json);
    CHECK(f.rows.of("t")[0].get("a") == R"({"b":{"c":1}})");
    CHECK(f.schema.tables().size() == 1);
  }
  SUBCASE("max_table_nesting 1: child tables of the root only") {
    Fixture f;
    f.normalizer.add(Resource{"t", WriteDisposition::append, {}, 1}, json(record));
    CHECK(column_names(f.schema, "t") == Names{"id", "a__b", "_dlt_load_id", "_dlt_id"});
    CHECK(column_type(f.schema, "t", "a__b") == DataType::json);
    CHECK(column_names(f.schema, "t__l") == Names{"x", "inner", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
    CHECK(column_type(f.schema, "t__l", "inner") == DataType::json);
    CHECK(f.schema.find_table("t")->max_nesting == 1);
  }
  SUBCASE("unlimited by default") {
    Fixture f;
    f.normalizer.add(Resource{"t"}, json(record));
    CHECK(column_names(f.schema, "t") == Names{"id", "a__b__c", "_dlt_load_id", "_dlt_id"});
    CHECK(column_names(f.schema, "t__l") == Names{"x__y", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"});
    CHECK(f.schema.find_table("t__l__inner") != nullptr);
  }
  SUBCASE("a column that is json stays json") {
    Fixture f;
    f.normalizer.add(Resource{"t", WriteDisposition::append, {}, 1}, json(record));
    Resource unlimited{"t", WriteDisposition::append, {}, 5};
    f.normalizer.add(unlimited, json(R"({"a": {"b": {"c": 2}}})"));
    CHECK(f.rows.rows.back().get("a__b") == R"({"c":2})");
  }
}

TEST_CASE("normalize: a record that is not an object is wrapped as value") {
  Fixture f;
  f.normalizer.add(Resource{"nums"}, json("42"));
  CHECK(column_names(f.schema, "nums") == Names{"value", "_dlt_load_id", "_dlt_id"});
  CHECK(f.rows.rows[0].get("value") == "42");
}

TEST_CASE("normalize: a record without its primary key is rejected without a trace") {
  Fixture f;
  Resource r{"image_projects", WriteDisposition::merge, {"id"}};
  f.normalizer.add(r, json(R"({"id": "a", "x": 1})"));
  auto tables_before = f.schema.tables().size();
  auto columns_before = column_names(f.schema, "image_projects");
  auto rows_before = f.rows.rows.size();
  CHECK_THROWS_WITH_AS(f.normalizer.add(r, json(R"({"new_field": 1, "list": [1, 2], "id": null})")),
                       doctest::Contains("primary key column id"), mh::normalize::Error);
  CHECK(f.schema.tables().size() == tables_before);
  CHECK(column_names(f.schema, "image_projects") == columns_before);
  CHECK(f.rows.rows.size() == rows_before);
  // The normalizer is still usable.
  f.normalizer.add(r, json(R"({"id": "b", "new_field": 2})"));
  CHECK(column_names(f.schema, "image_projects").back() == "new_field");
}

TEST_CASE("normalize: data cannot forge system columns") {
  Fixture f;
  f.normalizer.add(Resource{"t"}, json(R"({"_dlt_id": "forged", "_dlt_load_id": 5, "a": 1})"));
  auto rows = f.rows.of("t");
  CHECK(rows[0].get("_dlt_id") != "forged");
  CHECK(rows[0].get("_dlt_load_id") == "1795731604.105738");
  CHECK(column_type(f.schema, "t", "_dlt_load_id") == DataType::text);
}

TEST_CASE("normalize: keys normalizing to one column keep the last value") {
  Fixture f;
  f.normalizer.add(Resource{"t"}, json(R"({"userID": 1, "user_id": 2})"));
  CHECK(column_names(f.schema, "t") == Names{"user_id", "_dlt_load_id", "_dlt_id"});
  CHECK(f.rows.rows[0].get("user_id") == "2");
}

TEST_CASE("normalize: records whose layout shifts still land in the right columns") {
  Fixture f;
  Resource r{"t"};
  f.normalizer.add(r, json(R"({"a": 1, "b": {"c": 2}, "l": [{"x": 1}]})"));
  f.normalizer.add(r, json(R"({"b": {"c": 3}, "a": 4, "l": [{"y": "q"}]})"));
  f.normalizer.add(r, json(R"({"b": 5, "a": {"c": 6}, "l": [7]})"));
  f.normalizer.add(r, json(R"({"a": 8, "b": {"c": 9}, "l": [{"x": 2}]})"));
  auto rows = f.rows.of("t");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].get("a") == "1");
  CHECK(rows[0].get("b__c") == "2");
  CHECK(rows[1].get("a") == "4");
  CHECK(rows[1].get("b__c") == "3");
  CHECK(rows[2].get("b") == "5");
  CHECK(rows[2].get("a__c") == "6");
  CHECK_FALSE(rows[2].get("a"));
  CHECK(rows[3].get("a") == "8");
  CHECK(rows[3].get("b__c") == "9");
  auto l = f.rows.of("t__l");
  REQUIRE(l.size() == 4);
  CHECK(l[0].get("x") == "1");
  CHECK(l[1].get("y") == "q");
  CHECK(l[2].get("value") == "7");
  CHECK(l[3].get("x") == "2");
  CHECK(l[3].get("_dlt_parent_id") == rows[3].get("_dlt_id"));
}
