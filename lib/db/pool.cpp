#include "db/pool.hpp"

#include <pqxx/pqxx>

#include "db/migrate.hpp"

namespace mh::db {

struct Pool::Conn {
  explicit Conn(const std::string& dsn) : c(with_connect_timeout(dsn, 10)) {}
  pqxx::connection c;
};

Pool::Pool(std::string dsn, std::size_t max_idle) : dsn_(std::move(dsn)), max_idle_(max_idle) {}
Pool::~Pool() = default;

void Pool::with(const std::function<void(pqxx::connection_base&)>& f) {
  std::unique_ptr<Conn> conn;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  try {
    if (!conn || !conn->c.is_open()) conn = std::make_unique<Conn>(dsn_);
    f(conn->c);
  } catch (const pqxx::broken_connection& e) {
    throw Unavailable(e.what());  // the connection is dropped with `conn`
  }
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

}  // namespace mh::db
