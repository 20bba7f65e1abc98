#include "load/pg_schema.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "load/postgres_sql.hpp"
#include "normalize/row_id.hpp"
#include "util/codec.hpp"

namespace mh::load {

namespace json = boost::json;

bool dataset_has_table(pqxx::transaction_base& tx, const std::string& dataset, const std::string& table) {
  auto r = tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", qualified(dataset, table));
  return r[0].as<bool>();
}

std::optional<normalize::Schema> newest_schema(pqxx::transaction_base& tx, const std::string& dataset,
                                               const std::string& schema_name) {
  if (!dataset_has_table(tx, dataset, "_dlt_version")) return std::nullopt;
  auto rows = tx.exec_params("SELECT schema FROM " + qualified(dataset, "_dlt_version") +
                                 " WHERE schema_name = $1 ORDER BY version DESC, inserted_at DESC LIMIT 1",
                             schema_name);
  if (rows.empty()) return std::nullopt;
  std::string text = rows[0][0].c_str();
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) doc = json::parse(util::zlib_decompress(util::base64_decode(text)));  // dlt compresses only > 1 GiB
  return normalize::Schema::from_json(doc);
}

void insert_schema_version(pqxx::transaction_base& tx, const std::string& dataset, const normalize::Schema& schema) {
  tx.exec_params0("INSERT INTO " + qualified(dataset, "_dlt_version") +
                      " (version, engine_version, inserted_at, schema_name, version_hash, schema) "
                      "VALUES ($1, $2, clock_timestamp(), $3, $4, $5)",
                  schema.version(), normalize::kSchemaEngineVersion, schema.name(), schema.version_hash(),
                  json::serialize(schema.to_json()));
}

void insert_schema_version_if_new(pqxx::transaction_base& tx, const std::string& dataset,
                                  const normalize::Schema& schema) {
  auto newest = tx.exec_params("SELECT version_hash FROM " + qualified(dataset, "_dlt_version") +
                                   " WHERE schema_name = $1 ORDER BY version DESC, inserted_at DESC LIMIT 1",
                               schema.name());
  if (!newest.empty() && newest[0][0].c_str() == schema.version_hash()) return;
  insert_schema_version(tx, dataset, schema);
}

std::optional<json::object> newest_state(pqxx::transaction_base& tx, const std::string& dataset,
                                         const std::string& pipeline_name) {
  if (!dataset_has_table(tx, dataset, "_dlt_pipeline_state") || !dataset_has_table(tx, dataset, "_dlt_loads")) {
    return std::nullopt;
  }
  auto rows = tx.exec_params("SELECT s.state FROM " + qualified(dataset, "_dlt_pipeline_state") + " AS s JOIN " +
                                 qualified(dataset, "_dlt_loads") +
                                 " AS l ON l.load_id = s._dlt_load_id WHERE s.pipeline_name = $1 AND l.status = 0 "
                                 "ORDER BY s.version DESC, l.load_id DESC LIMIT 1",
                             pipeline_name);
  if (rows.empty()) return std::nullopt;
  return decompress_state(rows[0][0].c_str());
}

bool record_pipeline_state(pqxx::transaction_base& tx, const std::string& dataset, const PipelineState& update,
                           const std::string& load_id) {
  std::optional<json::object> doc = next_state_document(newest_state(tx, dataset, update.pipeline_name), update);
  if (!doc) return false;
  tx.exec_params0("INSERT INTO " + qualified(dataset, "_dlt_pipeline_state") +
                      " (version, engine_version, pipeline_name, state, created_at, version_hash, _dlt_load_id, "
                      "_dlt_id) VALUES ($1, $2, $3, $4, now(), $5, $6, $7)",
                  doc->at("_state_version").as_int64(), kStateEngineVersion, update.pipeline_name, compress_state(*doc),
                  std::string(doc->at("_version_hash").as_string()), load_id, normalize::RootIdSource{}.next());
  return true;
}

}  // namespace mh::load
