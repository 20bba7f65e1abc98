// The mhloader binary's command line, run as a real process: exit codes,
// check-config output, and every bad config naming its key path and line.
#include <doctest/doctest.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

using mh::test::ProcessOptions;
using mh::test::ProcessResult;
using mh::test::run_process;
using mh::test::TempDir;

namespace {

ProcessOptions clean_env() { return mh::test::daemon_env(); }

ProcessResult mhloader(const std::vector<std::string>& args, const ProcessOptions& o = clean_env()) {
  std::vector<std::string> argv{MHLOADER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, o);
}

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* where;    // "at PATH, line N" as it must appear
  const char* message;  // a fragment of the message
};

const char* kJob = "jobs: [{name: a, every: 1m, resources: [credits]}]\n";

// Each case is a complete file; line numbers count from its first line.
const BadConfig kBadConfigs[] = {
    {"unknown top-level key",
     "magic_hour: {api_key: k-123456}\njobz: []\njobs: [{name: a, every: 1m, resources: [credits]}]\n",
     "at the top level, line 2; did you mean 'jobs'?", "unknown key 'jobz'"},
    {"misspelt job key (the documented example)",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    shedule: \"* * * * *\"\n    resources: [credits]\n",
     "at jobs[0], line 4; did you mean 'schedule'?", "unknown key 'shedule'"},
    {"duration without unit", "magic_hour:\n  api_key: k-123456\n  timeout: 60\n", "at magic_hour.timeout, line 3",
     "has no unit"},
    {"duration with unknown unit", "magic_hour: {api_key: k-123456}\nmonitor:\n  credits:\n    interval: 5min\n",
     "at monitor.credits.interval, line 4", "unknown unit 'min'"},
    {"integer out of range", "magic_hour:\n  api_key: k-123456\n  max_concurrency: 0\n",
     "at magic_hour.max_concurrency, line 3", "0 is out of range 1..256"},
    {"integer that is not a number", "magic_hour:\n  api_key: k-123456\n  max_concurrency: eight\n",
     "at magic_hour.max_concurrency, line 3", "expected a whole number, got 'eight'"},
    {"list where a value belongs", "magic_hour:\n  api_key: k-123456\n  retry:\n    max_attempts: [1, 2]\n",
     "at magic_hour.retry.max_attempts, line 4", "expected a single value, got a list"},
    {"retry delays inverted", "magic_hour:\n  api_key: k-123456\n  retry:\n    initial_delay: 1m\n    max_delay: 10s\n",
     "at magic_hour.retry, line 4", "initial_delay (1m) is longer than max_delay (10s)"},
    {"poll interval not below timeout", "magic_hour:\n  api_key: k-123456\n  poll: {interval: 5m, timeout: 1m}\n",
     "at magic_hour.poll, line 3", "must be shorter than timeout"},
    {"base_url without http(s)", "magic_hour:\n  api_key: k-123456\n  base_url: ftp://example.org\n",
     "at magic_hour.base_url, line 3", "must start with https:// or http://"},
    {"api_key_file that does not exist", "magic_hour:\n  api_key_file: /nonexistent/key\n",
     "at magic_hour.api_key_file, line 2", "cannot read '/nonexistent/key'"},
    {"unset environment variable", "magic_hour: {api_key: k-123456}\ndestination:\n  dsn: ${MH_TEST_UNSET_VAR}\n",
     "at destination.dsn, line 3", "environment variable MH_TEST_UNSET_VAR is not set"},
    {"unknown enum value", "magic_hour: {api_key: k-123456}\ndestination:\n  type: mysql\n",
     "at destination.type, line 3", "'mysql' is not one of postgres, filesystem"},
    {"invalid dataset name", "magic_hour: {api_key: k-123456}\ndestination:\n  dataset: Magic-Data\n",
     "at destination.dataset, line 3", "not a valid dataset name"},
    {"POST resource on a create endpoint",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: sneaky\n    endpoint:\n      path: "
     "/v1/ai-image-generator\n"
     "      method: POST\n",
     "at resources[0].endpoint.method, line 6",
     "creates (and bills) a Magic Hour project outside the generation ledger"},
    {"listen without port", "magic_hour: {api_key: k-123456}\ncontrol:\n  listen: localhost\n",
     "at control.listen, line 3", "is not HOST:PORT"},
    {"tls without key_file", "magic_hour: {api_key: k-123456}\ncontrol:\n  tls:\n    cert_file: /etc/hostname\n",
     "at control.tls.key_file, line 4", "required key 'key_file' is missing"},
    {"cron value out of range",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    schedule: \"61 * * * *\"\n    resources: [credits]\n",
     "at jobs[0].schedule, line 4", "minute value 61 out of range 0-59"},
    {"cron with four fields",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    resources: [credits]\n    schedule: \"* * * *\"\n",
     "at jobs[0].schedule, line 5", "5 fields"},
    {"cron with a bad month name",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    schedule: \"0 0 1 jna *\"\n    resources: [credits]\n",
     "at jobs[0].schedule, line 4", "unknown month name 'jna'"},
    {"schedule and every together",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    schedule: \"@daily\"\n    every: 1h\n    resources: "
     "[credits]\n",
     "at jobs[0].every, line 5", "either schedule: (cron) or every:, not both"},
    {"every too short",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 500ms\n    resources: [credits]\n",
     "at jobs[0].every, line 4", "the minimum is 1s"},
    {"unknown time zone",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    timezone: Mars/Olympus\n    resources: "
     "[credits]\n",
     "at jobs[0].timezone, line 5", "unknown time zone 'Mars/Olympus'"},
    {"unknown resource in a job",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    resources:\n      - credit\n",
     "at jobs[0].resources[0], line 6", "did you mean 'credits'?"},
    {"generation resource listed as a plain resource",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    resources: [status, "
     "ai_image_generator]\n",
     "at jobs[0].resources[1], line 5", "spends credits; list it under generate:"},
    {"merge without primary_key",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint: things\n    write_disposition: "
     "merge\n",
     "at resources[0].write_disposition, line 5", "merge needs a primary_key"},
    {"misspelt paginator type",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint:\n      path: things\n      "
     "paginator: {type: curser}\n",
     "at resources[0].endpoint.paginator.type, line 6", "did you mean 'cursor'?"},
    {"offset paginator without limit",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint:\n      path: things\n      "
     "paginator:\n        type: offset\n",
     "at resources[0].endpoint.paginator.limit, line 7", "needs limit"},
    {"key of another paginator type",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint:\n      path: things\n      "
     "paginator:\n        type: cursor\n        limit: 10\n",
     "at resources[0].endpoint.paginator, line 8", "unknown key 'limit'"},
    {"malformed data_selector",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint:\n      path: things\n      "
     "data_selector: items..id\n",
     "at resources[0].endpoint.data_selector, line 6", "invalid data_selector"},
    {"endpoint path that leaves base_url",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: things\n    endpoint:\n      path: "
     "https://elsewhere.example/x\n",
     "at resources[0].endpoint.path, line 5", "must be a path relative to magic_hour.base_url"},
    {"resource named like a built-in",
     "magic_hour: {api_key: k-123456}\nresources:\n  - name: credits\n    endpoint: credits\n",
     "at resources[0].name, line 3", "'credits' is a built-in resource"},
    {"duplicate job names",
     "magic_hour: {api_key: k-123456}\njobs:\n  - {name: a, every: 1h, resources: [credits]}\n  - {name: a, every: 2h, "
     "resources: [status]}\n",
     "at jobs[1].name, line 4", "job 'a' is defined twice"},
    {"image_count out of range",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    generate:\n      - resource: "
     "ai_image_generator\n        requests:\n          - image_count: 0\n            style: {prompt: hi}\n",
     "at jobs[0].generate[0].requests[0].image_count, line 8", "image_count must be a whole number from 1 to 16"},
    {"generation request without a prompt",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    generate:\n      - resource: "
     "ai_image_generator\n        requests:\n          - {image_count: 1, style: {tool: general}}\n",
     "at jobs[0].generate[0].requests[0].style.prompt, line 8", "'style.prompt' is missing"},
    {"upscale factor 3",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    generate:\n      - resource: "
     "ai_image_upscaler\n        from_dir: /tmp\n        request:\n          scale_factor: 3\n",
     "at jobs[0].generate[0].request.scale_factor, line 9", "scale_factor must be 2 or 4"},
    {"job with nothing to do", "magic_hour: {api_key: k-123456}\njobs:\n  - name: idle\n    every: 1h\n",
     "at jobs[0], line 3", "has nothing to do"},
    {"duplicate key", "magic_hour:\n  api_key: k-123456\n  timeout: 10s\n  timeout: 20s\n", "at magic_hour, line 4",
     "duplicate key 'timeout'"},
    {"bad log level", "magic_hour: {api_key: k-123456}\nlog:\n  level: loud\n", "at log.level, line 3",
     "'loud' is not one of debug, info, warn, error"},
    {"bad boolean",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    catch_up: maybe\n    resources: "
     "[credits]\n",
     "at jobs[0].catch_up, line 5", "expected true or false"},
    {"negative credit budget",
     "magic_hour: {api_key: k-123456}\njobs:\n  - name: a\n    every: 1h\n    credit_budget: -5\n    resources: "
     "[credits]\n",
     "at jobs[0].credit_budget, line 5", "-5 is out of range"},
    {"jobs is not a list", "magic_hour: {api_key: k-123456}\njobs:\n  account: {every: 1h}\n", "at jobs, line 3",
     "expected a list of jobs, got a mapping"},
    {"pipeline name with spaces", "pipeline_name: my pipeline\nmagic_hour: {api_key: k-123456}\n",
     "at pipeline_name, line 1", "is not a valid name"},
};

}  // namespace

TEST_CASE("cli: every bad config exits 2 and names the key path and line") {
  TempDir dir;
  int checked = 0;
  for (const auto& bad : kBadConfigs) {
    std::string yaml = bad.yaml;
    if (yaml.find("jobs:") == std::string::npos) yaml += kJob;
    std::string file = dir.write(std::string("bad") + std::to_string(checked) + ".yaml", yaml);
    ProcessResult r = mhloader({"check-config", "--config", file});
    CAPTURE(bad.name);
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(file + ": ") != std::string::npos);
    CHECK(r.err.find(bad.where) != std::string::npos);
    CHECK(r.err.find(bad.message) != std::string::npos);
    CHECK(r.out.empty());
    ++checked;
  }
  CHECK(checked >= 25);
}

TEST_CASE("cli: a YAML syntax error names the line") {
  TempDir dir;
  std::string file = dir.write("broken.yaml", "magic_hour:\n  api_key: k\n  timeout: [1, 2\njobs: []\n");
  ProcessResult r = mhloader({"check-config", "--config", file});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("YAML syntax error") != std::string::npos);
  CHECK(r.err.find("line ") != std::string::npos);
}

TEST_CASE("cli: check-config reports all errors at once") {
  TempDir dir;
  std::string file =
      dir.write("many.yaml",
                "magic_hour:\n  api_key: k-123456\n  timeout: 5\n  max_concurrency: 0\ncontrol: {listen: "
                "x}\njobs:\n  - {name: a, shedule: x, resources: [credits]}\n");
  ProcessResult r = mhloader({"check-config", "--config", file});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("at magic_hour.timeout, line 3") != std::string::npos);
  CHECK(r.err.find("at magic_hour.max_concurrency, line 4") != std::string::npos);
  CHECK(r.err.find("at control.listen, line 5") != std::string::npos);
  CHECK(r.err.find("at jobs[0], line 7") != std::string::npos);
  CHECK(r.err.find("4 errors in the configuration") != std::string::npos);
}

TEST_CASE("cli: check-config on the documented example prints it resolved, secrets as ***") {
  TempDir creds;
  creds.write("magic_hour_api_key", "mhk_live_DOCUMENTEDEXAMPLEKEY\n", 0600);
  creds.write("control_token", "CONTROLTOKENVALUE\n", 0600);
  ProcessOptions o = clean_env();
  o.env["CREDENTIALS_DIRECTORY"] = creds.path();
  o.env["MHLOADER_PG_DSN"] = "postgresql://loader:DBPASSWORDVALUE@db.internal:5432/magic_hour";
  ProcessResult r = mhloader({"check-config", "--config", MHLOADER_SOURCE_DIR "/config/mhloader.yaml"}, o);
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("pipeline_name: magic_hour_pipeline") != std::string::npos);
  CHECK(r.out.find("postgresql://loader:***@db.internal:5432/magic_hour") != std::string::npos);
  CHECK(r.out.find("from file " + creds.path() + "/magic_hour_api_key") != std::string::npos);
  for (const char* secret : {"DOCUMENTEDEXAMPLEKEY", "CONTROLTOKENVALUE", "DBPASSWORDVALUE"}) {
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK(r.err.find(secret) == std::string::npos);
  }
  CHECK(r.err.find("configuration OK (3 jobs)") != std::string::npos);
}

TEST_CASE("cli: the config file comes from --config, else $MHLOADER_CONFIG") {
  TempDir dir;
  std::string file = dir.write("env.yaml", std::string("magic_hour: {api_key: k-123456}\n") + kJob);
  ProcessOptions o = clean_env();
  o.env["MHLOADER_CONFIG"] = file;
  ProcessResult r = mhloader({"check-config"}, o);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find(file) != std::string::npos);

  r = mhloader({"check-config", "--config", dir.path() + "/missing.yaml"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(dir.path() + "/missing.yaml: cannot read the configuration file") != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2") {
  auto r = mhloader({});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no command given") != std::string::npos);
  r = mhloader({"serv"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'serv'; did you mean 'serve'?") != std::string::npos);
  r = mhloader({"check-config", "--frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown option '--frobnicate'") != std::string::npos);
  r = mhloader({"serve", "--log-level", "loud"});
  CHECK(r.exit_code == 2);
  r = mhloader({"run"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("run needs exactly one JOB name") != std::string::npos);
  r = mhloader({"check-config", "--config"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("cli: version and help") {
  auto r = mhloader({"version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.starts_with("mhloader 0."));
  CHECK(r.out.find("revision") != std::string::npos);
  r = mhloader({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("check-config") != std::string::npos);
}

TEST_CASE("cli: a rejected config that quotes its own secrets shows them as ***") {
  TempDir dir;
  std::string file = dir.write("mhloader.yaml",
                               "magic_hour: {api_key: mhk_NEW_SECRET_123}\ncontrol: {token: ctl-NEW-TOKEN-456}\n"
                               "destination: {dsn: \"postgresql://u:pw-NEW-789@db/x\"}\n"
                               "log: {level: mhk_NEW_SECRET_123}\npipeline_name: ctl-NEW-TOKEN-456 pw-NEW-789\n");
  auto r = run_process({MHLOADER_BIN, "check-config", "--config", file}, clean_env());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'***' is not one of debug, info, warn, error") != std::string::npos);
  for (const char* secret : {"mhk_NEW_SECRET_123", "ctl-NEW-TOKEN-456", "pw-NEW-789"}) {
    CAPTURE(secret);
    CHECK(r.err.find(secret) == std::string::npos);
  }
}
