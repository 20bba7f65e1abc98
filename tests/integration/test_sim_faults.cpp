// magichour-sim fault injection over real HTTP: every fault kind, from the
// command line and changed at runtime through /_sim/faults.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "integration/sim_helpers.hpp"

using namespace mh::test;
using namespace std::chrono_literals;

namespace {
CurlResponse put_faults(const SimProcess& sim, const std::string& body, const std::string& method = "PUT") {
  return curl(method, sim.base_url() + "/_sim/faults", CurlOptions{{"Content-Type: application/json"}, body});
}
}  // namespace

TEST_CASE("sim faults: 429 with Retry-After for the first N requests, from the command line") {
  SimProcess sim({"--fault", "GET /v1/saved-items status=429 retry_after=2 first=2"});
  for (int i = 0; i < 2; ++i) {
    auto r = sim_call(sim, "GET", "/v1/saved-items");
    CHECK(r.status == 429);
    CHECK(r.headers["retry-after"] == "2");
    CHECK(r.json().at("message").is_string());
  }
  CHECK(sim_call(sim, "GET", "/v1/saved-items").status == 200);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 200);  // other routes untouched
}

TEST_CASE("sim faults: 429 without Retry-After, Retry-After: 0, and 5xx") {
  SimProcess sim;
  REQUIRE(put_faults(sim, R"({"faults": ["GET /v1/account status=429 first=1",
                                          "GET /v1/account status=429 retry_after=0 first=1",
                                          "GET /v1/account status=500 first=1",
                                          "GET /v1/account status=502 first=1",
                                          "GET /v1/account status=503 first=1"]})")
              .status == 204);
  auto r = sim_call(sim, "GET", "/v1/account");
  CHECK(r.status == 429);
  CHECK(r.headers.count("retry-after") == 0);
  r = sim_call(sim, "GET", "/v1/account");
  CHECK(r.status == 429);
  CHECK(r.headers["retry-after"] == "0");
  CHECK(sim_call(sim, "GET", "/v1/account").status == 500);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 502);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 503);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 200);
  auto faults = curl("GET", sim.base_url() + "/_sim/faults").json();
  CHECK(faults.at("fired").as_int64() == 5);
}

TEST_CASE("sim faults: latency delays the answer") {
  SimProcess sim({"--fault", "GET /v1/account latency=400ms"});
  auto start = std::chrono::steady_clock::now();
  auto r = sim_call(sim, "GET", "/v1/account");
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 200);
  CHECK(elapsed >= 400ms);
  CurlOptions quick;
  quick.headers = {"Authorization: Bearer sim-dev-key"};
  quick.max_time_s = 0.2;
  CHECK(curl("GET", sim.base_url() + "/v1/account", quick).curl_exit == 28);  // the client times out
}

TEST_CASE("sim faults: a reset before answering processes nothing") {
  SimProcess sim({"--fault", "POST /v1/ai-image-generator reset first=1"});
  auto r = sim_call(sim, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})");
  CHECK(r.status == 0);
  CHECK((r.curl_exit == 56 || r.curl_exit == 52));
  CHECK(curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64() == 0);
  CHECK(sim_call(sim, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})").status ==
        200);
}

TEST_CASE("sim faults: accept-then-drop bills the create but never answers") {
  SimProcess sim({"--credits", "100", "--fault", "POST /v1/ai-image-generator drop_after first=1"});
  auto r = sim_call(sim, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})");
  CHECK(r.status == 0);
  CHECK(r.curl_exit != 0);
  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json();
  CHECK(ledger.at("jobs").as_int64() == 1);
  CHECK(ledger.at("creates").at(0).at("dropped").as_bool());
  CHECK(sim_balance(sim) == 95);
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("POST /v1/ai-image-generator").at("status").at("0").as_int64() == 1);
}

TEST_CASE("sim faults: truncated and invalid JSON bodies") {
  SimProcess sim({"--saved-items", "50"});
  REQUIRE(put_faults(sim, R"({"faults": [{"route": "GET /v1/saved-items", "kind": "truncate", "first": 1},
                                          {"route": "GET /v1/account", "kind": "bad_json", "first": 1}]})")
              .status == 204);
  auto cut = sim_call(sim, "GET", "/v1/saved-items");
  CHECK(cut.curl_exit == 18);  // partial file: fewer bytes than Content-Length
  CHECK(cut.status == 200);
  auto bad = sim_call(sim, "GET", "/v1/account");
  CHECK(bad.curl_exit == 0);
  CHECK(bad.status == 200);
  CHECK_THROWS(bad.json());
  CHECK(sim_call(sim, "GET", "/v1/account").json().at("credits").is_int64());
}

TEST_CASE("sim faults: a rate fires on a share of the requests") {
  SimProcess sim({"--seed", "7", "--fault", "GET /v1/account status=503 rate=0.5"});
  int failed = 0;
  for (int i = 0; i < 40; ++i) failed += sim_call(sim, "GET", "/v1/account").status == 503 ? 1 : 0;
  CHECK(failed > 5);
  CHECK(failed < 35);
}

TEST_CASE("sim faults: rules change at runtime and can be cleared") {
  SimProcess sim;
  CHECK(sim_call(sim, "GET", "/v1/account").status == 200);
  REQUIRE(put_faults(sim, R"("GET /v1/account status=500")", "POST").status == 204);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 500);
  REQUIRE(put_faults(sim, R"({"faults": ["GET * status=502"]})").status == 204);  // replaces
  CHECK(sim_call(sim, "GET", "/v1/account").status == 502);
  CHECK(sim_call(sim, "GET", "/v1/saved-items").status == 502);
  auto listed = curl("GET", sim.base_url() + "/_sim/faults").json();
  CHECK(listed.at("faults").as_array().size() == 1);
  CHECK(listed.at("faults").at(0).at("route").as_string() == "GET *");
  CHECK(curl("DELETE", sim.base_url() + "/_sim/faults").status == 204);
  CHECK(sim_call(sim, "GET", "/v1/account").status == 200);
  auto rejected = put_faults(sim, R"({"faults": ["GET /v1/account explode"]})");
  CHECK(rejected.status == 400);
  CHECK(rejected.json().at("message").as_string().find("unknown fault setting") != std::string::npos);
}

TEST_CASE("sim faults: a bad --fault is a usage error") {
  auto r = run_process({sim_binary(), "--fault", "GET /v1/account"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no fault kind") != std::string::npos);
  r = run_process({sim_binary(), "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--legacy-endpoints") != std::string::npos);
}
