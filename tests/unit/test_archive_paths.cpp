// What may name a file of the archive: project ids (magichour::valid_project_id) and
// download extensions (pipeline::archive_extension's allow-list); and records taken
// out of a page (extract::take_records) rather than copied.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "config/load.hpp"
#include "extract/select.hpp"
#include "magichour/client.hpp"
#include "pipeline/archive.hpp"
#include "pipeline/validate_config.hpp"

namespace json = boost::json;
using mh::magichour::valid_project_id;
using mh::pipeline::archive_extension;

TEST_CASE("archive: project ids are cuid-like, anything that could be a path is refused") {
  CHECK(valid_project_id("clx7uu86w0a5qp55yxz315r6r"));
  CHECK(valid_project_id("cuid-example"));
  CHECK(valid_project_id("A_1"));
  CHECK(valid_project_id(std::string(64, 'a')));
  CHECK_FALSE(valid_project_id(std::string(65, 'a')));
  CHECK_FALSE(valid_project_id(""));
  CHECK_FALSE(valid_project_id("../../x"));
  CHECK_FALSE(valid_project_id(".."));
  CHECK_FALSE(valid_project_id("."));
  CHECK_FALSE(valid_project_id("a/b"));
  CHECK_FALSE(valid_project_id("a\\b"));
  CHECK_FALSE(valid_project_id("-rf"));
  CHECK_FALSE(valid_project_id("_x"));
  CHECK_FALSE(valid_project_id("a b"));
  CHECK_FALSE(valid_project_id(std::string("a\0b", 3)));
  CHECK_FALSE(valid_project_id("a\nb"));
  CHECK_FALSE(valid_project_id("caf\xc3\xa9"));
}

TEST_CASE("archive: a download's extension comes from an allow-list") {
  CHECK(archive_extension("https://cdn.example/outputs/c1/0.png?auth-token=x.sh") == "png");
  CHECK(archive_extension("https://cdn.example/a/b.JPEG") == "jpeg");
  CHECK(archive_extension("https://cdn.example/a/clip.mp4#t=1") == "mp4");
  CHECK(archive_extension("https://cdn.example/a/run.sh") == "bin");
  CHECK(archive_extension("https://cdn.example/a/x.png%2F..%2F..%2Fevil") == "bin");
  CHECK(archive_extension("https://cdn.example/a.png/file") == "bin");
  CHECK(archive_extension("https://cdn.example/a/noext") == "bin");
  CHECK(archive_extension("https://cdn.example/a/.png") == "png");  // only the extension is used: 0.png
  CHECK(archive_extension("") == "bin");
}

TEST_CASE("select: records are moved out of the page, a path the paginator reads stays readable") {
  json::value body = json::parse(R"({"items": [{"id": 1, "next": "n1"}, {"id": 2}, {"id": 3}], "total": 3})");
  std::string error;
  auto next = mh::config::parse_json_path("items[0].next", error);
  REQUIRE(next);
  auto records = mh::extract::take_records(body, std::nullopt, {&*next});
  REQUIRE(records.size() == 3);
  CHECK(records[1].at("id") == 2);
  CHECK(records[0].at("next") == "n1");
  // Moved out: the page holds nulls where records were, except the one the path runs through.
  CHECK(body.at("items").as_array()[1].is_null());
  CHECK(body.at("items").as_array()[2].is_null());
  REQUIRE(mh::extract::find_value(body, *next) != nullptr);
  CHECK(*mh::extract::find_value(body, *next) == "n1");
  CHECK(body.at("total") == 3);

  json::value list = json::parse("[1, 2, 3]");
  auto moved = mh::extract::take_records(list, std::nullopt);
  CHECK(moved.size() == 3);
  CHECK(list.as_array().empty());  // nothing kept: the moved-from list is freed
}

namespace {

mh::config::ConfigResult load_yaml(const std::string& yaml) {
  mh::config::LoadOptions o;
  o.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  o.credentials_dir = std::optional<std::string>("");
  return mh::pipeline::load_config_string(yaml, "test.yaml", "/nonexistent", o);
}

std::string errors_of(const mh::config::ConfigResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

const char* kJobs = "jobs:\n  - {name: account, every: 5m, resources: [credits]}\n";

}  // namespace

TEST_CASE("config: the size caps and the download deadline, their defaults and check-config") {
  auto r = load_yaml(std::string("magic_hour: {api_key: \"k-123456\"}\n") + kJobs);
  INFO(errors_of(r));
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.max_response_bytes == 16u * 1024 * 1024);
  CHECK(r.config->archive.max_bytes == 256u * 1024 * 1024);
  CHECK(r.config->archive.download_timeout == std::chrono::minutes(10));
  std::string shown = mh::config::render(*r.config);
  CHECK(shown.find("max_response_bytes: 16777216") != std::string::npos);
  CHECK(shown.find("max_bytes: 268435456") != std::string::npos);
  CHECK(shown.find("download_timeout: 10m") != std::string::npos);

  r = load_yaml(std::string("magic_hour: {api_key: \"k-123456\", max_response_bytes: 1MiB}\n") +
                "archive: {dir: /tmp/a, max_bytes: \"2 GiB\", download_timeout: 90s}\n" + kJobs);
  INFO(errors_of(r));
  REQUIRE(r.config);
  CHECK(r.config->magic_hour.max_response_bytes == 1024u * 1024);
  CHECK(r.config->archive.max_bytes == 2ull * 1024 * 1024 * 1024);
  CHECK(r.config->archive.download_timeout == std::chrono::seconds(90));

  r = load_yaml(std::string("magic_hour: {api_key: \"k-123456\", max_response_bytes: 16MB}\n") +
                "archive: {max_bytes: 0, download_timeout: 1ms}\n" + kJobs);
  CHECK_FALSE(r.config);
  const std::string errors = errors_of(r);
  CHECK(errors.find("magic_hour.max_response_bytes") != std::string::npos);
  CHECK(errors.find("archive.max_bytes") != std::string::npos);
  CHECK(errors.find("archive.download_timeout") != std::string::npos);
}
