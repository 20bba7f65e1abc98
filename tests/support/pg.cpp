#include "support/pg.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>

namespace mh::test {

std::string admin_dsn() {
  const char* dsn = std::getenv("MHLOADER_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0') {
    FAIL("MHLOADER_TEST_PG_DSN is not set: run the suite with scripts/test.sh, which starts a throwaway PostgreSQL");
  }
  return dsn;
}

TempDatabase::TempDatabase() {
  static std::atomic<int> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  name_ =
      "mhtest_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(now % 1000000);
  std::string admin = admin_dsn();
  pqxx::connection c{admin};
  pqxx::nontransaction tx{c};
  tx.exec0("CREATE DATABASE " + tx.quote_name(name_));
  dsn_ = admin + " dbname=" + name_;
}

TempDatabase::~TempDatabase() {
  try {
    pqxx::connection c{admin_dsn()};
    pqxx::nontransaction tx{c};
    tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (...) {
    // The server goes away with the suite anyway.
  }
}

}  // namespace mh::test
