// The destination holds the schema: packages built from the same stored
// schema by different writers load into the union, a type they disagree on
// goes to a variant column through the remapped COPY (Postgres) or key
// (filesystem), versions go up one per change, and `_dlt_pipeline_state`
// gets a row exactly when the state changed.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "load/destination.hpp"
#include "load/filesystem.hpp"
#include "load/package_builder.hpp"
#include "load/postgres.hpp"
#include "load/state.hpp"
#include "support/pg.hpp"
#include "support/pg_query.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::normalize::WriteDisposition;
using mh::test::query;
using Rows = std::vector<std::vector<std::string>>;

namespace {

// A package of `records` of `r`, normalized from `start` as a run would.
mh::load::Package build(const std::string& state_dir, Schema start, const Resource& r,
                        const std::vector<const char*>& records, const mh::load::PipelineState* st = nullptr) {
  mh::load::PackageBuilder b(state_dir, start);
  b.begin_resource(r);
  for (const char* rec : records) b.add(r, boost::json::parse(rec));
  if (st != nullptr) b.set_state(*st);
  return b.finish();
}

mh::load::PipelineState state_with(const char* last_value) {
  mh::load::PipelineState st{"magic_hour_pipeline", "magic_hour_data", "magic_hour"};
  boost::json::object cursor{{"last_value", last_value}, {"unique_hashes", boost::json::array{}}};
  st.sources["magic_hour"] = boost::json::object{
      {"resources",
       boost::json::object{{"events", boost::json::object{{"incremental", boost::json::object{{"ts", cursor}}}}}}}};
  return st;
}

}  // namespace

TEST_CASE("postgres: two writers from one stored schema load into the union, a conflict lands in a variant") {
  mh::test::TempDatabase db;
  mh::test::TempDir state_a, state_b;
  mh::load::PostgresDestination dest{mh::load::PostgresConfig{db.dsn(), "magic_hour_data"}};
  const Resource u{"users", WriteDisposition::merge, {"id"}};
  auto r0 = mh::load::load_and_remove(build(state_a.path(), Schema("magic_hour"), u, {R"({"id": "a"})"}), dest);
  auto stored = dest.stored_schema("magic_hour");
  REQUIRE(stored);
  CHECK(stored->version() == 2);

  // Both start from version 2; A sees `size` as an integer, B as text and also has another table.
  auto pa = build(state_a.path(), *stored, u, {R"({"id": "b", "size": 5})"});
  auto pb = build(state_b.path(), *stored, u, {R"({"id": "c", "size": "large", "tags": ["t"]})"});
  auto pc = build(state_b.path(), *stored, Resource{"orders"}, {R"({"n": 1})"});
  auto ra = mh::load::load_and_remove(pa, dest);
  auto rb = mh::load::load_and_remove(pb, dest);
  auto rc = mh::load::load_and_remove(pc, dest);

  CHECK(query(db.dsn(),
              "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'magic_hour_data' "
              "AND table_name = 'users' AND column_name LIKE 'size%' ORDER BY ordinal_position") ==
        Rows{{"size", "bigint"}, {"size__v_text", "character varying"}});
  CHECK(query(db.dsn(), "SELECT id, size, size__v_text FROM magic_hour_data.users ORDER BY id") ==
        Rows{{"a", "<null>", "<null>"}, {"b", "5", "<null>"}, {"c", "<null>", "large"}});
  CHECK(query(db.dsn(), "SELECT value FROM magic_hour_data.users__tags") == Rows{{"t"}});
  CHECK(query(db.dsn(), "SELECT n FROM magic_hour_data.orders") == Rows{{"1"}});

  // One schema per version, strictly increasing, each load recording the union it loaded into.
  auto versions = query(db.dsn(), "SELECT version, version_hash FROM magic_hour_data._dlt_version ORDER BY version");
  REQUIRE(versions.size() == 4);
  for (std::size_t i = 0; i < versions.size(); ++i) CHECK(versions[i][0] == std::to_string(i + 2));
  CHECK(query(db.dsn(), "SELECT count(DISTINCT version_hash) FROM magic_hour_data._dlt_version") == Rows{{"4"}});
  CHECK(query(db.dsn(),
              "SELECT l.load_id FROM magic_hour_data._dlt_loads l JOIN magic_hour_data._dlt_version v ON "
              "v.version_hash = l.schema_version_hash ORDER BY v.version") ==
        Rows{{r0.load_id}, {ra.load_id}, {rb.load_id}, {rc.load_id}});
  auto newest = dest.stored_schema("magic_hour");
  REQUIRE(newest);
  CHECK(newest->version() == 5);
  for (const char* t : {"users", "users__tags", "orders"}) CHECK_MESSAGE(newest->find_table(t) != nullptr, t);
  CHECK(newest->find_table("users")->find("size__v_text")->variant);
  // The staging dataset keeps its own _dlt_version, newest = the union the merges used.
  CHECK(query(db.dsn(), "SELECT version FROM magic_hour_data_staging._dlt_version ORDER BY version DESC LIMIT 1") ==
        Rows{{"4"}});

  // The same package shape again changes nothing: no new version.
  mh::load::load_and_remove(build(state_a.path(), *newest, u, {R"({"id": "d", "size": 6})"}), dest);
  CHECK(query(db.dsn(), "SELECT count(*) FROM magic_hour_data._dlt_version") == Rows{{"4"}});
}

TEST_CASE("postgres: _dlt_pipeline_state gets a row on the first load and when the cursor moved, not otherwise") {
  mh::test::TempDatabase db;
  mh::test::TempDir state;
  mh::load::PostgresDestination dest{mh::load::PostgresConfig{db.dsn(), "magic_hour_data"}};
  const Resource r{"events"};
  auto once = state_with("2024-01-01");
  auto moved = state_with("2024-02-01");
  auto load = [&](const mh::load::PipelineState& st) {
    Schema start = mh::load::starting_schema(dest, state.path(), "magic_hour");
    mh::load::load_and_remove(build(state.path(), start, r, {R"({"id": 1})"}, &st), dest);
    return query(db.dsn(), "SELECT count(*) FROM magic_hour_data._dlt_pipeline_state")[0][0];
  };
  CHECK(load(once) == "1");
  CHECK(load(once) == "1");
  CHECK(load(moved) == "2");
  auto rows = query(db.dsn(),
                    "SELECT version, engine_version, pipeline_name, version_hash, state FROM "
                    "magic_hour_data._dlt_pipeline_state ORDER BY version");
  CHECK(rows[0][0] == "1");
  CHECK(rows[1][0] == "2");
  CHECK(rows[1][1] == "4");
  auto doc = mh::load::decompress_state(rows[1][4]);
  CHECK(doc["_version_hash"] == rows[1][3].c_str());
  CHECK(doc["_state_version"] == 2);
  CHECK(doc.at("sources").at("magic_hour").at("resources").at("events").at("incremental").at("ts").at("last_value") ==
        "2024-02-01");
  CHECK(mh::load::stored_state(mh::load::PostgresConfig{db.dsn(), "magic_hour_data"}, "magic_hour_pipeline") == doc);
}

TEST_CASE("filesystem: the schema file is reconciled too, a conflict goes to the variant key") {
  mh::test::TempDir state, out;
  mh::load::FilesystemDestination dest{mh::load::FilesystemConfig{out.path(), "magic_hour_data"}};
  const Resource u{"users"};
  mh::load::load_and_remove(build(state.path(), Schema("magic_hour"), u, {R"({"id": "a"})"}), dest);
  auto stored = dest.stored_schema("magic_hour");
  REQUIRE(stored);
  auto pa = build(state.path(), *stored, u, {R"({"id": "b", "size": 5})"});
  auto pb = build(state.path(), *stored, u, {R"({"id": "c", "size": "large"})"});
  mh::load::load_and_remove(pa, dest);
  auto rb = mh::load::load_and_remove(pb, dest);

  std::ifstream in(dest.dataset_dir() + "/users/" + rb.load_id + ".0.jsonl");
  std::string line;
  REQUIRE(std::getline(in, line));
  auto row = boost::json::parse(line).as_object();
  CHECK(row.at("size__v_text") == "large");
  CHECK_FALSE(row.contains("size"));
  auto newest = dest.stored_schema("magic_hour");
  REQUIRE(newest);
  CHECK(newest->version() == 4);
  CHECK(newest->find_table("users")->find("size")->type == mh::normalize::DataType::bigint);
  std::size_t versions = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dest.dataset_dir() + "/_dlt_version")) ++versions;
  CHECK(versions == 3);

  // State: a row on the first load, none for the same state again.
  auto st = state_with("x");
  mh::load::load_and_remove(build(state.path(), *newest, u, {R"({"id": "d"})"}, &st), dest);
  mh::load::load_and_remove(build(state.path(), *newest, u, {R"({"id": "e"})"}, &st), dest);
  std::size_t states = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dest.dataset_dir() + "/_dlt_pipeline_state")) ++states;
  CHECK(states == 1);
}
