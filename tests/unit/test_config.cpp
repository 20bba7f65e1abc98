// Config loading in-process: typed values, defaults, secrets and their sources.
// (Bad configs through the real binary are in integration/test_cli.cpp.)
#include <doctest/doctest.h>

#include <map>

#include "config/load.hpp"
#include "magichour/catalog.hpp"
#include "pipeline/validate_config.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace mh::config;

namespace {

struct Env {
  std::map<std::string, std::string> vars;
  LoadOptions options(std::optional<std::string> creds = std::nullopt) const {
    LoadOptions o;
    o.env = [this](const std::string& n) -> std::optional<std::string> {
      auto it = vars.find(n);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    o.credentials_dir = creds ? creds : std::optional<std::string>("");
    o.catalogue = &mh::pipeline::catalogue_checks();  // as pipeline::load_config_* do
    return o;
  }
};

ConfigResult load(const std::string& yaml, const Env& env, const std::string& dir = "/nonexistent") {
  return load_string(yaml, "test.yaml", dir, env.options());
}

std::string errors_of(const ConfigResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

const char* kMinimal = R"(
magic_hour: {api_key: "k-123456"}
jobs:
  - {name: account, every: 5m, resources: [credits]}
)";

}  // namespace

TEST_CASE("config: a minimal file gets the documented defaults") {
  Env env;
  auto r = load(kMinimal, env);
  INFO(errors_of(r));
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.pipeline_name == "magic_hour_pipeline");
  CHECK(c.state_dir == "/var/lib/mhloader");
  CHECK(c.shutdown_timeout == 30s);
  CHECK(c.magic_hour.base_url == "https://api.magichour.ai/v1");
  CHECK(c.magic_hour.timeout == 60s);
  CHECK(c.magic_hour.connect_timeout == 10s);
  CHECK(c.magic_hour.max_concurrency == 8);
  CHECK(c.magic_hour.retry.max_attempts == 5);
  CHECK(c.magic_hour.retry.initial_delay == 500ms);
  CHECK(c.magic_hour.retry.max_delay == 30s);
  CHECK(c.magic_hour.poll.interval == 3s);
  CHECK(c.magic_hour.poll.timeout == 10min);
  CHECK(c.destination.type == DestinationType::postgres);
  CHECK(c.destination.dsn.value == "postgresql:///magic_hour");
  CHECK(c.destination.dataset == "magic_hour_data");
  CHECK(c.control.listen == "127.0.0.1:8686");
  CHECK(c.control.port == 8686);
  CHECK(c.monitor.credits.interval == 5min);
  CHECK(c.monitor.credits.low_balance == 500);
  CHECK(c.monitor.credits.reserve == 100);
  CHECK(c.monitor.health.interval == 30s);
  REQUIRE(c.jobs.size() == 1);
  CHECK(c.jobs[0].schedule.kind == JobSchedule::Kind::every);
  CHECK(c.jobs[0].schedule.every == 5min);
  CHECK(c.jobs[0].timezone == "UTC");
  CHECK(c.jobs[0].catch_up);
}

TEST_CASE("config: the documented example validates") {
  mh::test::TempDir creds;
  creds.write("magic_hour_api_key", "mhk_live_example\n", 0600);
  creds.write("control_token", "control-token-example\n", 0600);
  Env env;
  LoadOptions o = env.options(creds.path());
  auto r = load_file(MHLOADER_SOURCE_DIR "/config/mhloader.yaml", o);
  INFO(errors_of(r));
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.magic_hour.api_key.value == "mhk_live_example");
  CHECK(c.magic_hour.api_key.source == "file " + creds.path() + "/magic_hour_api_key");
  CHECK(c.control.token.value == "control-token-example");
  REQUIRE(c.resources.size() == 1);
  const ResourceConfig& s = c.resources[0];
  CHECK(s.name == "saved_items");
  CHECK(s.endpoint.path == "saved-items");
  CHECK(s.endpoint.params.at("limit").as_int64() == 100);
  CHECK(s.endpoint.data_selector->text == "items");
  CHECK(s.endpoint.paginator.type == PaginatorType::cursor);
  CHECK(s.endpoint.paginator.cursor_path == "next_cursor");
  CHECK(s.primary_key == std::vector<std::string>{"id"});
  CHECK(s.write_disposition == WriteDisposition::merge);
  REQUIRE(c.jobs.size() == 3);
  CHECK(c.jobs[0].schedule.kind == JobSchedule::Kind::cron);
  CHECK(c.jobs[0].resources == std::vector<std::string>{"credits", "status", "models", "saved_items"});
  CHECK(c.jobs[1].timezone == "Europe/Berlin");
  CHECK(c.jobs[1].credit_budget == 200);
  REQUIRE(c.jobs[1].generate.size() == 1);
  CHECK(c.jobs[1].generate[0].requests[0].at("aspect_ratio").as_string() == "16:9");
  CHECK(c.jobs[1].generate[0].requests[0].at("image_count").as_int64() == 1);
  CHECK(c.jobs[2].generate[0].kind == GenerateKind::image_upscaler);
  CHECK(c.jobs[2].generate[0].from_dir == "/var/lib/mhloader/inbox");
  CHECK(c.jobs[2].generate[0].request->at("scale_factor").as_int64() == 2);
}

TEST_CASE("config: the development config validates") {
  Env env;
  auto r = load_file(MHLOADER_SOURCE_DIR "/config/dev.yaml", env.options());
  INFO(errors_of(r));
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.api_key.value == "sim-dev-key");
}

TEST_CASE("config: API key sources in order of precedence, remembered by name") {
  mh::test::TempDir dir;
  dir.write("key", "from-file\n");
  const std::string jobs = "jobs: [{name: a, every: 1m, resources: [credits]}]\n";

  Env env;
  env.vars = {{"MAGIC_HOUR_API_KEY", "from-env"}, {"SOURCES__MAGIC_HOUR_SOURCE__API_KEY", "from-dlt"}};
  auto r = load("magic_hour: {api_key_file: key, api_key: inline}\n" + jobs, env, dir.path());
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.api_key.value == "from-file");
  CHECK(r.warnings.size() == 1);

  r = load("magic_hour: {api_key: inline-key}\n" + jobs, env, dir.path());
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.api_key.value == "inline-key");
  CHECK(r.config->magic_hour.api_key.source.find("config key magic_hour.api_key") == 0);

  r = load(jobs, env, dir.path());
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.api_key.value == "from-env");
  CHECK(r.config->magic_hour.api_key.source == "environment variable MAGIC_HOUR_API_KEY");

  env.vars.erase("MAGIC_HOUR_API_KEY");
  r = load(jobs, env, dir.path());
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.api_key.value == "from-dlt");
  CHECK(r.config->magic_hour.api_key.source == "environment variable SOURCES__MAGIC_HOUR_SOURCE__API_KEY");

  env.vars.clear();
  r = load(jobs, env, dir.path());
  CHECK_FALSE(r.config);
  CHECK(errors_of(r).find("no Magic Hour API key") != std::string::npos);
}

TEST_CASE("config: *_file looks in $CREDENTIALS_DIRECTORY first, then next to the config") {
  mh::test::TempDir config_dir;
  mh::test::TempDir creds;
  config_dir.write("token", "next-to-config");
  const std::string yaml =
      "magic_hour: {api_key: k-1234}\ncontrol: {token_file: token}\njobs: [{name: a, every: 1m, resources: "
      "[credits]}]\n";
  Env env;
  auto r = load_string(yaml, "t.yaml", config_dir.path(), env.options(creds.path()));
  REQUIRE(r.config);
  CHECK(r.config->control.token.value == "next-to-config");
  creds.write("token", "from-credentials");
  r = load_string(yaml, "t.yaml", config_dir.path(), env.options(creds.path()));
  REQUIRE(r.config);
  CHECK(r.config->control.token.value == "from-credentials");
}

TEST_CASE("config: ${VAR} expansion reaches every kind of value") {
  Env env;
  env.vars = {{"PORT", "9000"}, {"ATTEMPTS", "7"}, {"EVERY", "90s"}, {"DSN", "host=h password=pw dbname=d"}};
  auto r = load(R"(
magic_hour: {api_key: k-123456, retry: {max_attempts: "${ATTEMPTS}"}}
destination: {dsn: "${DSN}"}
control: {listen: "127.0.0.1:${PORT}"}
jobs: [{name: a, every: "${EVERY}", resources: [credits]}]
)",
                env);
  INFO(errors_of(r));
  REQUIRE(r.config);
  CHECK(r.config->control.port == 9000);
  CHECK(r.config->magic_hour.retry.max_attempts == 7);
  CHECK(r.config->jobs[0].schedule.every == 90s);
  CHECK(r.config->destination.dsn.value == "host=h password=pw dbname=d");
}

TEST_CASE("config: MHLOADER_PG_DSN is the default DSN") {
  Env env;
  env.vars = {{"MHLOADER_PG_DSN", "host=example dbname=x"}};
  auto r = load(kMinimal, env);
  REQUIRE(r.config);
  CHECK(r.config->destination.dsn.value == "host=example dbname=x");
}

TEST_CASE("config: listen addresses") {
  Env env;
  auto with_listen = [&](const std::string& l) {
    return load("magic_hour: {api_key: k-123456}\ncontrol: {listen: \"" + l +
                    "\"}\njobs: [{name: a, every: 1m, resources: [credits]}]\n",
                env);
  };
  auto r = with_listen("[::1]:8700");
  REQUIRE(r.config);
  CHECK(r.config->control.host == "::1");
  CHECK(r.config->control.port == 8700);
  r = with_listen("localhost:0");
  REQUIRE(r.config);
  CHECK(r.config->control.port == 0);
  CHECK_FALSE(with_listen("::1:8700").config);
  CHECK_FALSE(with_listen("127.0.0.1").config);
  CHECK_FALSE(with_listen("127.0.0.1:70000").config);
}

TEST_CASE("config: user resources in dlt rest_api shape") {
  Env env;
  auto r = load(R"(
magic_hour: {api_key: k-123456}
resources:
  - name: things
    endpoint: things
  - name: pages
    endpoint:
      path: pages
      method: POST
      json: {filter: {kind: [a, b]}, n: 3, quoted: "5"}
      paginator: {type: page_number, base_page: 1, total_path: meta.total_pages}
      data_selector: "$.data[*]"
    primary_key: [a, b]
    write_disposition: replace
  - name: events
    endpoint:
      path: events
      paginator: {type: offset, limit: 50}
    incremental: {cursor_path: updated_at, initial_value: "2025-01-01T00:00:00Z", param: since}
    on_not_found: fail
jobs: [{name: a, schedule: "@hourly", resources: [things, pages, events]}]
)",
                env);
  INFO(errors_of(r));
  REQUIRE(r.config);
  const auto& res = r.config->resources;
  REQUIRE(res.size() == 3);
  CHECK(res[0].endpoint.path == "things");
  CHECK(res[0].endpoint.paginator.type == PaginatorType::none);
  CHECK(res[1].endpoint.method == "POST");
  CHECK(res[1].endpoint.json->at("filter").at("kind").as_array().size() == 2);
  CHECK(res[1].endpoint.json->at("n").is_int64());
  CHECK(res[1].endpoint.json->at("quoted").is_string());
  CHECK(res[1].endpoint.paginator.base_page == 1);
  CHECK(res[1].endpoint.paginator.total_path == "meta.total_pages");
  CHECK(res[1].primary_key.size() == 2);
  CHECK(res[1].write_disposition == WriteDisposition::replace);
  CHECK(res[2].endpoint.paginator.limit == 50);
  CHECK(res[2].incremental->param == "since");
  CHECK(res[2].incremental->initial_value.as_string() == "2025-01-01T00:00:00Z");
  CHECK(res[2].on_not_found == OnNotFound::fail);
}

TEST_CASE("config: all errors are reported, not just the first") {
  Env env;
  auto r = load(R"(
magic_hour: {api_key: k-123456, timeout: 5, max_concurrency: 0}
control: {listen: nowhere}
jobs:
  - {name: a, shedule: "* * * * *", resources: [credits]}
)",
                env);
  CHECK_FALSE(r.config);
  CHECK(r.errors.size() == 4);
}

TEST_CASE("config: render shows every secret as *** and names its source") {
  Env env;
  env.vars = {{"MAGIC_HOUR_API_KEY", "mhk_live_SECRET1"}, {"MHLOADER_PG_DSN", "postgresql://u:PGSECRET@h/db"}};
  auto r = load("control: {token: TOKENSECRET}\njobs: [{name: a, every: 1m, resources: [credits]}]\n", env);
  REQUIRE(r.config);
  std::string out = render(*r.config);
  CHECK(out.find("SECRET") == std::string::npos);
  CHECK(out.find("api_key: \"***\"") != std::string::npos);
  CHECK(out.find("environment variable MAGIC_HOUR_API_KEY") != std::string::npos);
  CHECK(out.find("postgresql://u:***@h/db") != std::string::npos);
  // What render prints loads again (secrets aside): it is the resolved config.
  CHECK(out.find("every: 1m") != std::string::npos);
}

TEST_CASE("magichour: every documented POST endpoint counts as a create, listings do not") {
  using mh::magichour::is_create_endpoint;
  for (const char* p : {"ai-image-generator", "/ai-image-upscaler", "v1/face-swap", "/v1/files/upload-urls",
                        "ai-voice-cloner/", "ai-image-generator?x=1",
                        // normalized as the server resolves the path
                        "v1//ai-image-generator", "./ai-image-generator", "/v1/./face-swap/", "%61i-image-generator",
                        "ai%2Dimage%2dgenerator", "saved-items/../ai-image-generator", "v1/x/../../v1/face-swap",
                        "AI-Image-Generator", "files//upload-urls", "files%2Fupload-urls"}) {
    CAPTURE(p);
    CHECK(is_create_endpoint(p));
  }
  for (const char* p : {"saved-items", "/v1/_test/saved-items/search", "image-projects", "ai-image-generator-x",
                        "ai-image-generator/x", "ai-image-generator%3Fx"}) {
    CAPTURE(p);
    CHECK_FALSE(is_create_endpoint(p));
  }
}

TEST_CASE("config: max_pages bounds a resource, settle is for from_dir only, both are rendered") {
  Env env;
  auto r = load(R"(
magic_hour: {api_key: k-123456}
resources:
  - {name: things, endpoint: things, max_pages: 7}
jobs:
  - name: a
    every: 1h
    resources: [things]
    generate: [{resource: ai_image_upscaler, from_dir: /in, settle: 30s, request: {scale_factor: 2}}]
)",
                env);
  INFO(errors_of(r));
  REQUIRE(r.config);
  CHECK(r.config->resources[0].max_pages == 7);
  CHECK(r.config->jobs[0].generate[0].settle == std::chrono::seconds(30));
  std::string out = render(*r.config);
  CHECK(out.find("max_pages: 7") != std::string::npos);
  CHECK(out.find("settle: 30s") != std::string::npos);

  auto bad = load(R"(
magic_hour: {api_key: k-123456}
resources:
  - {name: things, endpoint: things, max_pages: 0}
jobs:
  - name: a
    every: 1h
    resources: [things]
    generate: [{resource: ai_image_generator, settle: 1s, requests: [{image_count: 1, style: {prompt: x}}]}]
)",
                  env);
  CHECK_FALSE(bad.config);
  std::string errors = errors_of(bad);
  CHECK(errors.find("resources[0].max_pages") != std::string::npos);
  CHECK(errors.find("settle is only for from_dir") != std::string::npos);
}

TEST_CASE("config: the catalogue checks come from pipeline, config alone skips them") {
  const std::string yaml = R"(
magic_hour: {api_key: "k-123456"}
resources:
  - {name: mine, endpoint: {path: ai-image-generator, method: POST}}
jobs:
  - name: gen
    generate:
      - resource: ai_image_upscaler
        from_dir: /tmp/in
        request: {scale_factor: 3}
)";
  const Env env;  // named: the options' env lookup refers to it
  LoadOptions o = env.options();
  o.catalogue = nullptr;
  auto bare = load_string(yaml, "test.yaml", "/nonexistent", o);
  INFO(errors_of(bare));
  CHECK(bare.config);
  auto full = mh::pipeline::load_config_string(yaml, "test.yaml", "/nonexistent", o);
  CHECK(errors_of(full) ==
        "test.yaml: POST to 'ai-image-generator' creates (and bills) a Magic Hour project outside the generation "
        "ledger; use a job's generate: for that at resources[0].endpoint.method, line 4\n"
        "test.yaml: scale_factor must be 2 or 4 at jobs[0].generate[0].request.scale_factor, line 10\n");
  CHECK(mh::pipeline::create_kind(GenerateKind::image_generator) == mh::magichour::CreateKind::image_generator);
  CHECK(mh::pipeline::create_kind(GenerateKind::image_upscaler) == mh::magichour::CreateKind::image_upscaler);
}
