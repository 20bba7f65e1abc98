#include <doctest/doctest.h>

#include "config/dsn.hpp"

using mh::config::dsn_password;
using mh::config::mask_dsn;

TEST_CASE("dsn: URI form") {
  CHECK(mask_dsn("postgresql://loader:s3cret@localhost:5432/magic_hour") ==
        "postgresql://loader:***@localhost:5432/magic_hour");
  CHECK(dsn_password("postgresql://loader:s3cr%40t@localhost/db") == "s3cr@t");
  CHECK(mask_dsn("postgresql://loader@localhost:5432/magic_hour") == "postgresql://loader@localhost:5432/magic_hour");
  CHECK(mask_dsn("postgresql:///magic_hour") == "postgresql:///magic_hour");
  CHECK(mask_dsn("postgres://u@h/db?sslmode=require&password=pw") == "postgres://u@h/db?sslmode=require&password=***");
  CHECK(dsn_password("postgres://u@h/db?password=pw&x=1") == "pw");
}

TEST_CASE("dsn: keyword form") {
  CHECK(mask_dsn("host=db user=loader password=hunter2 dbname=x") == "host=db user=loader password=*** dbname=x");
  CHECK(dsn_password("host=db password = 'a b\\'c' dbname=x") == "a b'c");
  CHECK(mask_dsn("host=db password='a b' dbname=x") == "host=db password=*** dbname=x");
  CHECK(dsn_password("host=db dbname=x") == "");
}
