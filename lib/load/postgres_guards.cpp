#include "load/postgres_guards.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "load/cursors.hpp"
#include "load/load_id.hpp"
#include "load/postgres_sql.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "util/pg_text.hpp"

namespace mh::load {
namespace json = boost::json;

std::set<std::size_t> stale_replace_tables(pqxx::work& tx, const std::string& dataset, const normalize::Schema& schema,
                                           const std::map<std::size_t, const PackageResource*>& roots,
                                           const std::string& load_id) {
  std::set<std::size_t> stale;
  const double mine = load_id_value(load_id);
  for (const auto& [root, r] : roots) {
    if (r->write_disposition != normalize::WriteDisposition::replace) continue;
    const std::string& table = schema.table(root).name;
    auto present = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", qualified(dataset, table));
    if (!present[0].as<bool>()) continue;
    // A replaced table holds the rows of one load (a few at most): the newest decides.
    auto ids = tx.exec("SELECT DISTINCT " + quote_ident(normalize::kDltLoadId) + " FROM " + qualified(dataset, table));
    std::string newest;
    double newest_value = -1;
    for (const auto& row : ids) {
      double v = row[0].is_null() ? NAN : load_id_value(row[0].c_str());
      if (!std::isnan(v) && v > newest_value) {
        newest_value = v;
        newest = row[0].c_str();
      }
    }
    if (newest_value <= mine) continue;
    log::warn("replace skipped: the table holds a newer load than this package",
              {{"table", table}, {"load_id", load_id}, {"newest_load_id", newest}});
    for (std::size_t t : schema.chain(root)) stale.insert(t);
  }
  return stale;
}

void store_job_cursors(pqxx::work& tx, const JobCursors& cursors) {
  auto present = tx.exec1("SELECT to_regclass('mhloader.job_state') IS NOT NULL");
  if (!present[0].as<bool>()) return;
  tx.exec_params0("INSERT INTO mhloader.job_state (job) VALUES ($1) ON CONFLICT (job) DO NOTHING", cursors.job);
  auto row = tx.exec_params1("SELECT cursors::text FROM mhloader.job_state WHERE job = $1 FOR UPDATE", cursors.job);
  json::object stored;
  if (!row[0].is_null()) {
    json::error_code ec;
    json::value v = json::parse(row[0].c_str(), ec);
    if (!ec && v.is_object()) stored = std::move(v.get_object());
  }
  tx.exec_params0(
      "UPDATE mhloader.job_state SET cursors = $2::jsonb, updated_at = now() WHERE job = $1", cursors.job,
      util::pg_json(merge_cursors(stored, cursors.cursors)));  // a NUL in a cursor value must not fail the load
}

}  // namespace mh::load
