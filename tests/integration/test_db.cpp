// The operations schema against the real throwaway PostgreSQL.
#include <doctest/doctest.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "db/migrate.hpp"
#include "support/pg.hpp"

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
