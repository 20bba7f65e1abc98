// Contract test: magichour-sim's responses against the field names and types of
// the official OpenAPI spec (../shared/magichour-openapi.json, where present),
// plus the deprecated fields the SDKs still require; and the model catalogue
// (prices, tiers, counts, enums) against the spec's descriptions.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "integration/sim_helpers.hpp"
#include "magichour/catalog.hpp"

using namespace mh::test;
namespace json = boost::json;

namespace {

const std::string kSpecPath = MHLOADER_SOURCE_DIR "/../shared/magichour-openapi.json";

std::optional<json::value> load_spec() {
  std::ifstream in(kSpecPath);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

const json::value& response_schema(const json::value& spec, const std::string& path, const std::string& method,
                                   const std::string& status) {
  return spec.at("paths")
      .at(path)
      .at(method)
      .at("responses")
      .at(status)
      .at("content")
      .at("application/json")
      .at("schema");
}

const json::value& request_properties(const json::value& spec, const std::string& path) {
  return spec.at("paths")
      .at(path)
      .at("post")
      .at("requestBody")
      .at("content")
      .at("application/json")
      .at("schema")
      .at("properties");
}

// Checks `v` against the subset of JSON Schema the spec uses; failures name the JSON path.
void check_schema(const json::value& schema, const json::value& v, const std::string& where) {
  CAPTURE(where);
  const auto& s = schema.as_object();
  if (v.is_null()) {
    CHECK_MESSAGE(s.contains("nullable"), where << " is null but not nullable");
    return;
  }
  std::string type = s.contains("type") ? std::string(s.at("type").as_string()) : "";
  if (type == "object") {
    REQUIRE_MESSAGE(v.is_object(), where << " should be an object");
    const auto& o = v.as_object();
    if (auto* req = s.if_contains("required")) {
      for (const auto& k : req->as_array()) CHECK_MESSAGE(o.contains(k.as_string()), where << "." << k.as_string());
    }
    if (auto* props = s.if_contains("properties")) {
      for (const auto& p : props->as_object()) {
        if (auto* child = o.if_contains(p.key())) check_schema(p.value(), *child, where + "." + std::string(p.key()));
      }
    }
  } else if (type == "array") {
    REQUIRE_MESSAGE(v.is_array(), where << " should be an array");
    std::size_t i = 0;
    for (const auto& item : v.as_array()) check_schema(s.at("items"), item, where + "[" + std::to_string(i++) + "]");
  } else if (type == "string") {
    REQUIRE_MESSAGE(v.is_string(), where << " should be a string");
    std::string str(v.as_string());
    if (auto* e = s.if_contains("enum")) {
      bool found = false;
      for (const auto& x : e->as_array()) found = found || x.as_string() == str;
      CHECK_MESSAGE(found, where << " = '" << str << "' is not in the enum");
    }
    if (auto* f = s.if_contains("format")) {
      if (f->as_string() == "date-time") {
        CHECK_MESSAGE(std::regex_match(str, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")),
                      where << " = " << str);
      } else if (f->as_string() == "uri") {
        CHECK_MESSAGE((str.rfind("http://", 0) == 0 || str.rfind("https://", 0) == 0), where << " = " << str);
      }
    }
  } else if (type == "integer") {
    CHECK_MESSAGE((v.is_int64() || v.is_uint64()), where << " should be an integer");
  } else if (type == "number") {
    CHECK_MESSAGE(v.is_number(), where << " should be a number");
  } else if (type == "boolean") {
    CHECK_MESSAGE(v.is_bool(), where << " should be a boolean");
  }
}

std::vector<std::string> strings(const json::value& arr) {
  std::vector<std::string> out;
  for (const auto& x : arr.as_array()) out.emplace_back(x.as_string());
  return out;
}

}  // namespace

TEST_CASE("contract: create and project responses match the OpenAPI spec, with the deprecated fields") {
  auto spec = load_spec();
  if (!spec) {
    MESSAGE("skipped: " << kSpecPath << " is not present");
    return;
  }
  SimProcess sim({"--render-time", "100ms", "--error-rate", "0", "--credits", "100000"});

  auto gen = sim_call(sim, "POST", "/v1/ai-image-generator",
                      R"({"name": "Contract", "image_count": 1, "model": "default", "aspect_ratio": "1:1",
                          "resolution": "auto", "style": {"prompt": "Cool image", "tool": "ai-anime-generator"}})");
  REQUIRE(gen.status == 200);
  check_schema(response_schema(*spec, "/v1/ai-image-generator", "post", "200"), gen.json(), "create");
  CHECK(gen.json().at("frame_cost").is_int64());

  auto up = sim_call(sim, "POST", "/v1/ai-image-upscaler",
                     R"({"name": "Upscale", "scale_factor": 2, "style": {"mode": "balanced"},
                         "assets": {"image_file_path": "https://example.com/id/1234.png"}})");
  REQUIRE(up.status == 200);
  check_schema(response_schema(*spec, "/v1/ai-image-upscaler", "post", "200"), up.json(), "upscale");
  CHECK(up.json().at("frame_cost").is_int64());

  const auto& project_schema = response_schema(*spec, "/v1/image-projects/{id}", "get", "200");
  auto queued = sim_call(sim, "GET", "/v1/image-projects/" + std::string(gen.json().at("id").as_string()));
  check_schema(project_schema, queued.json(), "project(queued)");
  auto done = wait_for_project(sim, std::string(gen.json().at("id").as_string()));
  CHECK(done.at("status").as_string() == "complete");
  check_schema(project_schema, done, "project(complete)");
  CHECK(done.at("total_frame_cost").is_int64());
  CHECK(done.at("name").as_string() == "Contract");

  auto uploads =
      sim_call(sim, "POST", "/v1/files/upload-urls", R"({"items": [{"type": "video", "extension": "mp4"}]})");
  check_schema(response_schema(*spec, "/v1/files/upload-urls", "post", "200"), uploads.json(), "upload-urls");

  SimProcess failing({"--render-time", "50ms", "--error-rate", "1"});
  auto bad = sim_call(failing, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})");
  auto errored = wait_for_project(failing, std::string(bad.json().at("id").as_string()));
  CHECK(errored.at("status").as_string() == "error");
  check_schema(project_schema, errored, "project(error)");
}

TEST_CASE("contract: error bodies match the spec for every documented status") {
  auto spec = load_spec();
  if (!spec) {
    MESSAGE("skipped: " << kSpecPath << " is not present");
    return;
  }
  SimProcess sim({"--credits", "1", "--tier", "creator"});
  const std::string gen = "/v1/ai-image-generator";
  struct Case {
    std::string status;
    CurlResponse response;
  };
  std::vector<Case> cases{
      {"400", sim_call(sim, "POST", gen, std::string())},
      {"401", sim_call(sim, "POST", gen, R"({"image_count": 1, "style": {"prompt": "x"}})", "nope")},
      {"402", sim_call(sim, "POST", gen, R"({"image_count": 1, "style": {"prompt": "x"}})")},
      {"422", sim_call(sim, "POST", gen, R"({"image_count": 3, "model": "flux-2-klein", "style": {"prompt": "x"}})")},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    CHECK(std::to_string(c.response.status) == c.status);
    check_schema(response_schema(*spec, gen, "post", c.status), c.response.json(), "error " + c.status);
  }
  auto missing = sim_call(sim, "GET", "/v1/image-projects/cnothere");
  CHECK(missing.status == 404);
  check_schema(response_schema(*spec, "/v1/image-projects/{id}", "get", "404"), missing.json(), "error 404");
}

TEST_CASE("contract: the model catalogue and enums agree with the spec") {
  auto spec = load_spec();
  if (!spec) {
    MESSAGE("skipped: " << kSpecPath << " is not present");
    return;
  }
  const auto& props = request_properties(*spec, "/v1/ai-image-generator");
  auto models = strings(props.at("model").at("enum"));
  std::string description(props.at("model").at("description").as_string());
  for (const auto& id : models) {
    CAPTURE(id);
    const auto* m = mh::magichour::find_image_model(id);
    REQUIRE_MESSAGE(m != nullptr, "the catalogue lacks model " << id);
    if (id == "default" || id == "seedream") continue;
    // "- `flux-schnell` - from 5 credits/image\n  - Supported resolutions: 640px, 1k, 2k\n
    //   - Available for tiers: free, creator, pro, business\n  - Image count allowed: 1, 2, 3, 4"
    std::smatch match;
    std::regex block("- `" + id +
                     "` - from (\\d+) credits/image\\n\\s*- Supported resolutions: ([^\\n]+)\\n\\s*- "
                     "Available for tiers: ([^\\n]+)\\n\\s*- Image count allowed: ([^\\n]+)");
    REQUIRE_MESSAGE(std::regex_search(description, match, block), "no description block for " << id);
    CHECK(std::stoll(match[1]) == m->credits_per_image);
    std::string resolutions;
    for (auto r : m->resolutions) resolutions += (resolutions.empty() ? "" : ", ") + std::string(r);
    CHECK(match[2].str() == resolutions);
    CHECK(match[3].str().rfind(std::string(mh::magichour::tier_name(m->min_tier)), 0) == 0);
    std::string counts;
    for (int c : m->image_counts) counts += (counts.empty() ? "" : ", ") + std::to_string(c);
    CHECK(match[4].str() == counts);
  }
  CHECK(strings(props.at("aspect_ratio").at("enum")) ==
        std::vector<std::string>(std::begin(mh::magichour::kAspectRatios), std::end(mh::magichour::kAspectRatios)));
  CHECK(strings(props.at("resolution").at("enum")) ==
        std::vector<std::string>(std::begin(mh::magichour::kResolutions), std::end(mh::magichour::kResolutions)));

  // Every documented style.tool is accepted, and an undocumented one is not.
  SimProcess sim({"--credits", "1000000", "--render-time", "10ms"});
  for (const auto& tool : strings(props.at("style").at("properties").at("tool").at("enum"))) {
    CAPTURE(tool);
    auto r = sim_call(sim, "POST", "/v1/ai-image-generator",
                      R"({"image_count": 1, "style": {"prompt": "x", "tool": ")" + tool + R"("}})");
    CHECK(r.status == 200);
  }
  const auto& up = request_properties(*spec, "/v1/ai-image-upscaler");
  auto modes = strings(up.at("style").at("properties").at("mode").at("enum"));
  std::sort(modes.begin(), modes.end());
  std::vector<std::string> ours(std::begin(mh::magichour::kUpscaleModes), std::end(mh::magichour::kUpscaleModes));
  std::sort(ours.begin(), ours.end());
  CHECK(modes == ours);
}
