#include "db/inspect.hpp"

#include <pqxx/pqxx>

#include "db/pool.hpp"
#include "db/sql.hpp"

namespace mh::db {

std::vector<LoadRow> recent_loads(Pool& pool, const std::string& dataset, int limit,
                                  const std::optional<std::string>& before) {
  std::vector<LoadRow> out;
  pool.with([&](pqxx::connection_base& c) {
    pqxx::read_transaction tx{c};
    const std::string table = tx.quote_name(dataset) + "." + tx.quote_name("_dlt_loads");
    if (tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", table)[0].as<bool>() == false) return;
    // load_id is a timestamp string, so its order is the loads' order.
    auto rows = tx.exec_params("SELECT load_id, schema_name, status, " + iso_utc("inserted_at") +
                                   ", schema_version_hash FROM " + table +
                                   " WHERE ($1::text IS NULL OR load_id < $1) ORDER BY load_id DESC LIMIT $2",
                               before, limit);
    for (const auto& r : rows) {
      out.push_back({r[0].c_str(), r[1].is_null() ? "" : r[1].c_str(), r[2].as<int>(), r[3].c_str(),
                     r[4].is_null() ? "" : r[4].c_str()});
    }
  });
  return out;
}

}  // namespace mh::db
