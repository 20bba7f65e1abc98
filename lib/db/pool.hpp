// A small pool of PostgreSQL connections for the blocking pool's threads:
// operations-schema reads and writes reuse connections instead of opening one
// per statement. Blocking; never call it from an I/O thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}

namespace mh::db {

// Postgres cannot be reached (connect failed or the connection broke): callers
// answer "unavailable, try again", not "internal error".
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Pool {
 public:
  explicit Pool(std::string dsn, std::size_t max_idle = 4);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs `f` with a connection; a connection that failed is not reused. Throws
  // Unavailable when Postgres cannot be reached, else what `f` throws.
  void with(const std::function<void(pqxx::connection_base&)>& f);

  // The DSN every connection of this pool uses (the job locks take the same).
  const std::string& dsn() const { return dsn_; }

 private:
  struct Conn;
  std::string dsn_;
  std::size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
};

}  // namespace mh::db
