#include "db/migrate.hpp"

#include <pqxx/pqxx>
#include <stdexcept>
#include <vector>

namespace mh::db {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append only: a released migration is never edited, a change is a new entry.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list{
      {1, "operations schema", R"sql(
        CREATE TABLE IF NOT EXISTS mhloader.job_state (
          job        text PRIMARY KEY,
          paused     boolean NOT NULL DEFAULT false,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
      )sql"},
      {2, "runs, generation ledger, job cursors", R"sql(
        CREATE TABLE mhloader.runs (
          id              bigserial PRIMARY KEY,
          job             text NOT NULL,
          trigger         text NOT NULL,
          status          text NOT NULL,
          started_at      timestamptz NOT NULL DEFAULT now(),
          finished_at     timestamptz,
          heartbeat_at    timestamptz NOT NULL DEFAULT now(),
          load_id         text,
          rows            bigint NOT NULL DEFAULT 0,
          credits_charged bigint NOT NULL DEFAULT 0,
          error           text,
          resources       jsonb NOT NULL DEFAULT '[]',
          details         jsonb NOT NULL DEFAULT '{}',
          instance        text
        );
        CREATE INDEX runs_job_started ON mhloader.runs (job, id DESC);
        CREATE INDEX runs_running ON mhloader.runs (job) WHERE status = 'running';
        CREATE TABLE mhloader.submissions (
          key             text PRIMARY KEY,
          job             text NOT NULL,
          run_id          bigint NOT NULL,
          resource        text NOT NULL,
          request         jsonb NOT NULL,
          state           text NOT NULL,
          project_id      text,
          credits_charged bigint,
          credits_estimate bigint NOT NULL DEFAULT 0,
          error           text,
          result          jsonb,
          source_file     text,
          created_at      timestamptz NOT NULL DEFAULT now(),
          updated_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX submissions_state ON mhloader.submissions (state);
        CREATE INDEX submissions_run ON mhloader.submissions (run_id);
        ALTER TABLE mhloader.job_state
          ADD COLUMN cursors      jsonb NOT NULL DEFAULT '{}',
          ADD COLUMN last_tick_at timestamptz;
      )sql"},
      // When a create's answer (or its failure) was recorded: the credit guard counts a
      // row against the balance only while the balance it holds was observed earlier.
      {3, "submissions.submitted_at for the credit guard", R"sql(
        ALTER TABLE mhloader.submissions ADD COLUMN submitted_at timestamptz;
        UPDATE mhloader.submissions SET submitted_at = updated_at WHERE state <> 'pending';
        CREATE INDEX submissions_submitted_at ON mhloader.submissions (submitted_at);
      )sql"},
  };
  return list;
}

}  // namespace

int latest_schema_version() { return migrations().back().version; }

std::string with_connect_timeout(const std::string& dsn, int seconds) {
  if (dsn.find("connect_timeout") != std::string::npos) return dsn;
  std::string v = "connect_timeout=" + std::to_string(seconds);
  if (dsn.starts_with("postgresql://") || dsn.starts_with("postgres://")) {
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + v;
  }
  return dsn.empty() ? v : dsn + " " + v;
}

MigrationOutcome migrate(const std::string& dsn) {
  MigrationOutcome out;
  try {
    pqxx::connection conn{with_connect_timeout(dsn, 10)};
    pqxx::work tx{conn};
    // Serialises concurrent starts; released at commit.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('mhloader.schema_migrations'))");
    tx.exec0("CREATE SCHEMA IF NOT EXISTS mhloader");
    tx.exec0(R"sql(
      CREATE TABLE IF NOT EXISTS mhloader.schema_migrations (
        version     integer PRIMARY KEY,
        description text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      ))sql");
    out.from_version = tx.exec1("SELECT coalesce(max(version), 0) FROM mhloader.schema_migrations")[0].as<int>();
    if (out.from_version > latest_schema_version()) {
      throw std::runtime_error("the database schema is at version " + std::to_string(out.from_version) +
                               ", newer than this mhloader knows (" + std::to_string(latest_schema_version()) +
                               "); upgrade mhloader");
    }
    for (const auto& m : migrations()) {
      if (m.version <= out.from_version) continue;
      tx.exec0(m.sql);
      tx.exec_params0("INSERT INTO mhloader.schema_migrations (version, description) VALUES ($1, $2)", m.version,
                      std::string(m.description));
    }
    tx.commit();
    out.to_version = latest_schema_version();
  } catch (const pqxx::broken_connection& e) {
    throw std::runtime_error(std::string("cannot connect to PostgreSQL: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    throw std::runtime_error(std::string("schema migration failed: ") + e.what());
  }
  return out;
}

}  // namespace mh::db
