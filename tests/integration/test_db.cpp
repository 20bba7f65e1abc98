// The operations schema against the real throwaway PostgreSQL.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "db/migrate.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "support/pg.hpp"
#include "util/hash.hpp"

TEST_CASE("db: migrate creates the mhloader schema and records its version") {
  mh::test::TempDatabase db;
  auto first = mh::db::migrate(db.dsn());
  CHECK(first.from_version == 0);
  CHECK(first.to_version == mh::db::latest_schema_version());

  pqxx::connection c{db.dsn()};
  pqxx::work tx{c};
  auto versions = tx.exec("SELECT version FROM mhloader.schema_migrations ORDER BY version");
  CHECK(static_cast<int>(versions.size()) == mh::db::latest_schema_version());
  CHECK(tx.exec1("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mhloader' AND table_name = "
                 "'job_state'")[0]
            .as<int>() == 1);
  tx.commit();

  auto second = mh::db::migrate(db.dsn());
  CHECK(second.from_version == mh::db::latest_schema_version());
  CHECK(second.to_version == mh::db::latest_schema_version());
}

TEST_CASE("db: daemons starting at once migrate exactly once") {
  mh::test::TempDatabase db;
  std::vector<std::thread> threads;
  std::vector<int> from(4, -1);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { from[i] = mh::db::migrate(db.dsn()).from_version; });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(from.begin(), from.end(), 0) == 1);
  pqxx::connection c{db.dsn()};
  pqxx::work tx{c};
  CHECK(tx.exec1("SELECT count(*) FROM mhloader.schema_migrations")[0].as<int>() == mh::db::latest_schema_version());
}

TEST_CASE("db: a database migrated by a newer mhloader is refused") {
  mh::test::TempDatabase db;
  mh::db::migrate(db.dsn());
  {
    pqxx::connection c{db.dsn()};
    pqxx::work tx{c};
    tx.exec0("INSERT INTO mhloader.schema_migrations (version, description) VALUES (9999, 'future')");
    tx.commit();
  }
  CHECK_THROWS_WITH_AS(mh::db::migrate(db.dsn()), doctest::Contains("newer than this mhloader knows"),
                       std::runtime_error);
}

TEST_CASE("db: an unreachable server is a clear error") {
  CHECK_THROWS_WITH_AS(mh::db::migrate("host=127.0.0.1 port=1 user=nobody dbname=x"),
                       doctest::Contains("cannot connect to PostgreSQL"), std::runtime_error);
}

TEST_CASE("db: connect_timeout is added to both DSN forms") {
  CHECK(mh::db::with_connect_timeout("host=h", 5) == "host=h connect_timeout=5");
  CHECK(mh::db::with_connect_timeout("postgresql://h/db", 5) == "postgresql://h/db?connect_timeout=5");
  CHECK(mh::db::with_connect_timeout("postgresql://h/db?sslmode=disable", 5) ==
        "postgresql://h/db?sslmode=disable&connect_timeout=5");
  CHECK(mh::db::with_connect_timeout("host=h connect_timeout=2", 5) == "host=h connect_timeout=2");
}

TEST_CASE("db: a NUL in project JSON and error texts is stored as U+FFFD, jsonb and text alike") {
  mh::test::TempDatabase db;
  mh::db::migrate(db.dsn());
  mh::db::Pool pool(db.dsn());
  const std::int64_t run = mh::db::create_run(pool, "gen", "cli", "test:1");
  mh::db::Submission s;
  s.key = "k-nul";
  s.job = "gen";
  s.run_id = run;
  s.resource = "ai_image_generator";
  s.request = boost::json::parse(R"({"prompt": "a\u0000b"})").as_object();
  REQUIRE(mh::db::insert_pending(pool, s));
  auto project = boost::json::parse(R"({"id": "p1", "name": "x\u0000y", "error": {"message": "\u0000"}})");
  mh::db::set_submission_state(pool, "k-nul", "complete", std::string("bad\0byte", 8), project.as_object(), 5);
  auto got = mh::db::get_submission(pool, "k-nul");
  REQUIRE(got);
  CHECK(got->state == "complete");
  REQUIRE(got->result);
  CHECK(got->result->at("name").as_string() == "x\xEF\xBF\xBDy");
  CHECK(got->result->at("error").at("message").as_string() == "\xEF\xBF\xBD");
  CHECK(got->request.at("prompt").as_string() ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(got->error == std::string("bad\xEF\xBF\xBD"
                                  "byte"));  // not cut at the NUL

  boost::json::object details{{"note", std::string("n\0l", 3)}};
  mh::db::finish_run(pool, run, "failed", 0, 0, std::nullopt, std::string("e\0r", 3), boost::json::array{}, details);
  auto row = mh::db::get_run(pool, run);
  REQUIRE(row);
  CHECK(row->error == std::string("e\xEF\xBF\xBDr"));
  CHECK(row->details.at("note").as_string() == "n\xEF\xBF\xBDl");
}

TEST_CASE("db: the production ledger paths (guarded insert, settling a known project) store a NUL as U+FFFD") {
  mh::test::TempDatabase db;
  mh::db::migrate(db.dsn());
  mh::db::Pool pool(db.dsn());
  const std::int64_t run = mh::db::create_run(pool, "gen", "cli", "test:1");
  mh::db::Submission s;
  s.key = "k-guarded";
  s.job = "gen";
  s.run_id = run;
  s.resource = "ai_image_generator";
  s.request = boost::json::parse(R"({"prompt": "a\u0000b"})").as_object();
  s.credits_estimate = 5;
  auto submit = [](const mh::db::Spend&) { return true; };
  REQUIRE(mh::db::insert_pending_guarded(pool, s, std::chrono::steady_clock::now(), submit) ==
          mh::db::GuardedInsert::inserted);
  auto project = boost::json::parse(R"({"id": "p-nul", "name": "x\u0000y"})");
  mh::db::mark_submitted(pool, "k-guarded", "p-nul", 5);
  REQUIRE(mh::db::settle_project(pool, "p-nul", "error", 5, project.as_object(), std::string("e\0r", 3)));
  auto got = mh::db::get_submission(pool, "k-guarded");
  REQUIRE(got);
  CHECK(got->state == "error");
  CHECK(got->request.at("prompt").as_string() ==
        "a\xEF\xBF\xBD"
        "b");
  REQUIRE(got->result);
  CHECK(got->result->at("name").as_string() == "x\xEF\xBF\xBDy");
  CHECK(got->error == std::string("e\xEF\xBF\xBDr"));
}

TEST_CASE("db: the job lock takes a 64-bit key and notices when its connection is gone") {
  mh::test::TempDatabase db;
  // The first 8 bytes of SHA-256("mhloader.job:account"), big-endian.
  const std::string hex = mh::util::sha256_hex("mhloader.job:account").substr(0, 16);
  CHECK(static_cast<std::uint64_t>(mh::db::job_lock_key("account")) == std::stoull(hex, nullptr, 16));
  CHECK(mh::db::job_lock_key("account") != mh::db::job_lock_key("account2"));

  auto lock = mh::db::JobLock::try_acquire(db.dsn(), "account");
  REQUIRE(lock);
  CHECK_FALSE(mh::db::JobLock::try_acquire(db.dsn(), "account"));  // held: a second claim fails
  CHECK(mh::db::JobLock::try_acquire(db.dsn(), "other"));
  CHECK_NOTHROW(lock->verify());
  pqxx::connection c{db.dsn()};
  pqxx::nontransaction tx{c};
  // Postgres shows a bigint key as classid (high half) and objid (low half), objsubid 1.
  auto holder = tx.exec_params(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND "
      "database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
      "((classid::bigint << 32) | objid::bigint) = $1",
      mh::db::job_lock_key("account"));
  REQUIRE(holder.size() == 1);
  const int pid = holder[0][0].as<int>();
  tx.exec_params("SELECT pg_terminate_backend($1)", pid);
  // pg_terminate_backend only signals: wait until the backend is gone (liveness bound, not a timing assert).
  for (int i = 0; i < 250 && tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0].as<int>();
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_THROWS_AS(lock->verify(), mh::db::LockLost);
  // Its claim is over: another process takes the job now.
  std::unique_ptr<mh::db::JobLock> next;
  for (int i = 0; i < 50 && !next; ++i) {
    next = mh::db::JobLock::try_acquire(db.dsn(), "account");
    if (!next) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(next);
}
