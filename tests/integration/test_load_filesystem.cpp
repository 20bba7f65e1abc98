// The filesystem destination: JSON lines per table and package, dlt's
// system records, replace, and exactly-once by the _dlt_loads marker.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "load/filesystem.hpp"
#include "load/package_builder.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mh::normalize::Resource;
using mh::normalize::WriteDisposition;

namespace {

std::vector<boost::json::object> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<boost::json::object> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(boost::json::parse(line).as_object());
  return out;
}

std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct Files {
  mh::test::TempDir state;
  mh::test::TempDir out;
  mh::normalize::Schema schema{"magic_hour"};
  mh::load::FilesystemDestination dest{mh::load::FilesystemConfig{out.path(), "magic_hour_data"}};

  mh::load::Package build(const Resource& r, const std::vector<const char*>& records) {
    mh::load::PackageBuilder b(state.path(), schema);
    b.begin_resource(r);
    for (const char* rec : records) b.add(r, boost::json::parse(rec));
    return b.finish();
  }
  fs::path dir(const std::string& table) const { return fs::path(out.path()) / "magic_hour_data" / table; }
};

}  // namespace

TEST_CASE("filesystem: one JSON lines file per package file, typed values, dlt's system records") {
  Files f;
  auto pkg = f.build(Resource{"image_projects"},
                     {R"({"id": "p1", "n": 5, "f": 1.5, "ok": true, "ts": "2024-05-01T10:00:00+02:00",
                          "big": 18446744073709551615, "downloads": [{"url": "u\tv"}]})",
                      R"({"id": "p2", "extra": "later column"})"});
  auto result = f.dest.load(pkg);
  CHECK(result.status == mh::load::LoadStatus::loaded);
  CHECK(result.rows == 3);
  std::string id = pkg.load_id();
  CHECK(names(f.dir("image_projects")) == std::vector<std::string>{id + ".0.jsonl", id + ".1.jsonl"});
  auto first = read_jsonl(f.dir("image_projects") / (id + ".0.jsonl"));
  REQUIRE(first.size() == 1);
  CHECK(first[0]["id"] == "p1");
  CHECK(first[0]["n"] == 5);
  CHECK(first[0]["f"] == 1.5);
  CHECK(first[0]["ok"] == true);
  CHECK(first[0]["ts"] == "2024-05-01T08:00:00+00:00");
  CHECK(first[0]["big"] == "18446744073709551615");
  CHECK(first[0]["_dlt_load_id"] == id.c_str());
  auto second = read_jsonl(f.dir("image_projects") / (id + ".1.jsonl"));
  CHECK(second[0]["extra"] == "later column");
  CHECK_FALSE(second[0].contains("n"));  // NULLs are left out
  auto child = read_jsonl(f.dir("image_projects__downloads") / (id + ".0.jsonl"));
  REQUIRE(child.size() == 1);
  CHECK(child[0]["url"] == "u\tv");
  CHECK(child[0]["_dlt_parent_id"] == first[0]["_dlt_id"]);
  auto loads = read_jsonl(f.dir("_dlt_loads") / ("magic_hour__" + id + ".jsonl"));
  REQUIRE(loads.size() == 1);
  CHECK(loads[0]["status"] == 0);
  CHECK(loads[0]["schema_version_hash"] == f.schema.version_hash().c_str());
  CHECK(names(f.dir("_dlt_version")).size() == 1);
  // Loaded once: a second load is a no-op.
  CHECK(f.dest.load(pkg).status == mh::load::LoadStatus::already_loaded);
}

TEST_CASE("filesystem: replace removes the previous files of the table and its children") {
  Files f;
  Resource r{"models", WriteDisposition::replace};
  auto a = f.build(r, {R"({"id": "a", "sizes": [1]})"});
  f.dest.load(a);
  auto b = f.build(r, {R"({"id": "b"})"});
  f.dest.load(b);
  CHECK(names(f.dir("models")) == std::vector<std::string>{b.load_id() + ".0.jsonl"});
  CHECK(names(f.dir("models__sizes")).empty());
}

TEST_CASE("filesystem: a package older than a replace table's files leaves the table alone") {
  Files f;
  Resource snapshot{"snapshot", WriteDisposition::replace};
  auto older = f.build(snapshot, {R"({"v": 1, "l": [1]})"});
  auto newer = f.build(snapshot, {R"({"v": 2, "l": [2, 2]})"});
  f.dest.load(newer);
  f.dest.load(older);  // e.g. a replica's package that waited
  CHECK(names(f.dir("snapshot")) == std::vector<std::string>{newer.load_id() + ".0.jsonl"});
  CHECK(names(f.dir("snapshot__l")) == std::vector<std::string>{newer.load_id() + ".0.jsonl"});
  CHECK(read_jsonl(f.dir("snapshot") / (newer.load_id() + ".0.jsonl"))[0].at("v").as_int64() == 2);
  CHECK(fs::exists(fs::path(f.out.path()) / "magic_hour_data" / "_dlt_loads" /
                   ("magic_hour__" + older.load_id() + ".jsonl")));  // still recorded as loaded
}

TEST_CASE("filesystem: a torn earlier attempt is overwritten, names stay inside the dataset") {
  Files f;
  mh::load::FilesystemDestination hostile{mh::load::FilesystemConfig{f.out.path(), "../../etc"}};
  CHECK(hostile.dataset_dir() == f.out.path() + "/_etc");
  auto pkg = f.build(Resource{"t\"/../../x"}, {R"({"../k": 1})"});
  std::string table = mh::normalize::Normalizer::table_name("t\"/../../x");
  fs::path d = fs::path(f.out.path()) / "_etc" / table;
  fs::create_directories(d);
  std::ofstream(d / (pkg.load_id() + ".0.jsonl")) << "torn";
  hostile.load(pkg);
  auto rows = read_jsonl(d / (pkg.load_id() + ".0.jsonl"));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["_k"] == 1);
  for (const auto& e : fs::recursive_directory_iterator(f.out.path())) {
    CHECK(e.path().string().starts_with(f.out.path() + "/_etc"));
  }
}

TEST_CASE("filesystem: make_destination picks the configured destination") {
  mh::config::DestinationConfig cfg;
  cfg.type = mh::config::DestinationType::filesystem;
  cfg.filesystem.path = "/srv/export";
  cfg.dataset = "My Data";
  auto fsd = mh::load::make_destination(cfg);
  CHECK(fsd->describe() == "filesystem /srv/export");
  CHECK(dynamic_cast<mh::load::FilesystemDestination&>(*fsd).dataset_dir() == "/srv/export/my_data");
  cfg.type = mh::config::DestinationType::postgres;
  cfg.dsn.value = "postgresql://loader:s3cret@db/magic_hour";
  auto pg = mh::load::make_destination(cfg);
  CHECK(pg->describe() == "postgres postgresql://loader:***@db/magic_hour");
}

TEST_CASE("filesystem: hints flipping back still give the newest _dlt_version record") {
  Files f;
  // Two jobs give one resource other write dispositions: append, replace, append again.
  // The third union has the first one's hash, yet it is the newest version.
  std::int64_t last_version = 0;
  for (auto wd : {WriteDisposition::append, WriteDisposition::replace, WriteDisposition::append}) {
    auto pkg = f.build(Resource{"t", wd}, {R"({"a": 1})"});
    REQUIRE(f.dest.load(pkg).status == mh::load::LoadStatus::loaded);
    auto stored = f.dest.stored_schema("magic_hour");
    REQUIRE(stored);
    const auto* t = stored->find_table("t");
    REQUIRE(t != nullptr);
    CHECK(t->write_disposition == wd);
    CHECK(stored->version() > last_version);
    last_version = stored->version();
  }
  CHECK(names(f.dir("_dlt_version")).size() == 3);
}

TEST_CASE("filesystem: _dlt_version files named by hash only (older datasets) are still read") {
  Files f;
  auto pkg = f.build(Resource{"t"}, {R"({"a": 1})"});
  REQUIRE(f.dest.load(pkg).status == mh::load::LoadStatus::loaded);
  auto files = names(f.dir("_dlt_version"));
  REQUIRE(files.size() == 1);
  // Rename it the way earlier releases named it: <schema>__<hash>.jsonl.
  auto rec = read_jsonl(f.dir("_dlt_version") / files[0]);
  std::string hash(rec.at(0).at("version_hash").as_string());
  for (char& c : hash) {
    if (c == '/' || c == '+' || c == '=') c = '_';
  }
  fs::rename(f.dir("_dlt_version") / files[0], f.dir("_dlt_version") / ("magic_hour__" + hash + ".jsonl"));
  auto stored = f.dest.stored_schema("magic_hour");
  REQUIRE(stored);
  CHECK(stored->find_table("t") != nullptr);
  // The next change is written at the next version, under the new name.
  auto next = f.build(Resource{"t"}, {R"({"a": 2, "b": "x"})"});
  REQUIRE(f.dest.load(next).status == mh::load::LoadStatus::loaded);
  CHECK(f.dest.stored_schema("magic_hour")->version() == stored->version() + 1);
  CHECK(names(f.dir("_dlt_version")).size() == 2);
}
