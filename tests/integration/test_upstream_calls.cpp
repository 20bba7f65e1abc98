// The typed Magic Hour calls, their error messages, the project poller, file
// upload and download, the fair limiter, and the credit and health monitors —
// all against magichour-sim.
#include <doctest/doctest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "async/cancel.hpp"
#include "async/join.hpp"
#include "integration/sim_helpers.hpp"
#include "magichour/poller.hpp"
#include "monitor/monitors.hpp"
#include "simulator.hpp"
#include "support/temp_dir.hpp"
#include "support/upstream.hpp"

using namespace mh;
using namespace mh::test;
using namespace std::chrono_literals;
using magichour::CreateKind;
using magichour::ErrorKind;

namespace {

boost::json::object body(const std::string& json) { return boost::json::parse(json).as_object(); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

config::MonitorConfig monitor_config(std::int64_t low = 500) {
  config::MonitorConfig m;
  m.credits.interval = 100ms;
  m.credits.low_balance = low;
  m.health.interval = 100ms;
  return m;
}

}  // namespace

TEST_CASE("calls: every error class carries an actionable message") {
  SimProcess sim({"--credits", "7", "--tier", "creator"});
  const std::string key = "mhk_live_THISKEYMUSTNOTLEAK";
  {
    UpstreamOptions o;
    o.api_key = key;
    Upstream up(sim, o);
    auto e = expect_api_error([&] { up.run(up.client.account()); });
    CHECK(e.kind() == ErrorKind::auth);
    CHECK(e.status() == 401);
    CHECK(std::string(e.what()) ==
          "Magic Hour rejected the API key (401 Unauthorized) on GET /v1/account; check the key read from environment "
          "variable MAGIC_HOUR_API_KEY");
  }
  Upstream up(sim);
  auto bad = expect_api_error([&] {
    up.run(up.client.create(CreateKind::image_generator,
                            body(R"({"image_count": 1, "aspect_ratio": "4:3", "style": {"prompt": "x"}})")));
  });
  CHECK(bad.kind() == ErrorKind::bad_request);
  CHECK(std::string(bad.what()) ==
        "Magic Hour rejected the request to POST /v1/ai-image-generator (resource ai_image_generator) (400 Bad "
        "Request): Invalid request: aspect_ratio must be one of 1:1, 16:9, 9:16");
  CHECK(bad.upstream_message() == "Invalid request: aspect_ratio must be one of 1:1, 16:9, 9:16");

  auto pay = expect_api_error([&] {
    up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 2, "style": {"prompt": "x"}})")));
  });
  CHECK(pay.kind() == ErrorKind::payment);
  CHECK(std::string(pay.what()).find("insufficient credits (402 Payment Required)") != std::string::npos);

  auto forbidden = expect_api_error([&] {
    up.run(up.client.create(CreateKind::image_upscaler,
                            body(R"({"scale_factor": 4, "assets": {"image_file_path": "https://x.example/a.png"}})")));
  });
  CHECK(forbidden.kind() == ErrorKind::payment);  // 200 credits > 7: the balance is checked first
  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"tier": "free", "credits": 100000})"});
  forbidden = expect_api_error([&] {
    up.run(up.client.create(CreateKind::image_upscaler,
                            body(R"({"scale_factor": 4, "assets": {"image_file_path": "https://x.example/a.png"}})")));
  });
  CHECK(forbidden.kind() == ErrorKind::forbidden);
  CHECK(std::string(forbidden.what()).find("4x upscale is only available") != std::string::npos);

  auto unprocessable = expect_api_error([&] {
    up.run(up.client.create(CreateKind::image_generator,
                            body(R"({"image_count": 2, "model": "flux-2-klein", "style": {"prompt": "x"}})")));
  });
  CHECK(unprocessable.kind() == ErrorKind::validation);
  CHECK(std::string(unprocessable.what())
            .find("(422): Unable to create image: model 'flux-2-klein' supports image_count 1") != std::string::npos);

  auto missing = expect_api_error([&] { up.run(up.client.project("cdoesnotexist")); });
  CHECK(missing.kind() == ErrorKind::not_found);
  CHECK(std::string(missing.what()).find("/v1/image-projects/cdoesnotexist (404 Not Found); check the path") !=
        std::string::npos);

  auto before = curl("GET", sim.base_url() + "/_sim/stats").json().at("requests").as_int64();
  auto local = expect_api_error(
      [&] { up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 1, "style": {}})"))); });
  CHECK(local.kind() == ErrorKind::validation);
  CHECK(local.status() == 0);
  CHECK(std::string(local.what()).find("nothing was spent") != std::string::npos);
  CHECK(curl("GET", sim.base_url() + "/_sim/stats").json().at("requests").as_int64() == before);  // nothing sent
}

TEST_CASE("calls: 100 projects polled concurrently within the concurrency limit") {
  SimProcess sim({"--render-time", "400ms", "--credits", "100000"});
  UpstreamOptions o;
  o.max_concurrency = 8;
  Upstream up(sim, o);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(
        up.run(up.client.create(CreateKind::image_generator,
                                body(R"({"image_count": 1, "style": {"prompt": "p)" + std::to_string(i) + R"("}})")))
            .id);
  }
  int updates = 0;
  auto t = std::chrono::steady_clock::now();
  auto results = up.run(magichour::poll_projects(up.client, ids, {100ms, 10s, 1s}, {"batch", 0, ""},
                                                 [&](const magichour::Project&) { ++updates; }));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  REQUIRE(results.size() == 100);
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK(results[i].id == ids[i]);
    CHECK(results[i].outcome == "complete");
    CHECK(results[i].project->downloads.size() == 1);
  }
  CHECK(updates >= 100);
  CHECK(up.limiter.peak_in_flight() <= 8);
  CHECK(elapsed < 5.0);
  CHECK(curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64() == 100);
}

TEST_CASE("calls: the poller reports errors, timeouts, and survives 5xx while polling") {
  SimProcess sim({"--render-time", "300ms", "--error-rate", "1"});
  Upstream up(sim);
  auto failing =
      up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 1, "style": {"prompt": "x"}})")));
  auto r = up.run(magichour::poll_project(up.client, failing.id, {50ms, 5s, 1s}, {}, {}));
  CHECK(r.outcome == "error");
  CHECK(r.project->error_code == "unknown_error");

  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"error_rate": 0, "render_time_ms": 5000})"});
  auto slow =
      up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 1, "style": {"prompt": "x"}})")));
  auto t = up.run(magichour::poll_project(up.client, slow.id, {50ms, 400ms, 1s}, {}, {}));
  CHECK(t.outcome == "timeout");
  CHECK(t.project->status != "complete");

  curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"render_time_ms": 300})"});
  auto ok =
      up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 1, "style": {"prompt": "x"}})")));
  curl("PUT", sim.base_url() + "/_sim/faults",
       CurlOptions{{}, R"({"faults": ["GET /v1/image-projects/{id} status=503 first=3"]})"});
  auto survived = up.run(magichour::poll_project(up.client, ok.id, {50ms, 10s, 200ms}, {}, {}));
  CHECK(survived.outcome == "complete");

  auto gone = up.run(magichour::poll_project(up.client, "cnotaproject", {20ms, 5s, 1s}, {}, {}));
  CHECK(gone.outcome == "failed");
  CHECK(gone.error.find("404") != std::string::npos);
}

TEST_CASE("calls: cancelling wakes sleeping pollers at once and leaves the projects as they were") {
  SimProcess sim({"--render-time", "60s"});
  Upstream up(sim);
  std::vector<std::string> ids;
  for (const char* prompt : {"a", "b", "c"}) {
    auto b = body(std::string(R"({"image_count": 1, "style": {"prompt": ")") + prompt + R"("}})");
    ids.push_back(up.run(up.client.create(CreateKind::image_generator, b)).id);
  }
  async::Cancellation cancel;
  // Ten seconds between polls: without the wake-up, each poller would sleep that long.
  magichour::PollSettings ps{10s, 5min, 60s, &cancel};
  boost::asio::steady_timer later(up.io);
  later.expires_after(300ms);
  later.async_wait([&](const boost::system::error_code&) { cancel.request(); });
  auto started = std::chrono::steady_clock::now();
  auto results = up.run(magichour::poll_projects(up.client, ids, ps, {}, {}));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(elapsed < 2.0);
  for (const auto& r : results) {
    CHECK(r.outcome == "cancelled");
    CHECK_FALSE(r.project.has_value());  // asleep until cancelled: never polled
  }
  CHECK(curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64() == 3);

  // Cancelled before polling starts: no request at all.
  auto before = curl("GET", sim.base_url() + "/_sim/stats").json().at("requests").as_int64();
  auto r = up.run(magichour::poll_project(up.client, ids[0], ps, {}, {}));
  CHECK(r.outcome == "cancelled");
  CHECK(curl("GET", sim.base_url() + "/_sim/stats").json().at("requests").as_int64() == before);
}

TEST_CASE("calls: upload a file, upscale it, download the result with a matching SHA-256") {
  SimProcess sim({"--render-time", "200ms"});
  Upstream up(sim);
  TempDir dir;
  std::string input = dir.write("photo.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(300'000, 'q'));
  auto slots = up.run(up.client.upload_urls({{"image", "png"}}));
  REQUIRE(slots.size() == 1);
  up.run(up.client.upload_file(slots[0], input));
  auto created = up.run(
      up.client.create(CreateKind::image_upscaler,
                       body(R"({"scale_factor": 2, "style": {"mode": "preserve"}, "assets": {"image_file_path": ")" +
                            slots[0].file_path + R"("}})")));
  CHECK(created.credits_charged == 25);
  auto polled = up.run(magichour::poll_project(up.client, created.id, {50ms, 10s, 1s}, {}, {}));
  REQUIRE(polled.outcome == "complete");
  std::string out = dir.path() + "/result.png";
  auto file = up.run(up.client.download(polled.project->downloads.at(0).url, out));
  std::string bytes = slurp(out);
  CHECK(bytes == sim::output_bytes(created.id, 0));
  CHECK(file.bytes == bytes.size());
  CHECK(file.sha256 == sha256_hex(bytes));
  CHECK_FALSE(std::filesystem::exists(out + ".part"));

  // The upload went through unauthenticated; the simulator received exactly our bytes.
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("PUT /uploads/{path}").at("status").at("200").as_int64() == 1);
}

TEST_CASE("calls: a download is retried when the connection drops") {
  SimProcess sim({"--render-time", "50ms", "--fault", "GET /outputs/{id}/{file} reset first=1"});
  Upstream up(sim);
  TempDir dir;
  auto created =
      up.run(up.client.create(CreateKind::image_generator, body(R"({"image_count": 1, "style": {"prompt": "x"}})")));
  auto polled = up.run(magichour::poll_project(up.client, created.id, {50ms, 10s, 1s}, {}, {}));
  auto file = up.run(up.client.download(polled.project->downloads.at(0).url, dir.path() + "/a.png"));
  CHECK(file.sha256 == sha256_hex(sim::output_bytes(created.id, 0)));
}

TEST_CASE("calls: the API key is sent to base_url's origin only") {
  SimProcess sim;
  Upstream up(sim);
  auto e = expect_api_error([&] { up.run(up.client.get_json("GET /v1/x", "http://evil.example:8080/v1/account")); });
  CHECK(e.kind() == ErrorKind::protocol);
  CHECK(std::string(e.what()).find("refusing to send the API key to http://evil.example:8080") != std::string::npos);
  auto ok = up.run(up.client.get_json("GET /v1/account", sim.base_url() + "/v1/account"));
  CHECK(ok.status == 200);
}

TEST_CASE("monitor: credits from /v1/account, falling back to /v1/credits on 404, remembered") {
  SimProcess sim({"--credits", "300"});
  Upstream up(sim);
  {
    monitor::CreditMonitor credits(up.io, up.client, monitor_config(500), &up.metrics);
    up.run(credits.refresh());
    CHECK(credits.state().balance == 300);
    CHECK(credits.state().source == "/v1/account");
    CHECK(credits.state().low);
    up.run(credits.refresh());
    CHECK(up.logs.count("credit balance is low") == 1);  // one line per transition, not per tick
    curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"credits": 900})"});
    up.run(credits.refresh());
    CHECK_FALSE(credits.state().low);
    CHECK(up.logs.count("credit balance recovered") == 1);
    auto m = up.metrics.serialize();
    CHECK(m.find("mhloader_credits_balance 900") != std::string::npos);
    CHECK(m.find("mhloader_credits_low 0") != std::string::npos);
  }
  curl("PUT", sim.base_url() + "/_sim/faults", CurlOptions{{}, R"({"faults": ["GET /v1/account status=404"]})"});
  monitor::CreditMonitor legacy(up.io, up.client, monitor_config(), &up.metrics);
  up.run(legacy.refresh());
  up.run(legacy.refresh());
  CHECK(legacy.state().balance == 900);
  CHECK(legacy.state().source == "/v1/credits");
  auto faults = curl("GET", sim.base_url() + "/_sim/faults").json();
  CHECK(faults.at("faults").at(0).at("matched").as_int64() == 1);  // /v1/account was asked once, then not again

  auto fresh = up.run(legacy.fresh(1h));
  REQUIRE(fresh);
  CHECK(fresh->balance == 900);
}

TEST_CASE("monitor: a balance that cannot be read leaves fresh() empty") {
  SimProcess sim({"--legacy-endpoints", "off", "--fault", "GET /v1/account status=401"});
  Upstream up(sim);
  monitor::CreditMonitor credits(up.io, up.client, monitor_config(), &up.metrics);
  auto fresh = up.run(credits.fresh(1s));
  CHECK_FALSE(fresh);
  CHECK(credits.state().last_error.find("401") != std::string::npos);
}

TEST_CASE("monitor: health from /v1/status, falling back to the /v1/account probe on 404") {
  SimProcess sim;
  Upstream up(sim);
  {
    monitor::HealthMonitor health(up.io, up.client, monitor_config(), &up.metrics);
    up.run(health.probe());
    CHECK(health.state().up);
    CHECK(health.state().probe == "/v1/status");
    CHECK(health.state().upstream.at("status").as_string() == "operational");
    CHECK(up.metrics.serialize().find("mhloader_upstream_up 1") != std::string::npos);

    curl("PUT", sim.base_url() + "/_sim/faults", CurlOptions{{}, R"({"faults": ["GET /v1/status status=503"]})"});
    up.run(health.probe());
    up.run(health.probe());
    CHECK_FALSE(health.state().up);
    CHECK(health.state().consecutive_failures == 2);
    CHECK(health.state().http_status == 503);
    CHECK(up.logs.count("Magic Hour API is down") == 1);
    CHECK(up.metrics.serialize().find("mhloader_upstream_up 0") != std::string::npos);
    curl("DELETE", sim.base_url() + "/_sim/faults");
    up.run(health.probe());
    CHECK(health.state().up);
    CHECK(up.logs.count("Magic Hour API is up") == 2);
  }
  SimProcess real_like({"--legacy-endpoints", "off"});
  Upstream up2(real_like);
  monitor::HealthMonitor health(up2.io, up2.client, monitor_config(), &up2.metrics);
  up2.run(health.probe());
  CHECK(health.state().up);
  CHECK(health.state().probe == "/v1/account");
  up2.run(health.probe());
  auto stats = curl("GET", real_like.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("GET /v1/status").at("requests").as_int64() == 1);  // remembered
}

TEST_CASE("monitor: the periodic loops tick on their interval") {
  SimProcess sim;
  Upstream up(sim);
  monitor::CreditMonitor credits(up.io, up.client, monitor_config(), &up.metrics);
  monitor::HealthMonitor health(up.io, up.client, monitor_config(), &up.metrics);
  credits.start();
  health.start();
  boost::asio::steady_timer t(up.io);
  t.expires_after(550ms);
  up.run(t.async_wait(boost::asio::use_awaitable));
  credits.stop();
  health.stop();
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  auto account = stats.at("routes").at("GET /v1/account").at("requests").as_int64();
  auto status = stats.at("routes").at("GET /v1/status").at("requests").as_int64();
  CHECK(account >= 4);
  CHECK(account <= 8);
  CHECK(status >= 4);
  CHECK(status <= 8);
}

TEST_CASE("metrics: the upstream families in Prometheus text format") {
  SimProcess sim({"--fault", "GET /v1/account status=502 first=1"});
  Upstream up(sim);
  up.run(up.client.account());
  std::string m = up.metrics.serialize();
  CHECK(m.find("# TYPE mhloader_upstream_requests_total counter") != std::string::npos);
  CHECK(m.find(R"(mhloader_upstream_requests_total{code="200",endpoint="GET /v1/account"} 1)") != std::string::npos);
  CHECK(m.find(R"(mhloader_upstream_requests_total{code="502",endpoint="GET /v1/account"} 1)") != std::string::npos);
  CHECK(m.find("# TYPE mhloader_upstream_request_duration_seconds histogram") != std::string::npos);
  CHECK(m.find(R"(mhloader_upstream_request_duration_seconds_count{endpoint="GET /v1/account"} 2)") !=
        std::string::npos);
  CHECK(m.find(R"(mhloader_build_info{revision="test",version="test"} 1)") != std::string::npos);
  CHECK(m.find(R"(mhloader_credits_charged_total{resource="ai_image_generator"} 0)") != std::string::npos);
  CHECK(m.find("mhloader_upstream_up 0") != std::string::npos);
  CHECK(m.find("sim-dev-key") == std::string::npos);
}
