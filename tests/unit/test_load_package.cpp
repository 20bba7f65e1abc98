// Load packages on disk: COPY text encoding, load ids, the pipeline state
// document, and building, reading, listing and discarding packages.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "load/copy_text.hpp"
#include "load/load_id.hpp"
#include "load/package.hpp"
#include "load/package_builder.hpp"
#include "load/postgres_sql.hpp"
#include "load/state.hpp"
#include "support/row_capture.hpp"
#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

namespace fs = std::filesystem;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::json;

namespace {
std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}
}  // namespace

TEST_CASE("copy text: escaping, NULL, and sanitizing") {
  std::string out;
  mh::load::append_copy_field(out, "a\\b\tc\nd\re");
  CHECK(out == "a\\\\b\\tc\\nd\\re");
  out.clear();
  mh::load::append_copy_field(out, std::string("x\0y", 3));
  CHECK(out == "x\xEF\xBF\xBDy");
  out.clear();
  mh::load::append_copy_field(out, "ok \xC3\xBC bad \xC3 \xFF \xED\xA0\x80 \xF0\x9F\x98\x80");
  CHECK(out == "ok \xC3\xBC bad \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xF0\x9F\x98\x80");
  out.clear();
  mh::load::append_copy_field(out, "\\.");  // the end-of-data marker cannot appear
  CHECK(out == "\\\\.");

  std::vector<std::optional<std::string>> fields;
  mh::load::parse_copy_line("a\\\\b\\tc\t\\N\t\tx\\ny", fields);
  REQUIRE(fields.size() == 4);
  CHECK(fields[0] == "a\\b\tc");
  CHECK_FALSE(fields[1]);
  CHECK(fields[2] == "");
  CHECK(fields[3] == "x\ny");
}

TEST_CASE("copy text: the word-at-a-time scan agrees with a byte-by-byte escaper") {
  auto reference = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
    return out;
  };
  const std::string specials[] = {"\\", "\t", "\n", "\r", "\x01", "\x0d", "\x0e", "\x1f", "~", "\x7f"};
  for (std::size_t len = 0; len < 20; ++len) {
    for (std::size_t pos = 0; pos <= len; ++pos) {
      for (const auto& sp : specials) {
        std::string s(len, 'a');
        s.insert(pos, sp);
        std::string out;
        mh::load::append_copy_field(out, s);
        CHECK(out == reference(s));
      }
    }
  }
}

TEST_CASE("load id: Python float repr of the time, strictly increasing") {
  std::string prev = mh::load::new_load_id();
  for (int i = 0; i < 1000; ++i) {
    std::string next = mh::load::new_load_id();
    CHECK(mh::load::load_id_value(next) > mh::load::load_id_value(prev));
    prev = next;
  }
  CHECK(prev.find('.') == 10);
  CHECK(prev.find_first_not_of("0123456789.") == std::string::npos);
  CHECK(std::isnan(mh::load::load_id_value("../etc")));
  CHECK(mh::load::load_id_value("1795731604.105738") == doctest::Approx(1795731604.105738));
}

TEST_CASE("state: dlt's document, version hash and compression") {
  mh::load::PipelineState st{"peer_smoke", "smoke", "magic_hour"};
  st.sources["magic_hour"] = boost::json::object{{"resources", boost::json::object{}}};
  auto doc = mh::load::state_document(st);
  CHECK(doc["_state_version"] == 1);
  CHECK(doc["_state_engine_version"] == 4);
  CHECK(doc["schema_names"] == boost::json::array{"magic_hour"});
  CHECK(doc["destination_type"] == "dlt.destinations.postgres");
  CHECK(doc["destination_name"].is_null());
  std::string hash(doc["_version_hash"].get_string());
  CHECK(hash.size() == 44);
  CHECK(mh::load::state_version_hash(doc) == hash);  // the hash ignores itself
  st.version = 7;
  CHECK(mh::load::state_document(st)["_version_hash"] == hash.c_str());  // and the version
  st.sources["magic_hour"].as_object()["x"] = 1;
  CHECK(mh::load::state_document(st)["_version_hash"] != hash.c_str());
  std::string packed = mh::load::compress_state(doc);
  CHECK(mh::load::decompress_state(packed) == doc);
  CHECK_THROWS_AS(mh::load::decompress_state("bm90IHpsaWI="), std::runtime_error);
}

TEST_CASE("package: rows spill to COPY files, a new column starts a new file, the manifest seals it") {
  mh::test::TempDir dir;
  Schema schema("magic_hour");
  Resource r{"image_projects", WriteDisposition::merge, {"id"}};
  std::string load_id;
  {
    mh::load::PackageBuilder b(dir.path(), schema);
    load_id = b.load_id();
    b.add(r, json(R"({"id": "a\tb", "downloads": [{"url": "u1"}, {"url": "u2"}]})"));
    b.add(r, json(R"({"id": "c", "note": "line\nbreak"})"));
    CHECK_THROWS_AS(b.add(r, json(R"({"note": "no id"})")), mh::normalize::Error);
    b.begin_resource(Resource{"empty_replace", WriteDisposition::replace});
    b.set_state(mh::load::PipelineState{"pipe", "ds", "magic_hour"});
    CHECK_FALSE(fs::exists(b.dir() + "/manifest.json"));
    auto pkg = b.finish();
    CHECK(pkg.load_id() == load_id);
  }
  std::string pdir = mh::load::packages_dir(dir.path()) + "/" + load_id;
  REQUIRE(fs::exists(pdir + "/manifest.json"));  // finish() keeps the folder
  auto pkg = mh::load::Package::open(pdir);
  const auto& m = pkg.manifest();
  CHECK(m.schema_name == "magic_hour");
  CHECK(m.schema_version == 2);
  CHECK(m.schema_version_hash == pkg.schema().version_hash());
  CHECK(m.rows() == 4);
  REQUIRE(m.resources.size() == 2);
  CHECK(m.resource_for_table("image_projects")->primary_key == std::vector<std::string>{"id"});
  CHECK(m.resource_for_table("empty_replace")->write_disposition == WriteDisposition::replace);
  REQUIRE(m.state);
  CHECK(m.state->pipeline_name == "pipe");

  REQUIRE(m.tables.size() == 2);
  const auto& root = m.tables[0];
  CHECK(root.name == "image_projects");
  CHECK(root.rows == 2);
  REQUIRE(root.files.size() == 2);  // `note` appeared in the second record
  CHECK(root.files[0].name == "image_projects.0.copy");
  CHECK(root.files[0].columns == std::vector<std::string>{"id", "_dlt_load_id", "_dlt_id"});
  CHECK(root.files[1].columns == std::vector<std::string>{"id", "_dlt_load_id", "_dlt_id", "note"});
  auto l0 = lines(pkg.path(root.files[0]));
  REQUIRE(l0.size() == 1);
  CHECK(l0[0].starts_with("a\\tb\t" + load_id + "\t"));
  auto l1 = lines(pkg.path(root.files[1]));
  REQUIRE(l1.size() == 1);
  CHECK(l1[0].ends_with("\tline\\nbreak"));
  CHECK(m.tables[1].name == "image_projects__downloads");
  CHECK(m.tables[1].parent == "image_projects");
  CHECK(lines(pkg.path(m.tables[1].files[0])).size() == 2);
  // Nothing temporary is left behind.
  for (const auto& e : fs::directory_iterator(pdir)) CHECK(e.path().extension() != ".tmp");
  // The schema is saved as the pipeline's current one.
  CHECK(mh::load::current_schema(dir.path(), "magic_hour").version_hash() == schema.version_hash());
  CHECK(mh::load::current_schema(dir.path(), "other").tables().empty());
}

TEST_CASE("package: memory stays bounded: files are written while records arrive") {
  mh::test::TempDir dir;
  Schema schema("magic_hour");
  mh::load::PackageBuilder b(dir.path(), schema);
  std::string big(1000, 'x');
  for (int i = 0; i < 3000; ++i) b.add(Resource{"t"}, boost::json::object{{"i", i}, {"s", big}});
  // 3 MB of rows: at least two 1 MiB flushes reached the disk before finish().
  CHECK(fs::file_size(b.dir() + "/t.0.copy.tmp") >= 2u << 20);
  auto pkg = b.finish();
  CHECK(pkg.manifest().rows() == 3000);
  CHECK(lines(pkg.path(pkg.manifest().tables[0].files[0])).size() == 3000);
}

TEST_CASE("package: listing, discarding incomplete ones, abandoning, removing") {
  mh::test::TempDir dir;
  Schema schema("magic_hour");
  std::vector<std::string> complete;
  for (int i = 0; i < 3; ++i) {
    mh::load::PackageBuilder b(dir.path(), schema);
    b.add(Resource{"t"}, json(R"({"a": 1})"));
    complete.push_back(b.finish().dir());
  }
  std::string abandoned;
  {
    mh::load::PackageBuilder b(dir.path(), schema);
    b.add(Resource{"t"}, json(R"({"a": 1})"));
    abandoned = b.dir();
  }  // neither finished nor abandoned: removed
  CHECK_FALSE(fs::exists(abandoned));
  // A crash in the middle of an extraction leaves a folder without manifest.
  std::string torn = mh::load::packages_dir(dir.path()) + "/1700000000.5";
  fs::create_directories(torn);
  dir.write("packages/1700000000.5/t.0.copy.tmp", "partial");
  fs::create_directories(mh::load::packages_dir(dir.path()) + "/not-a-load-id");

  CHECK(mh::load::complete_packages(dir.path()) == complete);
  CHECK(mh::load::discard_incomplete_packages(dir.path()) == std::vector<std::string>{torn});
  CHECK_FALSE(fs::exists(torn));
  CHECK(fs::exists(mh::load::packages_dir(dir.path()) + "/not-a-load-id"));
  mh::load::remove_package(complete[0]);
  CHECK(mh::load::complete_packages(dir.path()).size() == 2);
  CHECK(mh::load::complete_packages(dir.path() + "/missing").empty());
}

TEST_CASE("package: a manifest naming files outside the package is refused") {
  mh::test::TempDir dir;
  Schema schema("magic_hour");
  mh::load::PackageBuilder b(dir.path(), schema);
  b.add(Resource{"t"}, json(R"({"a": 1})"));
  auto pkg = b.finish();
  auto doc = boost::json::parse(mh::util::read_file(pkg.dir() + "/manifest.json")).as_object();
  doc["tables"].as_array()[0].as_object()["files"].as_array()[0].as_object()["name"] = "../../etc/passwd.0.copy";
  mh::util::write_file_atomic(pkg.dir() + "/manifest.json", boost::json::serialize(doc));
  CHECK_THROWS_WITH_AS(mh::load::Package::open(pkg.dir()), doctest::Contains("bad file name"), std::runtime_error);
  doc["tables"].as_array()[0].as_object()["files"].as_array()[0].as_object()["name"] = "t.0.copy";
  doc["tables"].as_array()[0].as_object()["name"] = "../t";
  mh::util::write_file_atomic(pkg.dir() + "/manifest.json", boost::json::serialize(doc));
  CHECK_THROWS_WITH_AS(mh::load::Package::open(pkg.dir()), doctest::Contains("bad table name"), std::runtime_error);
}

TEST_CASE("postgres sql: identifiers are always quoted, DDL as dlt writes it") {
  CHECK(mh::load::quote_ident("a\"b") == "\"a\"\"b\"");
  CHECK(mh::load::qualified("ds", "t") == "\"ds\".\"t\"");
  Schema schema("magic_hour");
  mh::test::RowCapture rows;
  mh::normalize::Normalizer n(schema, "1.1", rows);
  n.add(Resource{"image_projects", WriteDisposition::merge, {"id"}},
        json(R"({"id": "p", "f": 1.5, "downloads": [{"url": "u"}]})"));
  const auto& t = *schema.find_table("image_projects");
  CHECK(mh::load::create_table_sql("ds", t) ==
        "CREATE TABLE IF NOT EXISTS \"ds\".\"image_projects\" (\n\"id\" varchar NOT NULL,\n\"f\" double precision,\n"
        "\"_dlt_load_id\" varchar NOT NULL,\n\"_dlt_id\" varchar UNIQUE NOT NULL)");
  CHECK(mh::load::add_columns_sql("ds", t, {&t.column(0), &t.column(1)}) ==
        "ALTER TABLE \"ds\".\"image_projects\"\nADD COLUMN \"id\" varchar,\nADD COLUMN \"f\" double precision");
  auto merge = mh::load::merge_sql("ds", "ds_staging", schema, 0, {"id"}, "abc");
  REQUIRE(merge.size() == 6);
  CHECK(
      merge[0].starts_with("CREATE TEMPORARY TABLE \"image_projects_delete_abc\" ON COMMIT DROP AS SELECT "
                           "d.\"_dlt_id\" FROM \"ds\".\"image_projects\" AS d WHERE EXISTS"));
  CHECK(merge[1] ==
        "DELETE FROM \"ds\".\"image_projects__downloads\" WHERE \"_dlt_root_id\" IN (SELECT * FROM "
        "\"image_projects_delete_abc\")");
  CHECK(merge[5].find("partition BY \"_dlt_id\"") != std::string::npos);
  auto simple = mh::load::merge_sql("ds", "ds_staging", schema, 1, {}, "abc");
  CHECK(simple.size() == 1);  // a chain without a key is a staged append
}
