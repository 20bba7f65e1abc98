// The Postgres destination against the real throwaway server: dlt's tables,
// DDL and rows; evolution; append, replace and merge; exactly-once loading.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <thread>

#include "db/migrate.hpp"
#include "load/destination.hpp"
#include "load/package_builder.hpp"
#include "load/postgres.hpp"
#include "load/state.hpp"
#include "normalize/naming.hpp"
#include "support/pg.hpp"
#include "support/pg_query.hpp"
#include "support/temp_dir.hpp"
#include "util/atomic_file.hpp"

namespace fs = std::filesystem;
using mh::load::LoadStatus;
using mh::normalize::Resource;
using mh::normalize::WriteDisposition;
using mh::test::count;
using mh::test::query;
using mh::test::scalar;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kProject = R"({
  "id": "cuid-example", "name": "Example Name", "status": "complete", "image_count": 1, "type": "AI_IMAGE",
  "created_at": "2024-10-18T05:16:19.027Z", "enabled": true, "credits_charged": 5, "total_frame_cost": 5,
  "downloads": [{"url": "https://videos.magichour.ai/id/output.png", "expires_at": "2024-10-19T05:16:19.027Z"}],
  "error": null})";

// A pipeline in a temp state dir that loads into a fresh database.
struct Pipeline {
  mh::test::TempDatabase db;
  mh::test::TempDir state;
  mh::normalize::Schema schema{"magic_hour"};
  mh::load::PostgresDestination dest{mh::load::PostgresConfig{db.dsn(), "magic_hour_data"}};

  // Builds one package from (resource, record) pairs and loads it.
  mh::load::LoadResult run(const Resource& r, const std::vector<const char*>& records,
                           const mh::load::PipelineState* st = nullptr) {
    mh::load::PackageBuilder b(state.path(), schema);
    b.begin_resource(r);
    for (const char* rec : records) b.add(r, boost::json::parse(rec));
    if (st != nullptr) b.set_state(*st);
    return mh::load::load_and_remove(b.finish(), dest);
  }
  Rows q(const std::string& sql) const { return query(db.dsn(), sql); }
  long long n(const std::string& table) const { return count(db.dsn(), "magic_hour_data." + table); }
  Rows columns(const std::string& table) const {
    return q(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = "
        "'magic_hour_data' AND table_name = '" +
        table + "' ORDER BY ordinal_position");
  }
};

}  // namespace

TEST_CASE("postgres: an image project loads into dlt's tables, DDL, system tables and state") {
  Pipeline p;
  mh::load::PipelineState st{"magic_hour_pipeline", "magic_hour_data", "magic_hour"};
  st.sources["magic_hour"] = boost::json::object{{"resources", boost::json::object{}}};
  auto result = p.run(Resource{"image_projects", WriteDisposition::merge, {"id"}}, {kProject}, &st);
  CHECK(result.status == LoadStatus::loaded);
  CHECK(result.rows == 2);

  CHECK(p.columns("image_projects") == Rows{{"id", "character varying", "NO"},
                                            {"name", "character varying", "YES"},
                                            {"status", "character varying", "YES"},
                                            {"image_count", "bigint", "YES"},
                                            {"type", "character varying", "YES"},
                                            {"created_at", "timestamp with time zone", "YES"},
                                            {"enabled", "boolean", "YES"},
                                            {"credits_charged", "bigint", "YES"},
                                            {"total_frame_cost", "bigint", "YES"},
                                            {"_dlt_load_id", "character varying", "NO"},
                                            {"_dlt_id", "character varying", "NO"}});
  CHECK(p.columns("image_projects__downloads") == Rows{{"url", "character varying", "YES"},
                                                       {"expires_at", "timestamp with time zone", "YES"},
                                                       {"_dlt_root_id", "character varying", "NO"},
                                                       {"_dlt_parent_id", "character varying", "NO"},
                                                       {"_dlt_list_idx", "bigint", "NO"},
                                                       {"_dlt_id", "character varying", "NO"}});
  // UNIQUE on _dlt_id, named as Postgres names it; no primary key constraint.
  CHECK(p.q("SELECT conname, contype FROM pg_constraint WHERE conrelid = 'magic_hour_data.image_projects'::regclass") ==
        Rows{{"image_projects__dlt_id_key", "u"}});

  auto row = p.q(
      "SELECT id, created_at = '2024-10-18T05:16:19.027Z'::timestamptz, enabled, _dlt_load_id, length(_dlt_id) FROM "
      "magic_hour_data.image_projects");
  CHECK(row == Rows{{"cuid-example", "t", "t", result.load_id, "14"}});
  CHECK(p.q("SELECT d._dlt_parent_id = r._dlt_id, d._dlt_root_id = r._dlt_id, d._dlt_list_idx FROM "
            "magic_hour_data.image_projects__downloads d, magic_hour_data.image_projects r") == Rows{{"t", "t", "0"}});

  CHECK(p.q("SELECT load_id, schema_name, status, schema_version_hash FROM magic_hour_data._dlt_loads") ==
        Rows{{result.load_id, "magic_hour", "0", p.schema.version_hash()}});
  auto version =
      p.q("SELECT version, engine_version, schema_name, version_hash, schema FROM magic_hour_data._dlt_version");
  REQUIRE(version.size() == 1);
  CHECK(version[0][0] == "2");
  CHECK(version[0][1] == "11");
  CHECK(version[0][3] == p.schema.version_hash());
  auto stored = boost::json::parse(version[0][4]);
  CHECK(stored.at("tables").at("image_projects").at("columns").at("id").at("primary_key") == true);
  // The staging dataset has its own _dlt_version, as dlt's.
  CHECK(count(p.db.dsn(), "magic_hour_data_staging._dlt_version") == 1);

  auto state =
      p.q("SELECT version, engine_version, pipeline_name, version_hash, _dlt_load_id, state FROM "
          "magic_hour_data._dlt_pipeline_state");
  REQUIRE(state.size() == 1);
  CHECK(state[0][1] == "4");
  CHECK(state[0][2] == "magic_hour_pipeline");
  CHECK(state[0][4] == result.load_id);
  auto doc = mh::load::decompress_state(state[0][5]);
  CHECK(doc["pipeline_name"] == "magic_hour_pipeline");
  CHECK(doc["_version_hash"] == state[0][3].c_str());

  // What the jobs layer reads back at start.
  mh::load::PostgresConfig cfg{p.db.dsn(), "magic_hour_data"};
  auto schema = mh::load::stored_schema(cfg, "magic_hour");
  REQUIRE(schema);
  CHECK(schema->version_hash() == p.schema.version_hash());
  CHECK(mh::load::stored_state(cfg, "magic_hour_pipeline") == doc);
  CHECK_FALSE(mh::load::stored_state(cfg, "other_pipeline"));
  CHECK_FALSE(mh::load::stored_schema(mh::load::PostgresConfig{p.db.dsn(), "nothing_here"}, "magic_hour"));
}

TEST_CASE("postgres: evolution adds columns and variants, an int64 overflow lands in numeric, nothing is dropped") {
  Pipeline p;
  Resource r{"events"};
  p.run(r, {R"({"id": 1, "ts": "2024-05-01T10:00:00Z", "n": 5, "tags": ["a"]})"});
  auto before = p.columns("events");
  p.run(r, {R"({"id": "not-an-int", "ts": "not a date", "n": 18446744073709551615, "extra": {"k": true},
               "tags": [1]})",
            R"({"id": 2, "n": 9223372036854775807})"});
  auto after = p.columns("events");
  // The old columns stay as they were, the new ones are appended.
  REQUIRE(after.size() > before.size());
  CHECK(Rows(after.begin(), after.begin() + static_cast<long>(before.size())) == before);
  CHECK(Rows(after.begin() + static_cast<long>(before.size()), after.end()) ==
        Rows{{"id__v_text", "character varying", "YES"},
             {"ts__v_text", "character varying", "YES"},
             {"n__v_decimal", "numeric", "YES"},
             {"extra__k", "boolean", "YES"}});
  CHECK(p.q("SELECT id, id__v_text, ts__v_text, n, n__v_decimal::text, extra__k FROM magic_hour_data.events ORDER BY "
            "_dlt_load_id, id NULLS LAST") ==
        Rows{{"1", "<null>", "<null>", "5", "<null>", "<null>"},
             {"2", "<null>", "<null>", "9223372036854775807", "<null>", "<null>"},
             {"<null>", "not-an-int", "not a date", "<null>", "18446744073709551615.000000000", "t"}});
  // A bigint value into the text `value` column is coerced, not a variant.
  CHECK(p.q("SELECT value FROM magic_hour_data.events__tags ORDER BY value") == Rows{{"1"}, {"a"}});
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_version") == 2);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 2);
}

TEST_CASE("postgres: values past a column's numeric range land in variants and the package still loads") {
  Pipeline p;
  Resource r{"sizes"};
  // n becomes numeric(38,9) from a uint64, m bigint; then values neither can hold.
  auto loaded = p.run(
      r, {R"({"id": 1, "n": 18446744073709551615, "m": 1})", R"({"id": 2, "n": 1e30, "m": 1180591620717411303424})",
          R"({"id": 3, "n": "1e40", "m": 1e30})", R"({"id": 4, "n": -1e300, "m": -1e300})"});
  CHECK(loaded.rows == 4);
  CHECK(p.columns("sizes") == Rows{{"id", "bigint", "YES"},
                                   {"n", "numeric", "YES"},
                                   {"m", "bigint", "YES"},
                                   {"_dlt_load_id", "character varying", "NO"},
                                   {"_dlt_id", "character varying", "NO"},
                                   {"n__v_double", "double precision", "YES"},
                                   {"m__v_double", "double precision", "YES"},
                                   {"n__v_text", "character varying", "YES"}});
  CHECK(p.q("SELECT id, n::text, n__v_double::text, n__v_text, m, m__v_double::text FROM magic_hour_data.sizes "
            "ORDER BY id") == Rows{{"1", "18446744073709551615.000000000", "<null>", "<null>", "1", "<null>"},
                                   {"2", "<null>", "1e+30", "<null>", "<null>", "1.1805916207174113e+21"},
                                   {"3", "<null>", "<null>", "1e40", "<null>", "1e+30"},
                                   {"4", "<null>", "-1e+300", "<null>", "<null>", "-1e+300"}});
}

TEST_CASE("postgres: append appends and a schema version already stored is not stored again") {
  Pipeline p;
  Resource r{"credits"};
  p.run(r, {R"({"credits": 10})", R"({"credits": 9})"});
  p.run(r, {R"({"credits": 8})"});
  CHECK(p.n("credits") == 3);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_version") == 1);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 2);
  CHECK(scalar(p.db.dsn(),
               "SELECT count(*) FROM information_schema.schemata WHERE schema_name = "
               "'magic_hour_data_staging'") == "0");
}

TEST_CASE("postgres: replace empties the root and all its nested tables first") {
  Pipeline p;
  Resource r{"models", WriteDisposition::replace};
  p.run(r, {R"({"id": "a", "sizes": [1, 2]})", R"({"id": "b", "sizes": [3]})", R"({"id": "c"})"});
  CHECK(p.n("models") == 3);
  CHECK(p.n("models__sizes") == 3);
  p.run(r, {R"({"id": "c"})"});  // c has no sizes: the old ones still go
  CHECK(p.q("SELECT id FROM magic_hour_data.models") == Rows{{"c"}});
  CHECK(p.n("models__sizes") == 0);
  p.run(r, {});  // a replace that yields nothing empties the table
  CHECK(p.n("models") == 0);
}

TEST_CASE("postgres: merge updates by primary key and drops child rows that disappear") {
  Pipeline p;
  Resource r{"image_projects", WriteDisposition::merge, {"id"}};
  p.run(r, {R"({"id": "p1", "status": "rendering", "downloads": [{"url": "a"}, {"url": "b"}]})",
            R"({"id": "p2", "status": "rendering", "downloads": [{"url": "c"}]})",
            R"({"id": "p9", "status": "complete"})"});
  p.run(r, {R"({"id": "p1", "status": "complete", "downloads": [{"url": "a2"}]})",
            R"({"id": "p2", "status": "error", "downloads": []})",
            R"({"id": "p3", "status": "queued", "downloads": [{"url": "d"}]})", R"({"id": "p4", "status": "queued"})",
            R"({"id": "p4", "status": "queued"})"});  // twice in one package: one row survives
  CHECK(p.q("SELECT id, status FROM magic_hour_data.image_projects ORDER BY id") ==
        Rows{{"p1", "complete"}, {"p2", "error"}, {"p3", "queued"}, {"p4", "queued"}, {"p9", "complete"}});
  CHECK(p.q("SELECT r.id, d.url FROM magic_hour_data.image_projects__downloads d JOIN magic_hour_data.image_projects r "
            "ON d._dlt_root_id = r._dlt_id ORDER BY 1, 2") == Rows{{"p1", "a2"}, {"p3", "d"}});
  CHECK(p.n("image_projects__downloads") == 2);  // no orphans
  // The staging tables stay (dlt truncates them at the next load) but the temp tables are gone.
  CHECK(count(p.db.dsn(), "pg_class WHERE relname LIKE 'image_projects_delete_%'") == 0);
}

TEST_CASE("postgres: a package already loaded is not loaded again") {
  Pipeline p;
  mh::load::PackageBuilder b(p.state.path(), p.schema);
  b.add(Resource{"t"}, boost::json::parse(R"({"a": 1, "l": [1, 2]})"));
  auto pkg = b.finish();
  CHECK(p.dest.load(pkg).status == LoadStatus::loaded);
  auto again = p.dest.load(pkg);
  CHECK(again.status == LoadStatus::already_loaded);
  CHECK(p.n("t") == 1);
  CHECK(p.n("t__l") == 2);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 1);
}

TEST_CASE("postgres: a failing package leaves nothing behind and stays pending") {
  Pipeline p;
  p.run(Resource{"t"}, {R"({"a": 1})"});
  mh::load::PackageBuilder b(p.state.path(), p.schema);
  b.add(Resource{"t"}, boost::json::parse(R"({"a": 2, "b": "new column"})"));
  auto pkg = b.finish();
  // Corrupt a data file: the bigint column gets text.
  const auto& file = pkg.manifest().tables[0].files[0];
  std::string path = pkg.path(file);
  mh::util::write_file_atomic(path, "oops\tx\t" + pkg.load_id() + "\tid\n");
  CHECK_THROWS_WITH_AS(p.dest.load(pkg), doctest::Contains("failed"), std::runtime_error);
  CHECK(p.n("t") == 1);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 1);
  CHECK(p.columns("t").size() == 3);  // the ALTER TABLE rolled back too
  CHECK(fs::exists(pkg.dir()));
}

TEST_CASE("postgres: hostile identifiers break neither the SQL nor the layout") {
  mh::test::TempDatabase db;
  mh::test::TempDir state;
  mh::normalize::Schema schema("magic_hour");
  mh::load::PostgresDestination dest{mh::load::PostgresConfig{db.dsn(), "Data\"; DROP SCHEMA public; --"}};
  CHECK(dest.dataset() == "data_drop_schema_publicxxx");
  boost::json::object rec;
  rec["a\"b'c; DROP TABLE x; --"] = "v1";
  rec["back\\slash\\"] = "v2";
  rec[""] = "empty";
  rec["\xE2\x98\x83\xC3\xA9"] = "unicode";
  rec[std::string(10000, 'k')] = "long";
  rec["id"] = "tab\there\nnew\\line \"quoted\" 'single' \xF0\x9F\x98\x80";
  rec["nul"] = std::string("a\0b", 3);
  rec["list\"; --"] = boost::json::array{boost::json::object{{"x\"", 1}}};
  rec["j"] = boost::json::object{{"\"key\"", std::string("\0", 1)}};
  mh::normalize::Resource r{"Robert'); DROP TABLE students;--", WriteDisposition::merge, {"id"}};
  {
    mh::load::PackageBuilder b(state.path(), schema);
    b.add(r, rec);
    mh::normalize::Resource nested{"n", WriteDisposition::append, {}, 0};
    b.add(nested, boost::json::object{{"deep", rec}});
    mh::load::load_and_remove(b.finish(), dest);
  }
  std::string root = mh::normalize::Normalizer::table_name(r.name);
  std::string ds = dest.dataset();
  CHECK(count(db.dsn(), ds + "." + root) == 1);
  CHECK(scalar(db.dsn(), "SELECT id FROM " + ds + "." + root) ==
        "tab\there\nnew\\line \"quoted\" 'single' \xF0\x9F\x98\x80");
  CHECK(scalar(db.dsn(), "SELECT nul FROM " + ds + "." + root) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(scalar(db.dsn(), "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" + ds +
                             "' AND table_name = '" + root + "' AND length(column_name) <= 63") ==
        std::to_string(schema.find_table(root)->columns().size()));
  CHECK(count(db.dsn(), ds + "." + root + "__" + mh::normalize::normalize_path("list\"; --")) == 1);
  CHECK(scalar(db.dsn(), "SELECT deep->'j'->>'\"key\"' FROM " + ds + ".n") == "\xEF\xBF\xBD");
  CHECK(scalar(db.dsn(), "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'public'") == "1");
  for (const auto& e : fs::recursive_directory_iterator(state.path())) {
    CHECK(e.path().string().size() < 300);
  }
}

TEST_CASE("postgres: resume_packages loads what a previous run left, oldest first, and discards torn ones") {
  Pipeline p;
  Resource r{"t", WriteDisposition::replace};
  std::vector<std::string> ids;
  for (const char* rec : {R"({"v": 1})", R"({"v": 2})"}) {
    mh::load::PackageBuilder b(p.state.path(), p.schema);
    b.add(r, boost::json::parse(rec));
    ids.push_back(b.finish().load_id());
  }
  fs::create_directories(mh::load::packages_dir(p.state.path()) + "/1700000000.1");
  auto results = mh::load::resume_packages(p.state.path(), p.dest);
  REQUIRE(results.size() == 2);
  CHECK(results[0].load_id == ids[0]);
  CHECK(results[1].load_id == ids[1]);
  CHECK(p.q("SELECT v FROM magic_hour_data.t") == Rows{{"2"}});  // replace: the newer package wins
  CHECK(fs::is_empty(mh::load::packages_dir(p.state.path())));
  CHECK(mh::load::resume_packages(p.state.path(), p.dest).empty());
}

TEST_CASE("postgres: two loaders on one dataset take turns") {
  Pipeline p;
  std::vector<mh::load::Package> packages;
  for (int i = 0; i < 4; ++i) {
    mh::load::PackageBuilder b(p.state.path(), p.schema);
    for (int k = 0; k < 50; ++k) b.add(Resource{"t"}, boost::json::object{{"i", i * 100 + k}, {"l", {1, 2}}});
    packages.push_back(b.finish());
  }
  std::vector<std::thread> threads;
  std::vector<std::string> errors(packages.size());
  for (std::size_t i = 0; i < packages.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        mh::load::PostgresDestination d{mh::load::PostgresConfig{p.db.dsn(), "magic_hour_data"}};
        d.load(packages[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e == "");
  CHECK(p.n("t") == 200);
  CHECK(p.n("t__l") == 400);
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 4);
}

TEST_CASE("postgres: a package older than the loaded data rolls back neither a replace table nor a cursor") {
  Pipeline p;
  mh::db::migrate(p.db.dsn());
  mh::test::TempDir replica;  // another state_dir, whose package was stuck while this one loaded
  Resource snapshot{"snapshot", WriteDisposition::replace};
  auto build = [&](const std::string& state_dir, int v, const char* last_value) {
    mh::load::PackageBuilder b(state_dir, p.schema);
    b.add(snapshot, boost::json::object{{"v", v}, {"l", {v, v}}});
    boost::json::object cursor{
        {"cursor_path", "created_at"}, {"last_value", last_value}, {"unique_hashes", boost::json::array{}}};
    b.set_job_cursors(mh::load::JobCursors{"sync", boost::json::object{{"recent", cursor}}});
    return b.finish();
  };
  mh::load::Package older = build(replica.path(), 1, "2026-01-01T00:00:01.000Z");
  mh::load::Package newer = build(p.state.path(), 2, "2026-01-01T00:00:09.000Z");
  REQUIRE(p.dest.load(newer).status == LoadStatus::loaded);
  REQUIRE(p.dest.load(older).status == LoadStatus::loaded);
  CHECK(p.q("SELECT v FROM magic_hour_data.snapshot") == Rows{{"2"}});
  CHECK(p.q("SELECT value FROM magic_hour_data.snapshot__l") == Rows{{"2"}, {"2"}});
  CHECK(scalar(p.db.dsn(), "SELECT cursors->'recent'->>'last_value' FROM mhloader.job_state WHERE job = 'sync'") ==
        "2026-01-01T00:00:09.000Z");
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 2);  // the older one is loaded (and never again)

  // A newer package still replaces, and moves the cursor on.
  mh::load::Package newest = build(p.state.path(), 3, "2026-01-01T00:00:10.000Z");
  p.dest.load(newest);
  CHECK(p.q("SELECT v FROM magic_hour_data.snapshot") == Rows{{"3"}});
  CHECK(scalar(p.db.dsn(), "SELECT cursors->'recent'->>'last_value' FROM mhloader.job_state WHERE job = 'sync'") ==
        "2026-01-01T00:00:10.000Z");
}

namespace {

// A package of `records` of `r` normalized from `start`, as a run of another writer would.
mh::load::Package writer_package(const std::string& state_dir, mh::normalize::Schema start, const Resource& r,
                                 const char* record) {
  mh::load::PackageBuilder b(state_dir, start);
  b.begin_resource(r);
  b.add(r, boost::json::parse(record));
  return b.finish();
}

}  // namespace

TEST_CASE(
    "postgres: two writers disagreeing bigint vs double share the stored column; a key that cannot convert "
    "fails clearly") {
  Pipeline p;
  mh::test::TempDir other;
  p.run(Resource{"sizes"}, {R"({"id": 1, "n": 1.5})"});
  auto stored = p.dest.stored_schema("magic_hour");
  REQUIRE(stored);
  // Another writer started from nothing and saw n as an integer: it loads into the double column.
  auto ints =
      writer_package(other.path(), mh::normalize::Schema("magic_hour"), Resource{"sizes"}, R"({"id": 2, "n": 7})");
  CHECK(mh::load::load_and_remove(ints, p.dest).status == LoadStatus::loaded);
  CHECK(p.columns("sizes") == Rows{{"id", "bigint", "YES"},
                                   {"n", "double precision", "YES"},
                                   {"_dlt_load_id", "character varying", "NO"},
                                   {"_dlt_id", "character varying", "NO"}});
  CHECK(p.q("SELECT id, n::text FROM magic_hour_data.sizes ORDER BY id") == Rows{{"1", "1.5"}, {"2", "7"}});
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_version") == 1);

  // A merge resource whose key one writer stored as bigint and another sees as text.
  const Resource items{"items", WriteDisposition::merge, {"id"}};
  p.run(items, {R"({"id": 1, "name": "a"})"});
  auto texts = writer_package(other.path(), mh::normalize::Schema("magic_hour"), items, R"({"id": "x", "name": "b"})");
  std::string message;
  try {
    mh::load::load_and_remove(texts, p.dest);
  } catch (const std::exception& e) {
    message = e.what();
  }
  CAPTURE(message);
  CHECK(message.find("table items: column id is stored as bigint") != std::string::npos);
  CHECK(message.find("not-null") == std::string::npos);
  // Nothing of it landed; the stored data is as it was.
  CHECK(p.q("SELECT id, name FROM magic_hour_data.items") == Rows{{"1", "a"}});
  CHECK(count(p.db.dsn(), "magic_hour_data._dlt_loads") == 3);
}
