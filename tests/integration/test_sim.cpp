// magichour-sim over real HTTP (curl): every endpoint's success path and the
// documented error statuses, billing and refunds, uploads, downloads, paging, TLS.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <set>
#include <thread>

#include "integration/sim_helpers.hpp"
#include "simulator.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_files.hpp"

using namespace mh::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
std::string message_of(const CurlResponse& r) { return std::string(r.json().at("message").as_string()); }
}  // namespace

TEST_CASE("sim: Bearer auth, JSON 404s, unknown headers ignored") {
  SimProcess sim({"--api-key", "key-one", "--api-key", "key-two"});
  auto r = sim_call(sim, "GET", "/v1/account", std::nullopt, "");
  CHECK(r.status == 401);
  CHECK(r.body == R"({"message":"Unauthorized"})");
  CHECK(sim_call(sim, "GET", "/v1/account", std::nullopt, "wrong").status == 401);
  CHECK(sim_call(sim, "GET", "/v1/account", std::nullopt, "key-two").status == 200);

  CurlOptions o;
  o.headers = {"Authorization: bearer key-one", "x-sideko-sdk-language: Python", "X-Whatever: 1"};
  auto ok = curl("GET", sim.base_url() + "/v1/account", o);
  CHECK(ok.status == 200);
  CHECK(ok.headers["content-type"] == "application/json");

  auto missing = sim_call(sim, "GET", "/v1/no-such-thing", std::nullopt, "key-one");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"message":"Not Found"})");
  CHECK(sim_call(sim, "GET", "/v1/ai-image-generator", std::nullopt, "key-one").status == 404);
}

TEST_CASE("sim: /v1/account has the documented shape per tier") {
  SimProcess pro({"--credits", "12500", "--tier", "pro"});
  auto a = sim_call(pro, "GET", "/v1/account").json().as_object();
  CHECK(a.at("credits").as_int64() == 12500);
  CHECK(a.at("tier").as_string() == "pro");
  CHECK(a.at("id").is_string());
  CHECK(a.at("email").is_string());
  const auto& s = a.at("subscription").as_object();
  CHECK(s.at("name").as_string() == "Pro");
  CHECK(s.at("status").as_string() == "active");
  CHECK(s.at("price").at("currency").as_string() == "usd");
  CHECK(s.at("cancel_at_period_end").is_bool());

  SimProcess free({"--tier", "free"});
  auto f = sim_call(free, "GET", "/v1/account").json().as_object();
  CHECK(f.at("tier").as_string() == "free");
  CHECK(f.at("subscription").is_null());
}

TEST_CASE("sim: a generation is billed at create and moves queued -> rendering -> complete") {
  SimProcess sim({"--render-time", "600ms", "--credits", "1000"});
  auto r =
      sim_call(sim, "POST", "/v1/ai-image-generator",
               R"({"image_count": 2, "model": "flux-schnell", "aspect_ratio": "16:9", "style": {"prompt": "Sunset"},
                        "unknown_field": {"ignored": true}})");
  REQUIRE(r.status == 200);
  auto created = r.json().as_object();
  std::string id(created.at("id").as_string());
  CHECK(created.at("credits_charged").as_int64() == 10);
  CHECK(created.at("frame_cost").as_int64() == 10);
  CHECK(sim_balance(sim) == 990);

  auto first = sim_call(sim, "GET", "/v1/image-projects/" + id).json().as_object();
  CHECK(first.at("status").as_string() == "queued");
  CHECK(first.at("downloads").as_array().empty());
  CHECK(first.at("error").is_null());
  std::this_thread::sleep_for(250ms);
  CHECK(sim_call(sim, "GET", "/v1/image-projects/" + id).json().at("status").as_string() == "rendering");

  auto done = wait_for_project(sim, id);
  CHECK(done.at("status").as_string() == "complete");
  CHECK(done.at("type").as_string() == "AI_IMAGE");
  CHECK(done.at("image_count").as_int64() == 2);
  CHECK(done.at("enabled").as_bool());
  CHECK(done.at("credits_charged").as_int64() == 10);
  CHECK(done.at("total_frame_cost").as_int64() == 10);
  const auto& downloads = done.at("downloads").as_array();
  REQUIRE(downloads.size() == 2);
  for (std::size_t i = 0; i < downloads.size(); ++i) {
    std::string url(downloads[i].at("url").as_string());
    CHECK(url.rfind(sim.base_url() + "/outputs/" + id + "/", 0) == 0);
    CHECK(downloads[i].at("expires_at").as_string().size() == 24);
    auto file = curl("GET", url);  // a signed URL: no Authorization header
    CHECK(file.status == 200);
    CHECK(file.headers["content-type"] == "image/png");
    CHECK(file.body == mh::sim::output_bytes(id, static_cast<int>(i)));
    CHECK(file.body.rfind("\x89PNG", 0) == 0);
  }
  std::string first_url(downloads[0].at("url").as_string());
  CHECK(curl("GET", first_url.substr(0, first_url.find('?')) + "?auth-token=forged").status == 403);
}

TEST_CASE("sim: generator validation follows the spec (400, 422, 402, 403)") {
  SimProcess sim({"--credits", "7", "--tier", "creator"});
  auto post = [&](const std::string& body) { return sim_call(sim, "POST", "/v1/ai-image-generator", body); };

  auto r = sim_call(sim, "POST", "/v1/ai-image-generator", std::string());
  CHECK(r.status == 400);
  CHECK(message_of(r) == "Missing request body");
  CHECK(post("{not json").status == 400);
  r = post(R"({"style": {"prompt": "x"}})");
  CHECK(r.status == 400);
  CHECK(message_of(r).find("image_count") != std::string::npos);
  r = post(R"({"image_count": 17, "style": {"prompt": "x"}})");
  CHECK(r.status == 400);
  CHECK(message_of(r).find("between 1 and 16") != std::string::npos);
  CHECK(post(R"({"image_count": "one", "style": {"prompt": "x"}})").status == 400);
  r = post(R"({"image_count": 1, "aspect_ratio": "4:3", "style": {"prompt": "x"}})");
  CHECK(r.status == 400);
  CHECK(message_of(r).find("aspect_ratio must be one of 1:1, 16:9, 9:16") != std::string::npos);
  CHECK(post(R"({"image_count": 1, "model": "dall-e", "style": {"prompt": "x"}})").status == 400);
  CHECK(post(R"({"image_count": 1, "resolution": "8k", "style": {"prompt": "x"}})").status == 400);
  r = post(R"({"image_count": 1})");
  CHECK(r.status == 400);
  CHECK(message_of(r).find("style is required") != std::string::npos);
  r = post(R"({"image_count": 1, "style": {"prompt": ""}})");
  CHECK(r.status == 400);
  CHECK(message_of(r).find("style.prompt") != std::string::npos);
  CHECK(post(R"({"image_count": 1, "style": {"prompt": "x", "tool": "crayon"}})").status == 400);

  r = post(R"({"image_count": 2, "model": "flux-2-klein", "style": {"prompt": "x"}})");
  CHECK(r.status == 422);
  CHECK(message_of(r).find("supports image_count 1") != std::string::npos);
  r = post(R"({"image_count": 1, "model": "flux-schnell", "resolution": "4k", "style": {"prompt": "x"}})");
  CHECK(r.status == 422);
  CHECK(message_of(r).find("resolution '4k' is not available") != std::string::npos);

  r = post(R"({"image_count": 2, "model": "flux-schnell", "style": {"prompt": "x"}})");  // 10 > 7
  CHECK(r.status == 402);
  CHECK(message_of(r) == "Payment required");
  CHECK(sim_balance(sim) == 7);

  // Deprecated fields are still accepted; quality_mode picks a model when none is given.
  r = post(R"({"image_count": 1, "orientation": "landscape", "style": {"prompt": "x", "quality_mode": "standard"}})");
  CHECK(r.status == 200);
  CHECK(r.json().at("credits_charged").as_int64() == 5);

  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json();
  CHECK(ledger.at("jobs").as_int64() == 1);
}

TEST_CASE("sim: plan tiers gate models, resolutions and 4x upscales (403)") {
  SimProcess sim({"--tier", "free"});
  auto r = sim_call(sim, "POST", "/v1/ai-image-generator",
                    R"({"image_count": 1, "model": "nano-banana-pro", "style": {"prompt": "x"}})");
  CHECK(r.status == 403);
  CHECK(message_of(r).find("Upgrade to Creator") != std::string::npos);
  r = sim_call(sim, "POST", "/v1/ai-image-generator",
               R"({"image_count": 1, "model": "flux-schnell", "resolution": "2k", "style": {"prompt": "x"}})");
  CHECK(r.status == 403);
  r = sim_call(sim, "POST", "/v1/ai-image-upscaler",
               R"({"scale_factor": 4, "assets": {"image_file_path": "https://example.com/a.png"}})");
  CHECK(r.status == 403);
  CHECK(message_of(r).find("4x upscale") != std::string::npos);
  r = sim_call(sim, "POST", "/v1/ai-image-upscaler",
               R"({"scale_factor": 2, "assets": {"image_file_path": "https://example.com/a.png"}})");
  CHECK(r.status == 200);
  CHECK(r.json().at("credits_charged").as_int64() == 50);  // balanced is the default mode
}

TEST_CASE("sim: a failed render refunds its credits") {
  SimProcess sim({"--error-rate", "1", "--render-time", "200ms", "--credits", "100"});
  auto r = sim_call(sim, "POST", "/v1/ai-image-generator", R"({"image_count": 4, "style": {"prompt": "x"}})");
  REQUIRE(r.status == 200);
  std::string id(r.json().at("id").as_string());
  CHECK(sim_balance(sim) == 80);
  auto p = wait_for_project(sim, id);
  CHECK(p.at("status").as_string() == "error");
  CHECK(p.at("error").at("code").is_string());
  CHECK(p.at("error").at("message").is_string());
  CHECK(p.at("credits_charged").as_int64() == 0);
  CHECK(p.at("downloads").as_array().empty());
  CHECK(sim_balance(sim) == 100);
  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json();
  CHECK(ledger.at("credits_debited").as_int64() == 20);
  CHECK(ledger.at("credits_refunded").as_int64() == 20);
  CHECK(ledger.at("creates").at(0).at("status").as_string() == "error");
}

TEST_CASE("sim: upload URLs, the PUT upload, then an upscale of the uploaded file") {
  SimProcess sim({"--render-time", "100ms", "--credits", "1000"});
  auto bad = sim_call(sim, "POST", "/v1/files/upload-urls", R"({"items": [{"type": "audio", "extension": "mp4"}]})");
  CHECK(bad.status == 422);
  CHECK(
      message_of(bad) ==
      "'mp4' is an invalid audio extension. Possible extensions are 'mp3, wav, aac, flac, webm, weba, m4a, opus, ogg, "
      "oga, aiff, amr'");
  CHECK(sim_call(sim, "POST", "/v1/files/upload-urls", R"({"items": []})").status == 400);

  auto r = sim_call(sim, "POST", "/v1/files/upload-urls",
                    R"({"items": [{"type": "image", "extension": "png"}, {"type": "image", "extension": "jpg"}]})");
  REQUIRE(r.status == 200);
  auto doc = r.json();
  const auto& items = doc.at("items").as_array();
  REQUIRE(items.size() == 2);
  std::string upload_url(items[0].at("upload_url").as_string());
  std::string file_path(items[0].at("file_path").as_string());
  CHECK(file_path.rfind("api-assets/", 0) == 0);
  CHECK(file_path.substr(file_path.size() - 4) == ".png");
  CHECK(std::string(items[1].at("file_path").as_string()).substr(file_path.size() - 4) == ".jpg");
  CHECK(items[0].at("expires_at").is_string());

  std::string upscale =
      R"({"scale_factor": 2, "style": {"mode": "preserve"}, "assets": {"image_file_path": ")" + file_path + R"("}})";
  auto early = sim_call(sim, "POST", "/v1/ai-image-upscaler", upscale);
  CHECK(early.status == 422);
  CHECK(message_of(early).find("has not been uploaded") != std::string::npos);

  TempDir dir;
  std::string image = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(5000, 'x');
  CurlOptions put;
  put.body_file = dir.write("in.png", image);
  CHECK(curl("PUT", upload_url.substr(0, upload_url.find('?')) + "?auth-value=wrong", put).status == 403);
  CHECK(curl("PUT", upload_url, put).status == 200);  // no Authorization header

  auto ok = sim_call(sim, "POST", "/v1/ai-image-upscaler", upscale);
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("credits_charged").as_int64() == 25);
  auto p = wait_for_project(sim, std::string(ok.json().at("id").as_string()));
  CHECK(p.at("status").as_string() == "complete");
  CHECK(p.at("type").as_string() == "IMAGE_UPSCALER");
  CHECK(p.at("downloads").as_array().size() == 1);

  auto creative4 = sim_call(sim, "POST", "/v1/ai-image-upscaler",
                            R"({"scale_factor": 4, "style": {"mode": "creative", "prompt": "sharper"},
                                "assets": {"image_file_path": "https://example.com/photo.jpg"}})");
  CHECK(creative4.json().at("credits_charged").as_int64() == 200);
  auto enhancement = sim_call(sim, "POST", "/v1/ai-image-upscaler",
                              R"({"scale_factor": 2, "style": {"enhancement": "Resemblance"},
                                  "assets": {"image_file_path": "https://example.com/photo.jpg"}})");
  CHECK(enhancement.json().at("credits_charged").as_int64() == 25);
  CHECK(sim_call(sim, "POST", "/v1/ai-image-upscaler", R"({"scale_factor": 3, "assets": {"image_file_path": "a"}})")
            .status == 400);
  CHECK(sim_call(sim, "POST", "/v1/ai-image-upscaler", R"({"scale_factor": 2})").status == 400);
  CHECK(sim_call(sim, "POST", "/v1/ai-image-upscaler",
                 R"({"scale_factor": 2, "style": {"mode": "wild"}, "assets": {"image_file_path": "https://x/a.png"}})")
            .status == 400);
  CHECK(sim_call(sim, "POST", "/v1/ai-image-upscaler",
                 R"({"scale_factor": 2, "assets": {"image_file_path": "https://example.com/noext"}})")
            .status == 422);
}

TEST_CASE("sim: DELETE disables a project and unknown ids are 404") {
  SimProcess sim({"--render-time", "50ms"});
  auto r = sim_call(sim, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})");
  std::string id(r.json().at("id").as_string());
  auto done = wait_for_project(sim, id);
  std::string url(done.at("downloads").at(0).at("url").as_string());
  auto del = sim_call(sim, "DELETE", "/v1/image-projects/" + id);
  CHECK(del.status == 204);
  CHECK(del.body.empty());
  auto after = sim_call(sim, "GET", "/v1/image-projects/" + id);
  CHECK(after.status == 200);
  CHECK_FALSE(after.json().at("enabled").as_bool());
  CHECK(after.json().at("downloads").as_array().empty());
  CHECK(curl("GET", url).status == 404);
  CHECK(sim_call(sim, "DELETE", "/v1/image-projects/" + id).status == 404);
  auto unknown = sim_call(sim, "GET", "/v1/image-projects/cnosuchproject000000000000");
  CHECK(unknown.status == 404);
  CHECK(unknown.body == R"({"message":"Not Found"})");
}

TEST_CASE("sim: saved items page by cursor, newest first, every item once") {
  SimProcess sim({"--saved-items", "250"});
  std::set<std::string> ids;
  std::string cursor;
  std::vector<std::size_t> pages;
  std::string previous_created = "9999";
  for (int guard = 0; guard < 10; ++guard) {
    auto r = sim_call(sim, "GET", "/v1/saved-items?limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(r.status == 200);
    auto page = r.json().as_object();
    const auto& items = page.at("items").as_array();
    pages.push_back(items.size());
    for (const auto& item : items) {
      const auto& o = item.as_object();
      CHECK(o.size() == 12);
      CHECK(o.at("asset").is_object());
      CHECK(o.at("tags").as_array().size() == 2);
      std::string created(o.at("created_at").as_string());
      CHECK(created < previous_created);
      previous_created = created;
      ids.insert(std::string(o.at("id").as_string()));
    }
    if (page.at("next_cursor").is_null()) break;
    cursor = std::string(page.at("next_cursor").as_string());
  }
  CHECK(pages == std::vector<std::size_t>{100, 100, 50});
  CHECK(ids.size() == 250);

  auto def = sim_call(sim, "GET", "/v1/saved-items").json();
  CHECK(def.at("items").as_array().size() == 20);
  auto voices = sim_call(sim, "GET", "/v1/saved-items?type=voice&limit=100").json();
  CHECK(voices.at("items").as_array().size() == 50);
  for (const auto& v : voices.at("items").as_array()) CHECK(v.at("type").as_string() == "voice");
  CHECK(sim_call(sim, "GET", "/v1/saved-items?limit=101").status == 400);
  CHECK(sim_call(sim, "GET", "/v1/saved-items?limit=0").status == 400);
  CHECK(sim_call(sim, "GET", "/v1/saved-items?cursor=garbage").status == 400);
  CHECK(sim_call(sim, "GET", "/v1/saved-items?type=robot").status == 400);

  SimProcess same({"--saved-items", "250"});  // deterministic across runs with one seed
  CHECK(sim_call(same, "GET", "/v1/saved-items?limit=5").body == sim_call(sim, "GET", "/v1/saved-items?limit=5").body);
}

TEST_CASE("sim: legacy endpoints of the dlt page, and off like the real API") {
  SimProcess on({"--credits", "4321"});
  auto credits = sim_call(on, "GET", "/v1/credits");
  CHECK(credits.status == 200);
  CHECK(credits.json().at("credits").as_int64() == 4321);
  auto models = sim_call(on, "GET", "/v1/models").json();
  CHECK(models.at("data").as_array().size() >= 10);
  CHECK(models.at("data").at(0).at("id").is_string());
  auto status = sim_call(on, "GET", "/v1/status");
  CHECK(status.status == 200);
  CHECK(status.json().at("status").as_string() == "operational");

  SimProcess off({"--legacy-endpoints", "off"});
  for (const char* p : {"/v1/credits", "/v1/models", "/v1/status"}) {
    auto r = sim_call(off, "GET", p);
    CHECK(r.status == 404);
    CHECK(r.body == R"({"message":"Not Found"})");
  }
  CHECK(sim_call(off, "GET", "/v1/account").status == 200);
}

TEST_CASE("sim: runtime state changes through /_sim/state") {
  SimProcess sim;
  auto r = curl("POST", sim.base_url() + "/_sim/state",
                CurlOptions{{"Content-Type: application/json"}, R"({"credits": 3, "legacy_endpoints": false})"});
  CHECK(r.status == 200);
  CHECK(sim_balance(sim) == 3);
  CHECK(sim_call(sim, "GET", "/v1/credits").status == 404);
  CHECK(curl("POST", sim.base_url() + "/_sim/state", CurlOptions{{}, R"({"tier": "emperor"})"}).status == 400);
}

TEST_CASE("sim: the ledger records every create with its body hash and stats count routes") {
  SimProcess sim({"--render-time", "50ms"});
  std::string body = R"({"image_count": 1, "style": {"prompt": "ledger"}})";
  auto a = sim_call(sim, "POST", "/v1/ai-image-generator", body);
  auto b = sim_call(sim, "POST", "/v1/ai-image-generator", body);
  CHECK(a.json().at("id") != b.json().at("id"));
  sim_call(sim, "GET", "/v1/account", std::nullopt, "wrong");
  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json().as_object();
  CHECK(ledger.at("jobs").as_int64() == 2);
  const auto& creates = ledger.at("creates").as_array();
  CHECK(creates.at(0).at("body_sha256").as_string() == sha256_hex(body));
  CHECK(creates.at(0).at("endpoint").as_string() == "ai-image-generator");
  CHECK(creates.at(0).at("credits_debited").as_int64() == 5);
  CHECK_FALSE(creates.at(0).at("dropped").as_bool());

  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json().as_object();
  const auto& gen = stats.at("routes").at("POST /v1/ai-image-generator").as_object();
  CHECK(gen.at("requests").as_int64() == 2);
  CHECK(gen.at("status").at("200").as_int64() == 2);
  CHECK(stats.at("routes").at("GET /v1/account").at("status").at("401").as_int64() == 1);
}

TEST_CASE("sim: HTTPS with a throwaway CA") {
  TempDir dir;
  TlsFiles tls = make_tls_files(dir);
  SimProcess sim({"--tls-cert", tls.cert, "--tls-key", tls.key, "--render-time", "50ms"});
  CHECK(sim.base_url().rfind("https://127.0.0.1:", 0) == 0);
  CurlOptions o;
  o.cacert = tls.ca;
  o.headers = {"Authorization: Bearer sim-dev-key"};
  auto r = curl("GET", sim.base_url() + "/v1/account", o);
  CHECK(r.status == 200);
  CHECK(r.json().at("credits").is_int64());

  auto untrusted = curl("GET", sim.base_url() + "/v1/account", CurlOptions{{"Authorization: Bearer sim-dev-key"}});
  CHECK(untrusted.curl_exit == 60);  // certificate problem: the CA is not trusted

  o.headers.push_back("Content-Type: application/json");
  o.body = R"({"image_count": 1, "style": {"prompt": "tls"}})";
  auto created = curl("POST", sim.base_url() + "/v1/ai-image-generator", o);
  REQUIRE(created.status == 200);
  std::this_thread::sleep_for(200ms);
  o.body.reset();
  auto p = curl("GET", sim.base_url() + "/v1/image-projects/" + std::string(created.json().at("id").as_string()), o);
  std::string url(p.json().at("downloads").at(0).at("url").as_string());
  CHECK(url.rfind("https://", 0) == 0);
  CurlOptions dl;
  dl.cacert = tls.ca;
  CHECK(curl("GET", url, dl).status == 200);
}

TEST_CASE("sim: the HTTP server answers oversized headers with 431 and malformed requests with 400") {
  SimProcess sim;
  CurlOptions o;
  o.headers = {"Authorization: Bearer sim-dev-key", "X-Big: " + std::string(20 * 1024, 'a')};
  auto r = curl("GET", sim.base_url() + "/v1/account", o);
  CHECK(r.status == 431);
  CHECK(r.headers["content-type"] == "application/problem+json");
  auto nc = run_process({"/bin/bash", "-c",
                         "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(sim.port()) +
                             "; printf 'NOT HTTP AT ALL\\r\\n\\r\\n' >&3; timeout 5 head -c 12 <&3"});
  CHECK(nc.out == "HTTP/1.1 400");
  CHECK(sim_call(sim, "GET", "/v1/account").status == 200);  // still serving
}
