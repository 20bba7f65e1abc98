// The control plane's route matching and token check, without a server.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <regex>
#include <set>

#include "app/runtime.hpp"
#include "control/control_plane.hpp"
#include "control/problem.hpp"
#include "control/router.hpp"

using mh::control::Route;
using mh::control::Router;

namespace {

boost::asio::awaitable<mh::net::HttpResponse> nothing(const mh::net::HttpRequest&, const mh::control::PathParams&) {
  co_return mh::net::HttpResponse::empty(204);
}

Router table() {
  Router r;
  for (auto [m, p] : {std::pair{"GET", "/"},
                      {"GET", "/api/v1/jobs"},
                      {"GET", "/api/v1/jobs/{job}"},
                      {"POST", "/api/v1/jobs/{job}/runs"},
                      {"GET", "/api/v1/runs/{id}"},
                      {"POST", "/api/v1/runs/{id}/cancel"}}) {
    r.add(Route{m, p, true, nothing});
  }
  return r;
}

mh::net::HttpRequest with_auth(const std::string& value) {
  mh::net::HttpRequest r;
  r.headers.push_back({"authorization", value});
  return r;
}

}  // namespace

TEST_CASE("router: templates match whole segments and decode parameters") {
  Router r = table();
  auto m = r.match("GET", "/api/v1/jobs/daily%20sync");
  REQUIRE(m.route);
  CHECK(m.route->name() == "GET /api/v1/jobs/{job}");
  CHECK(m.params.at("job") == "daily sync");
  CHECK(r.match("GET", "/api/v1/jobs").route->path == "/api/v1/jobs");
  CHECK(r.match("GET", "/").route->path == "/");
  CHECK(r.match("POST", "/api/v1/runs/42/cancel").params.at("id") == "42");
  // Not matched: trailing slash, extra or missing segments, an empty parameter.
  for (const char* p : {"/api/v1/jobs/", "/api/v1/jobs/a/b", "/api/v1", "/api/v1/runs//cancel", "//", ""}) {
    CAPTURE(p);
    auto none = r.match("GET", p);
    CHECK_FALSE(none.route);
    CHECK(none.allowed.empty());
  }
}

TEST_CASE("router: a known path with another method lists the allowed ones, and HEAD is GET") {
  Router r = table();
  auto m = r.match("DELETE", "/api/v1/jobs/x");
  CHECK_FALSE(m.route);
  CHECK(m.allowed == std::vector<std::string>{"GET", "HEAD"});
  auto runs = r.match("GET", "/api/v1/jobs/x/runs");
  CHECK(runs.allowed == std::vector<std::string>{"POST"});
  REQUIRE(r.match("HEAD", "/api/v1/jobs").route);
  CHECK(r.match("HEAD", "/api/v1/jobs").route->method == "GET");
}

TEST_CASE("bearer token: exact match only, scheme case-insensitive, empty token refuses all") {
  const std::string token = "s3cr3t-token";
  CHECK(mh::control::bearer_matches(with_auth("Bearer s3cr3t-token"), token));
  CHECK(mh::control::bearer_matches(with_auth("bearer s3cr3t-token"), token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth("Bearer s3cr3t-toke"), token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth("Bearer s3cr3t-token "), token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth("Basic s3cr3t-token"), token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth("s3cr3t-token"), token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth(""), token));
  CHECK_FALSE(mh::control::bearer_matches(mh::net::HttpRequest{}, token));
  CHECK_FALSE(mh::control::bearer_matches(with_auth("Bearer "), ""));
}

TEST_CASE("problem answers carry type, title, status, detail and extra members") {
  auto r = mh::control::problem_response(409, "already running", {{"run_id", 7}});
  CHECK(r.status == 409);
  CHECK(r.header("Content-Type") == "application/problem+json");
  CHECK(r.body == R"({"type":"about:blank","title":"Conflict","status":409,"detail":"already running","run_id":7})");
}

// The served OpenAPI document describes exactly the route table: no route goes
// undocumented, no documented route is missing, and the security matches.
TEST_CASE("openapi: the document lists every route of the table with its auth and path parameters") {
  namespace json = boost::json;
  json::value doc = json::parse(mh::control::openapi_document());
  CHECK(std::string(doc.at("openapi").as_string()).rfind("3.", 0) == 0);
  const json::object& paths = doc.at("paths").as_object();
  const json::object& components = doc.at("components").as_object();
  auto resolve = [&](const json::value& v) -> const json::object& {
    if (const json::value* ref = v.as_object().if_contains("$ref")) {
      std::string r(ref->as_string());  // "#/components/parameters/runId"
      return components.at("parameters").at(r.substr(r.rfind('/') + 1)).as_object();
    }
    return v.as_object();
  };
  std::set<std::string> documented;
  for (const auto& [path, item] : paths) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string m(method);
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      documented.insert(m + " " + std::string(path));
    }
  }
  std::set<std::string> served;
  for (const auto& r : mh::control::route_table()) {
    const std::string name = r.method + " " + r.path;
    served.insert(name);
    CAPTURE(name);
    REQUIRE(paths.contains(r.path));
    const json::object& item = paths.at(r.path).as_object();
    std::string lower = r.method;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    REQUIRE(item.contains(lower));
    const json::object& op = item.at(lower).as_object();
    // Security: the operation's own, else the document's.
    const json::value& security = op.contains("security") ? op.at("security") : doc.at("security");
    bool bearer = false;
    for (const auto& s : security.as_array()) bearer = bearer || s.as_object().contains("bearerAuth");
    CHECK(bearer == r.auth);
    if (r.auth) CHECK(op.at("responses").as_object().contains("401"));
    // Every {param} of the template is declared as a path parameter.
    std::set<std::string> declared;
    for (const json::object* holder : {&item, &op}) {
      if (const json::value* ps = holder->if_contains("parameters")) {
        for (const auto& p : ps->as_array()) {
          const json::object& po = resolve(p);
          if (po.at("in").as_string() == "path") declared.insert(std::string(po.at("name").as_string()));
        }
      }
    }
    std::regex param_re(R"(\{(\w+)\})");
    std::set<std::string> wanted;
    for (std::sregex_iterator it(r.path.begin(), r.path.end(), param_re), end; it != end; ++it) wanted.insert((*it)[1]);
    CHECK(declared == wanted);
  }
  CHECK(documented == served);
}

TEST_CASE("reload: every setting built once is named as needing a restart, the rest reloads") {
  using mh::app::restart_keys;
  mh::config::Config a;
  a.control.port = 0;  // "127.0.0.1:0": the listener picked 8123
  mh::config::Config b = a;
  b.control.port = 8123;
  b.magic_hour.api_key.value = "rotated";
  b.magic_hour.base_url = "https://other.example/v1";
  b.magic_hour.retry.max_attempts = 9;
  b.magic_hour.poll.interval = std::chrono::milliseconds(1);
  b.control.token.value = "new-token";
  b.jobs.push_back({});
  CHECK(restart_keys(a, b, 8123).empty());
  CHECK(restart_keys(a, b, 9000) == std::vector<std::string>{"control.listen"});

  mh::config::Config c = a;
  c.magic_hour.timeout = std::chrono::milliseconds(1);
  c.magic_hour.connect_timeout = std::chrono::milliseconds(1);
  c.magic_hour.max_concurrency = 1;
  c.magic_hour.ca_file = "/ca.pem";
  c.destination.type = mh::config::DestinationType::filesystem;
  c.destination.dsn.value = "postgresql:///other";
  c.destination.dataset = "other";
  c.destination.filesystem.path = "/data";
  c.control.host = "0.0.0.0";
  c.control.tls = mh::config::TlsConfig{"c.pem", "k.pem"};
  c.control.max_connections = 1;
  c.control.read_timeout = std::chrono::milliseconds(1);
  c.control.idle_timeout = std::chrono::milliseconds(1);
  c.monitor.credits.interval = std::chrono::milliseconds(1);
  c.monitor.credits.low_balance = 1;
  c.monitor.health.interval = std::chrono::milliseconds(1);
  c.state_dir = "/elsewhere";
  CHECK(restart_keys(a, c) ==
        std::vector<std::string>{"magic_hour.timeout", "magic_hour.connect_timeout", "magic_hour.max_concurrency",
                                 "magic_hour.ca_file", "destination.type", "destination.dsn", "destination.dataset",
                                 "destination.filesystem", "control.listen", "control.tls", "control.max_connections",
                                 "control.read_timeout", "control.idle_timeout", "monitor.credits.interval",
                                 "monitor.credits.low_balance", "monitor.health.interval", "state_dir"});
  // The reserve is read by each run: it reloads.
  mh::config::Config r = a;
  r.monitor.credits.reserve = 7;
  CHECK(restart_keys(a, r).empty());
}
