// The versioned schema: dlt's stored-schema JSON, its content hash, and the
// journal that undoes a rejected record.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

#include "normalize/normalizer.hpp"
#include "support/row_capture.hpp"

using mh::normalize::Normalizer;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::json;

namespace {
Schema sample() {
  Schema s("magic_hour");
  mh::test::RowCapture rows;
  Normalizer n(s, "1.1", rows);
  n.add(Resource{"image_projects", WriteDisposition::merge, {"id"}},
        json(R"({"id": "p", "credits": 5, "downloads": [{"url": "u"}]})"));
  return s;
}
}  // namespace

TEST_CASE("schema: dlt's stored-schema shape") {
  Schema s = sample();
  s.bump_version();
  auto doc = s.to_json();
  CHECK(doc["name"] == "magic_hour");
  CHECK(doc["engine_version"] == 11);
  CHECK(doc["version"] == 2);
  CHECK(doc["version_hash"].get_string().size() == 44);
  CHECK(doc["settings"].at("detections") == boost::json::array{"iso_timestamp"});
  auto& tables = doc["tables"].get_object();
  CHECK(tables.contains("_dlt_version"));
  CHECK(tables.contains("_dlt_loads"));
  CHECK(tables.contains("_dlt_pipeline_state"));
  auto& root = tables["image_projects"].get_object();
  CHECK(root["write_disposition"] == "merge");
  CHECK(root["resource"] == "image_projects");
  CHECK(root["columns"].at("id") == json(R"({"name":"id","data_type":"text","nullable":false,"primary_key":true})"));
  CHECK(root["columns"].at("_dlt_id") ==
        json(R"({"name":"_dlt_id","data_type":"text","nullable":false,"unique":true,"row_key":true})"));
  auto& child = tables["image_projects__downloads"].get_object();
  CHECK(child["parent"] == "image_projects");
  CHECK(child["columns"].at("_dlt_root_id").at("root_key") == true);
  CHECK(doc["normalizers"].at("json").at("config").at("propagation").at("tables").at("image_projects") ==
        json(R"({"_dlt_id":"_dlt_root_id"})"));
}

TEST_CASE("schema: JSON round trip keeps tables, columns, hints and version") {
  Schema s = sample();
  s.bump_version();
  Schema back = Schema::from_json(s.to_json());
  CHECK(back.name() == s.name());
  CHECK(back.version() == s.version());
  CHECK(back.version_hash() == s.version_hash());
  CHECK(back.content_hash() == s.content_hash());
  REQUIRE(back.tables().size() == s.tables().size());
  for (std::size_t i = 0; i < s.tables().size(); ++i) {
    CHECK(back.table(i).name == s.table(i).name);
    CHECK(back.table(i).parent == s.table(i).parent);
    CHECK(back.table(i).columns() == s.table(i).columns());
  }
  CHECK_THROWS_AS(Schema::from_json(json("[1]")), std::invalid_argument);
}

TEST_CASE("schema: the version hash changes with the content and only then") {
  Schema s("magic_hour");
  std::string empty_hash = s.version_hash();
  CHECK(s.version() == 1);
  CHECK_FALSE(s.bump_version());
  mh::test::RowCapture rows;
  Normalizer n(s, "1.1", rows);
  n.add(Resource{"t"}, json(R"({"a": 1})"));
  CHECK(s.bump_version());
  CHECK(s.version() == 2);
  CHECK(s.version_hash() != empty_hash);
  CHECK(s.previous_hashes() == std::vector<std::string>{empty_hash});
  std::string h2 = s.version_hash();
  n.add(Resource{"t"}, json(R"({"a": 2})"));  // same shape
  CHECK_FALSE(s.bump_version());
  CHECK(s.version_hash() == h2);
  n.add(Resource{"t"}, json(R"({"a": 3, "b": "new"})"));
  CHECK(s.bump_version());
  CHECK(s.version() == 3);
  // The same content gives the same hash; column order is content.
  Schema s2("magic_hour");
  Normalizer n2(s2, "2.2", rows);
  n2.add(Resource{"t"}, json(R"({"a": 1})"));
  n2.add(Resource{"t"}, json(R"({"b": "x", "a": 7})"));
  CHECK(s2.content_hash() == s.content_hash());
  Schema s3("magic_hour");
  Normalizer n3(s3, "3.3", rows);
  n3.add(Resource{"t"}, json(R"({"a": 1, "b": "x"})"));
  CHECK(s3.content_hash() != s.content_hash());
}

TEST_CASE("schema: chains, roots and the undo journal") {
  Schema s = sample();
  auto root = *s.table_index("image_projects");
  auto child = *s.table_index("image_projects__downloads");
  CHECK(s.chain(root) == std::vector<std::size_t>{root, child});
  CHECK(s.root_of(child) == root);
  std::size_t mark = s.mark();
  std::size_t t = s.add_table("extra", "");
  s.add_column(t, mh::normalize::Column{.name = "x"});
  s.add_column(root, mh::normalize::Column{.name = "y"});
  s.rollback(mark);
  CHECK_FALSE(s.table_index("extra"));
  CHECK(s.table(root).find("y") == nullptr);
}
