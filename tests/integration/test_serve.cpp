// `mhloader serve` as a real process against the real PostgreSQL: start,
// readiness, reload with good and bad configs, clean shutdown, redaction.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <pqxx/pqxx>

#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using mh::test::Child;
using mh::test::ProcessOptions;
using mh::test::TempDir;

namespace {

const std::string kApiKey = "mhk_live_SERVETESTKEY0123";
const std::string kDbPassword = "SERVEDBPASSWORD";

std::string config_yaml(const std::string& dsn, const std::string& state_dir, const std::string& extra = "") {
  return "state_dir: " + state_dir + "\nmagic_hour: {api_key: " + kApiKey + "}\ndestination:\n  dsn: \"" + dsn +
         "\"\n" + (extra.find("control:") == std::string::npos ? "control: {listen: \"127.0.0.1:0\"}\n" : "") + extra +
         "jobs: [{name: account, every: 1m, resources: [credits]}]\n";
}

ProcessOptions serve_env() { return mh::test::daemon_env(); }

}  // namespace

TEST_CASE("serve: migrates, gets ready, reloads, and stops cleanly on SIGTERM") {
  mh::test::TempDatabase db;
  TempDir dir;
  std::string dsn = db.dsn() + " password=" + kDbPassword;  // trust auth: sent, never checked
  std::string file = dir.write("mhloader.yaml", config_yaml(dsn, dir.path() + "/state"));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, serve_env());
  REQUIRE_MESSAGE(daemon.wait_for_err("msg=\"mhloader ready\"", 20s), daemon.err());
  CHECK(daemon.err().find("msg=\"database ready\"") != std::string::npos);

  {
    pqxx::connection c{db.dsn()};
    pqxx::work tx{c};
    CHECK(tx.exec1("SELECT count(*) FROM mhloader.schema_migrations")[0].as<int>() >= 1);
  }

  // A bad config that happens to quote the API key: the old config stays, the key is masked.
  dir.write("mhloader.yaml", config_yaml(dsn, dir.path() + "/state", "log: {level: " + kApiKey + "}\n"));
  daemon.signal(SIGHUP);
  REQUIRE_MESSAGE(daemon.wait_for_err("reload failed; keeping the running configuration", 10s), daemon.err());
  CHECK(daemon.err().find("'***' is not one of debug, info, warn, error") != std::string::npos);

  dir.write("mhloader.yaml", config_yaml(dsn, dir.path() + "/state", "log: {level: debug}\n"));
  daemon.signal(SIGHUP);
  REQUIRE_MESSAGE(daemon.wait_for_err("msg=\"configuration reloaded\"", 10s), daemon.err());

  daemon.signal(SIGTERM);
  auto r = daemon.wait(10s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("msg=\"shutting down\" signal=SIGTERM") != std::string::npos);
  CHECK(r.err.find("msg=\"mhloader stopped\"") != std::string::npos);
  CHECK(r.err.find(kApiKey) == std::string::npos);
  CHECK(r.err.find(kDbPassword) == std::string::npos);
  CHECK(r.out.find(kApiKey) == std::string::npos);
}

TEST_CASE("serve: waits for an unreachable database and still stops on SIGINT") {
  TempDir dir;
  std::string file =
      dir.write("mhloader.yaml",
                config_yaml("host=127.0.0.1 port=1 user=x dbname=x password=" + kDbPassword, dir.path() + "/state"));
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, serve_env());
  REQUIRE_MESSAGE(daemon.wait_for_err("database not ready; retrying", 10s), daemon.err());
  daemon.signal(SIGINT);
  auto r = daemon.wait(15s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("mhloader ready") == std::string::npos);
  CHECK(r.err.find(kDbPassword) == std::string::npos);
}

TEST_CASE("serve: a state_dir that cannot be created fails with exit 1") {
  TempDir dir;
  dir.write("blocker", "a file, not a folder");
  std::string file = dir.write("mhloader.yaml", config_yaml("host=127.0.0.1 port=1", dir.path() + "/blocker/state"));
  auto r = mh::test::run_process({MHLOADER_BIN, "serve", "--config", file}, serve_env());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot create state_dir") != std::string::npos);
}

TEST_CASE("serve: under systemd (JOURNAL_STREAM) lines carry syslog priorities") {
  TempDir dir;
  std::string file = dir.write("mhloader.yaml", config_yaml("host=127.0.0.1 port=1", dir.path() + "/blocker/state"));
  dir.write("blocker", "x");
  ProcessOptions o = serve_env();
  o.env["JOURNAL_STREAM"] = "8:12345";
  auto r = mh::test::run_process({MHLOADER_BIN, "serve", "--config", file}, o);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("<6>ts=") == 0);
  CHECK(r.err.find("<3>ts=") != std::string::npos);
}

TEST_CASE("serve: the README's run command starts the simulator when no API key is set") {
  mh::test::TempDatabase db;
  TempDir dir;
  std::string build_dir = std::filesystem::path(MHLOADER_BIN).parent_path().parent_path().string();
  ProcessOptions o = serve_env();
  o.env["MHLOADER_PG_DSN"] = db.dsn();
  o.env["MHLOADER_DEV_SKIP_BUILD"] = "1";
  o.env["MHLOADER_BUILD_DIR"] = build_dir;
  o.env["MHLOADER_STATE_DIR"] = dir.path() + "/state";
  o.env["MHLOADER_LISTEN"] = "127.0.0.1:0";
  o.new_process_group = true;
  Child dev({"/bin/bash", MHLOADER_SOURCE_DIR "/scripts/dev.sh"}, o);
  REQUIRE_MESSAGE(dev.wait_for_err("msg=\"mhloader ready\"", 30s), dev.out() << dev.err());
  CHECK(dev.out().find("MAGIC_HOUR_API_KEY is not set: using the bundled Magic Hour simulator at http://127.0.0.1:") !=
        std::string::npos);
  dev.signal(SIGINT);
  auto r = dev.wait(15s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.err.find("mhloader stopped") != std::string::npos);
}
