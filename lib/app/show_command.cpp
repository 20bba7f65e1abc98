// `mhloader show`: the pipeline's state in a terminal — recent loads and runs,
// every data table with its columns, types and row count.
#include <boost/json/serialize.hpp>
#include <iomanip>
#include <iostream>
#include <pqxx/pqxx>

#include "app/commands.hpp"
#include "app/runtime.hpp"
#include "db/inspect.hpp"
#include "db/migrate.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "load/destination.hpp"
#include "load/pg_schema.hpp"

namespace mh::app {

int show_command(std::shared_ptr<const config::Config> config) {
  const auto& c = *config;
  std::string dataset = load::normalize_dataset_name(c.destination.dataset);
  std::cout << "Pipeline " << c.pipeline_name << ": destination " << destination_kind(c) << " "
            << destination_location(c) << ", dataset " << dataset << "\n";
  try {
    db::Pool pool(c.destination.dsn.value, 1);  // one connection for everything below
    std::cout << "\nRecent loads:\n";
    auto loads = db::recent_loads(pool, dataset, 10);
    if (loads.empty()) std::cout << "  (nothing loaded yet)\n";
    for (const auto& l : loads) {
      std::cout << "  " << std::left << std::setw(20) << l.load_id << " " << l.inserted_at << "  status " << l.status
                << "  schema " << l.schema_version_hash << "\n";
    }
    pool.with([&](pqxx::connection_base& conn) {
      pqxx::read_transaction tx{conn};
      auto has = [&](const std::string& schema, const std::string& table) {
        return tx
            .exec_params1("SELECT to_regclass($1) IS NOT NULL", tx.quote_name(schema) + "." + tx.quote_name(table))[0]
            .as<bool>();
      };
      std::cout << "\nRecent runs:\n";
      if (has("mhloader", "runs")) {
        auto runs = tx.exec(
            "SELECT id, job, status, trigger, to_char(started_at AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), rows, credits_charged, coalesce(error, '') FROM "
            "mhloader.runs ORDER BY id DESC LIMIT 10");
        if (runs.empty()) std::cout << "  (none)\n";
        for (const auto& r : runs) {
          std::cout << "  #" << std::left << std::setw(5) << r[0].c_str() << " " << std::setw(18) << r[1].c_str() << " "
                    << std::setw(10) << r[2].c_str() << " " << std::setw(9) << r[3].c_str() << " " << r[4].c_str()
                    << "  rows " << r[5].c_str() << "  credits " << r[6].c_str();
          std::string error = r[7].c_str();
          if (!error.empty()) std::cout << "\n        " << error.substr(0, 200);
          std::cout << "\n";
        }
      } else {
        std::cout << "  (none)\n";
      }
      // The schema every job and replica loads into, and the pipeline state, as stored in the dataset.
      if (auto schema = load::newest_schema(tx, dataset, load::kSchemaName)) {
        std::cout << "\nStored schema " << schema->name() << ": version " << schema->version() << ", hash "
                  << schema->version_hash() << ", " << schema->tables().size() << " tables\n";
        for (const auto& t : schema->tables()) std::cout << "  " << t.name << "\n";
      }
      if (auto state = load::newest_state(tx, dataset, c.pipeline_name)) {
        std::cout << "\nPipeline state: version " << boost::json::serialize(state->at("_state_version")) << ", hash "
                  << boost::json::serialize(state->at("_version_hash")) << "\n";
      }
      std::cout << "\nTables in " << dataset << ":\n";
      auto tables = tx.exec_params(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", dataset);
      if (tables.empty()) std::cout << "  (none)\n";
      for (const auto& t : tables) {
        std::string name = t[0].c_str();
        auto count = tx.exec1("SELECT count(*) FROM " + tx.quote_name(dataset) + "." + tx.quote_name(name));
        std::cout << "  " << name << " (" << count[0].c_str() << " rows)\n";
        auto cols = tx.exec_params(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE "
            "table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            dataset, name);
        for (const auto& col : cols) {
          std::cout << "    " << std::left << std::setw(40) << col[0].c_str() << " " << col[1].c_str()
                    << (std::string(col[2].c_str()) == "NO" ? " not null" : "") << "\n";
        }
      }
      std::cout << "\nLook at the data with: psql \"" << destination_location(c) << "\" -c 'SELECT * FROM " << dataset
                << ".<table> LIMIT 10'\n";
    });
  } catch (const std::exception& e) {
    std::cerr << "mhloader: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace mh::app
