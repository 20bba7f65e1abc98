// The throwaway PostgreSQL that scripts/test.sh starts: its DSN comes in
// MHLOADER_TEST_PG_DSN (keyword form). Each test gets a database of its own.
#pragma once

#include <string>

namespace mh::test {

// The server's DSN; fails the calling test when the variable is missing.
std::string admin_dsn();

class TempDatabase {
 public:
  TempDatabase();
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& dsn() const { return dsn_; }

 private:
  std::string name_;
  std::string dsn_;
};

}  // namespace mh::test
