#include "load/postgres.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>

#include "config/dsn.hpp"
#include "db/migrate.hpp"
#include "load/pg_copy.hpp"
#include "load/pg_schema.hpp"
#include "load/postgres_guards.hpp"
#include "load/postgres_sql.hpp"
#include "load/state.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "normalize/reconcile.hpp"
#include "normalize/row_id.hpp"
#include "util/codec.hpp"
#include "util/hash.hpp"

namespace mh::load {
namespace {

namespace json = boost::json;
using normalize::WriteDisposition;

// schema → table → columns present in the database.
using Existing = std::map<std::string, std::map<std::string, std::set<std::string>>>;

Existing existing_columns(pqxx::work& tx, const std::string& a, const std::string& b) {
  Existing out;
  auto rows = tx.exec_params(
      "SELECT n.nspname, c.relname, a.attname FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname IN ($1, $2) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
      a, b);
  for (const auto& r : rows) out[r[0].c_str()][r[1].c_str()].insert(r[2].c_str());
  return out;
}

// Creates missing tables and adds missing columns, as dlt's schema update does.
void apply_ddl(pqxx::work& tx, const std::string& dataset, const normalize::Schema& schema,
               const std::vector<std::size_t>& tables, const Existing& existing) {
  auto ds = existing.find(dataset);
  for (std::size_t i : tables) {
    const auto& t = schema.table(i);
    const std::set<std::string>* present = nullptr;
    if (ds != existing.end()) {
      auto it = ds->second.find(t.name);
      if (it != ds->second.end()) present = &it->second;
    }
    if (present == nullptr) {
      tx.exec0(create_table_sql(dataset, t));
      continue;
    }
    std::vector<const normalize::Column*> missing;
    for (const auto& c : t.columns()) {
      if (!present->contains(c.name)) missing.push_back(&c);
    }
    if (!missing.empty()) tx.exec0(add_columns_sql(dataset, t, missing));
  }
}

std::string truncate_sql(const std::string& dataset, const normalize::Schema& schema,
                         const std::vector<std::size_t>& chain) {
  std::string sql = "TRUNCATE TABLE ";
  // Children first, as dlt lists them; TRUNCATE of several tables is one statement anyway.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it != chain.rbegin()) sql += ", ";
    sql += qualified(dataset, schema.table(*it).name);
  }
  return sql;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  util::random_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return util::hex_encode(raw);
}

}  // namespace

PostgresDestination::PostgresDestination(PostgresConfig config,
                                         std::function<void(LoadPhase, const std::string&)> on_phase)
    : config_(std::move(config)),
      dataset_(normalize_dataset_name(config_.dataset)),
      staging_(staging_dataset_name(dataset_)),
      on_phase_(std::move(on_phase)) {}

std::string PostgresDestination::describe() const { return "postgres " + config::mask_dsn(config_.dsn); }

LoadResult PostgresDestination::load(const Package& package) {
  const auto start = std::chrono::steady_clock::now();
  const Manifest& m = package.manifest();
  const std::string& staging = staging_dataset();
  LoadResult result;
  result.load_id = m.load_id;
  try {
    pqxx::connection conn{db::with_connect_timeout(config_.dsn, config_.connect_timeout_seconds)};
    pqxx::work tx{conn};
    tx.exec0("SET LOCAL client_min_messages TO warning");
    // One loader per dataset at a time, whichever daemon it runs in.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('mhloader.load'), hashtext($1))", dataset_);
    tx.exec0(create_schema_sql(dataset_));
    for (const auto& sql : dlt_tables_sql(dataset_)) tx.exec0(sql);
    auto done = tx.exec_params("SELECT 1 FROM " + qualified(dataset_, "_dlt_loads") + " WHERE load_id = $1", m.load_id);
    if (!done.empty()) {
      tx.abort();
      result.status = LoadStatus::already_loaded;
      log::info("load package was already loaded", {{"load_id", m.load_id}, {"dataset", dataset_}});
      return result;
    }
    // The union of the stored schema and the package's: what this load creates and loads into.
    const normalize::Reconciled reconciled =
        normalize::reconcile(newest_schema(tx, dataset_, m.schema_name), package.schema());
    const normalize::Schema& schema = reconciled.schema;

    // Which root table loads how.
    std::map<std::size_t, const PackageResource*> roots;
    for (const auto& r : m.resources) {
      if (auto t = schema.table_index(r.table)) roots[*t] = &r;
    }
    auto disposition_of = [&](std::size_t table) {
      auto it = roots.find(schema.root_of(table));
      return it == roots.end() ? WriteDisposition::append : it->second->write_disposition;
    };

    std::vector<std::size_t> all(schema.tables().size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<std::size_t> staged;
    for (const auto& [root, r] : roots) {
      if (r->write_disposition != WriteDisposition::merge) continue;
      for (std::size_t t : schema.chain(root)) staged.push_back(t);
    }
    Existing existing = existing_columns(tx, dataset_, staging);
    apply_ddl(tx, dataset_, schema, all, existing);
    if (reconciled.changed) insert_schema_version(tx, dataset_, schema);
    if (!staged.empty()) {
      tx.exec0(create_schema_sql(staging));
      for (const auto& sql : dlt_tables_sql(staging)) tx.exec0(sql);
      apply_ddl(tx, staging, schema, staged, existing);
      insert_schema_version_if_new(tx, staging, schema);
    }

    const std::set<std::size_t> stale = stale_replace_tables(tx, dataset_, schema, roots, m.load_id);
    for (const auto& [root, r] : roots) {
      if (stale.contains(root)) continue;
      if (r->write_disposition == WriteDisposition::replace) {
        tx.exec0(truncate_sql(dataset_, schema, schema.chain(root)));
      } else if (r->write_disposition == WriteDisposition::merge) {
        tx.exec0(truncate_sql(staging, schema, schema.chain(root)));
      }
    }

    for (const auto& table : m.tables) {
      auto ti = schema.table_index(table.name);
      if (!ti) throw std::runtime_error("table " + table.name + " is not in the package schema");
      if (stale.contains(*ti)) continue;
      const std::string& target = disposition_of(*ti) == WriteDisposition::merge ? staging : dataset_;
      for (const auto& f : table.files) {
        copy_file(tx, qualified(target, table.name), reconciled.target_columns(table.name, f.columns), package.path(f));
      }
      result.table_rows[table.name] = table.rows;
      result.rows += table.rows;
    }

    for (const auto& [root, r] : roots) {
      if (r->write_disposition != WriteDisposition::merge) continue;
      std::string suffix = random_hex(16);
      for (const auto& sql : merge_sql(dataset_, staging, schema, root, r->primary_key, suffix)) tx.exec0(sql);
    }

    if (m.state) record_pipeline_state(tx, dataset_, *m.state, m.load_id);
    if (m.job_cursors) store_job_cursors(tx, *m.job_cursors);
    tx.exec_params0("INSERT INTO " + qualified(dataset_, "_dlt_loads") +
                        " (load_id, schema_name, status, inserted_at, schema_version_hash) "
                        "VALUES ($1, $2, 0, now(), $3)",
                    m.load_id, m.schema_name, schema.version_hash());
    if (on_phase_) on_phase_(LoadPhase::before_commit, m.load_id);
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    throw std::runtime_error("loading package " + m.load_id + " into " + describe() +
                             ": connection failed: " + e.what());
  } catch (const pqxx::sql_error& e) {
    throw std::runtime_error("loading package " + m.load_id + " into dataset " + dataset_ + " failed: " + e.what());
  }
  if (on_phase_) on_phase_(LoadPhase::committed, m.load_id);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("load package loaded",
            {{"load_id", m.load_id}, {"dataset", dataset_}, {"rows", result.rows}, {"seconds", result.seconds}});
  return result;
}

std::optional<normalize::Schema> stored_schema(const PostgresConfig& config, const std::string& schema_name) {
  std::string dataset = normalize_dataset_name(config.dataset);
  pqxx::connection conn{db::with_connect_timeout(config.dsn, config.connect_timeout_seconds)};
  pqxx::read_transaction tx{conn};
  return newest_schema(tx, dataset, schema_name);
}

std::optional<normalize::Schema> PostgresDestination::stored_schema(const std::string& schema_name) {
  return load::stored_schema(config_, schema_name);
}

std::optional<json::object> stored_state(const PostgresConfig& config, const std::string& pipeline_name) {
  std::string dataset = normalize_dataset_name(config.dataset);
  pqxx::connection conn{db::with_connect_timeout(config.dsn, config.connect_timeout_seconds)};
  pqxx::read_transaction tx{conn};
  return newest_state(tx, dataset, pipeline_name);
}

}  // namespace mh::load
