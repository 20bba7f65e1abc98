// Contract test: magichour-sim's responses against the response shapes documented in
// docs/magic-hour-api.md (which include the deprecated fields the SDKs still require),
// and the model catalogue and request enums against that page's tables. The page is the
// contract: a field, model or value the simulator or the catalogue gets wrong fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "integration/sim_helpers.hpp"
#include "magichour/catalog.hpp"
#include "support/markdown.hpp"

using namespace mh::test;
namespace json = boost::json;

namespace {

std::string api_doc() {
  std::ifstream in(MHLOADER_SOURCE_DIR "/docs/magic-hour-api.md");
  REQUIRE_MESSAGE(in.good(), "docs/magic-hour-api.md is missing");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first table of a section of docs/magic-hour-api.md.
std::vector<MarkdownRow> doc_table(const std::string& heading) {
  return markdown_table(markdown_section(api_doc(), heading));
}

std::vector<std::string> split_list(const std::string& cell) {
  std::vector<std::string> out;
  std::stringstream s(cell);
  for (std::string v; std::getline(s, v, ',');) {
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    out.push_back(unquote(v));
  }
  return out;
}

// One row of a "Response shapes" table: `a.b` or `a[].b`, a type, nullable, required.
struct Field {
  std::vector<std::string> path;
  std::string type;
  std::vector<std::string> values;  // for "enum: a, b"
  bool nullable = false;
  bool required = false;
};

std::vector<Field> shape(const std::string& heading) {
  std::vector<Field> out;
  for (const auto& row : doc_table(heading)) {
    Field f;
    std::stringstream path(unquote(row.at("field")));
    for (std::string seg; std::getline(path, seg, '.');) f.path.push_back(seg);
    std::string type = row.at("type");
    if (type.ends_with(", nullable")) {
      f.nullable = true;
      type.resize(type.size() - std::string(", nullable").size());
    }
    if (type.starts_with("enum: ")) {
      f.values = split_list(type.substr(6));
      type = "enum";
    }
    f.type = type;
    f.required = row.at("required").starts_with("yes");
    out.push_back(std::move(f));
  }
  REQUIRE_MESSAGE(!out.empty(), "no field table under " << heading);
  return out;
}

void check_type(const Field& f, const json::value& v, const std::string& where) {
  CAPTURE(where);
  if (v.is_null()) {
    CHECK_MESSAGE(f.nullable, where << " is null but not nullable");
    return;
  }
  if (f.type == "object") {
    CHECK_MESSAGE(v.is_object(), where << " should be an object");
  } else if (f.type == "array") {
    CHECK_MESSAGE(v.is_array(), where << " should be an array");
  } else if (f.type == "integer") {
    CHECK_MESSAGE((v.is_int64() || v.is_uint64()), where << " should be an integer");
  } else if (f.type == "number") {
    CHECK_MESSAGE(v.is_number(), where << " should be a number");
  } else if (f.type == "boolean") {
    CHECK_MESSAGE(v.is_bool(), where << " should be a boolean");
  } else {
    REQUIRE_MESSAGE(v.is_string(), where << " should be a string");
    std::string str(v.as_string());
    if (f.type == "date-time") {
      CHECK_MESSAGE(std::regex_match(str, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")),
                    where << " = " << str);
    } else if (f.type == "uri") {
      CHECK_MESSAGE((str.starts_with("http://") || str.starts_with("https://")), where << " = " << str);
    } else if (f.type == "enum") {
      CHECK_MESSAGE(std::find(f.values.begin(), f.values.end(), str) != f.values.end(),
                    where << " = '" << str << "' is not one of the documented values");
    } else {
      REQUIRE_MESSAGE(f.type == "string", "unknown type '" << f.type << "' in docs/magic-hour-api.md");
    }
  }
}

// Checks one documented field at every place its parent path reaches in `v`.
void check_field(const Field& f, const json::value& v, std::size_t depth, const std::string& where) {
  if (!v.is_object()) return;  // a parent of the wrong type is reported by its own row
  std::string seg = f.path[depth];
  bool each = seg.ends_with("[]");
  if (each) seg.resize(seg.size() - 2);
  const json::value* child = v.as_object().if_contains(seg);
  std::string here = where + "." + seg;
  if (depth + 1 == f.path.size()) {
    CHECK_MESSAGE((child != nullptr || !f.required), here << " is missing");
    if (child != nullptr) check_type(f, *child, here);
    return;
  }
  if (child == nullptr || child->is_null()) return;
  if (!each) {
    check_field(f, *child, depth + 1, here);
    return;
  }
  if (!child->is_array()) return;
  std::size_t i = 0;
  for (const auto& item : child->as_array()) check_field(f, item, depth + 1, here + "[" + std::to_string(i++) + "]");
}

void check_shape(const std::vector<Field>& fields, const json::value& v, const std::string& where) {
  REQUIRE_MESSAGE(v.is_object(), where << " should be an object");
  for (const auto& f : fields) check_field(f, v, 0, where);
}

}  // namespace

TEST_CASE("contract: create and project responses have the documented shapes, with the deprecated fields") {
  const auto create = shape("### Create response");
  const auto project = shape("### Image project");
  const auto uploads_shape = shape("### Upload URLs response");
  SimProcess sim({"--render-time", "100ms", "--error-rate", "0", "--credits", "100000"});

  auto gen = sim_call(sim, "POST", "/v1/ai-image-generator",
                      R"({"name": "Contract", "image_count": 1, "model": "default", "aspect_ratio": "1:1",
                          "resolution": "auto", "style": {"prompt": "Cool image", "tool": "ai-anime-generator"}})");
  REQUIRE(gen.status == 200);
  check_shape(create, gen.json(), "create");

  auto up = sim_call(sim, "POST", "/v1/ai-image-upscaler",
                     R"({"name": "Upscale", "scale_factor": 2, "style": {"mode": "balanced"},
                         "assets": {"image_file_path": "https://example.com/id/1234.png"}})");
  REQUIRE(up.status == 200);
  check_shape(create, up.json(), "upscale");

  auto queued = sim_call(sim, "GET", "/v1/image-projects/" + std::string(gen.json().at("id").as_string()));
  check_shape(project, queued.json(), "project(queued)");
  auto done = wait_for_project(sim, std::string(gen.json().at("id").as_string()));
  CHECK(done.at("status").as_string() == "complete");
  CHECK(!done.at("downloads").as_array().empty());
  check_shape(project, done, "project(complete)");
  CHECK(done.at("name").as_string() == "Contract");
  CHECK(done.at("type").as_string() == "AI_IMAGE");

  auto uploads =
      sim_call(sim, "POST", "/v1/files/upload-urls", R"({"items": [{"type": "video", "extension": "mp4"}]})");
  REQUIRE(uploads.status == 200);
  check_shape(uploads_shape, uploads.json(), "upload-urls");

  SimProcess failing({"--render-time", "50ms", "--error-rate", "1"});
  auto bad = sim_call(failing, "POST", "/v1/ai-image-generator", R"({"image_count": 1, "style": {"prompt": "x"}})");
  auto errored = wait_for_project(failing, std::string(bad.json().at("id").as_string()));
  CHECK(errored.at("status").as_string() == "error");
  CHECK(errored.at("error").is_object());
  check_shape(project, errored, "project(error)");
}

TEST_CASE("contract: error bodies have the documented shape and messages for every documented status") {
  const auto body = shape("### Error body");
  // The second table of the section: status → exact message, where one is documented.
  const std::string section = markdown_section(api_doc(), "### Error body");
  std::map<std::string, std::string> exact;
  for (const auto& row : markdown_table(section.substr(section.find("| status |")))) {
    if (row.at("exact message") != "—") exact[row.at("status")] = unquote(row.at("exact message"));
  }
  REQUIRE(exact.size() == 2);

  SimProcess sim({"--credits", "1", "--tier", "creator"});
  SimProcess free_tier({"--credits", "100000", "--tier", "free"});
  const std::string gen = "/v1/ai-image-generator";
  struct Case {
    std::string status;
    CurlResponse response;
  };
  std::vector<Case> cases{
      {"400", sim_call(sim, "POST", gen, std::string())},
      {"401", sim_call(sim, "POST", gen, R"({"image_count": 1, "style": {"prompt": "x"}})", "nope")},
      {"402", sim_call(sim, "POST", gen, R"({"image_count": 1, "style": {"prompt": "x"}})")},
      {"403",
       sim_call(free_tier, "POST", gen, R"({"image_count": 1, "model": "seedream-v4", "style": {"prompt": "x"}})")},
      {"404", sim_call(sim, "GET", "/v1/image-projects/cnothere")},
      {"404", sim_call(sim, "GET", "/v1/no-such-endpoint")},
      {"422", sim_call(sim, "POST", gen, R"({"image_count": 3, "model": "flux-2-klein", "style": {"prompt": "x"}})")},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    CHECK(std::to_string(c.response.status) == c.status);
    check_shape(body, c.response.json(), "error " + c.status);
    if (exact.count(c.status)) CHECK(c.response.json().at("message").as_string() == exact.at(c.status));
  }
}

TEST_CASE("contract: the model catalogue and request enums agree with docs/magic-hour-api.md") {
  std::set<std::string> documented;
  for (const auto& row : doc_table("### Models")) {
    std::string id = unquote(row.at("model"));
    CAPTURE(id);
    documented.insert(id);
    const auto* m = mh::magichour::find_image_model(id);
    REQUIRE_MESSAGE(m != nullptr, "the catalogue lacks model " << id);
    CHECK(std::stoll(row.at("from (credits/image)")) == m->credits_per_image);
    std::string resolutions;
    for (auto r : m->resolutions) resolutions += (resolutions.empty() ? "" : ", ") + std::string(r);
    CHECK(row.at("resolutions") == resolutions);
    std::string counts;
    for (int c : m->image_counts) counts += (counts.empty() ? "" : ", ") + std::to_string(c);
    CHECK(row.at("image counts") == counts);
    CHECK(row.at("lowest tier") == std::string(mh::magichour::tier_name(m->min_tier)));
  }
  CHECK(documented.size() >= 10);
  // And the catalogue has no model the page does not document (`default` is described in the text).
  for (const auto& m : mh::magichour::image_models()) {
    if (m.id != "default") CHECK_MESSAGE(documented.count(std::string(m.id)), "undocumented model " << m.id);
  }
  CHECK(mh::magichour::find_image_model("seedream") == mh::magichour::find_image_model("seedream-v4"));

  std::map<std::string, std::vector<std::string>> enums;
  for (const auto& row : doc_table("### Request enums")) enums[unquote(row.at("field"))] = code_spans(row.at("values"));
  CHECK(enums.at("aspect_ratio") ==
        std::vector<std::string>(std::begin(mh::magichour::kAspectRatios), std::end(mh::magichour::kAspectRatios)));
  CHECK(enums.at("resolution") ==
        std::vector<std::string>(std::begin(mh::magichour::kResolutions), std::end(mh::magichour::kResolutions)));
  auto modes = enums.at("upscaler style.mode");
  std::sort(modes.begin(), modes.end());
  std::vector<std::string> ours(std::begin(mh::magichour::kUpscaleModes), std::end(mh::magichour::kUpscaleModes));
  std::sort(ours.begin(), ours.end());
  CHECK(modes == ours);

  // Every documented style.tool is accepted, and an undocumented one is not.
  const auto& tools = enums.at("style.tool");
  CHECK(tools.size() == 35);
  SimProcess sim({"--credits", "1000000", "--render-time", "10ms"});
  for (const auto& tool : tools) {
    CAPTURE(tool);
    auto r = sim_call(sim, "POST", "/v1/ai-image-generator",
                      R"({"image_count": 1, "style": {"prompt": "x", "tool": ")" + tool + R"("}})");
    CHECK(r.status == 200);
  }
  auto unknown = sim_call(sim, "POST", "/v1/ai-image-generator",
                          R"({"image_count": 1, "style": {"prompt": "x", "tool": "ai-unicorn-generator"}})");
  CHECK(unknown.status == 400);
}
