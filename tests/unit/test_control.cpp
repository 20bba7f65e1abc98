// The control plane's route matching and token check, without a server.
#include <doctest/doctest.h>

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
  CHECK(m.allowed == std::vector<std::string>{"GET"});
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
