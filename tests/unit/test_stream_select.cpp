// The streaming selector (extract::PageStream) against the tree's (extract::take_records):
// the same records, in the same order, and the same values where the paginators read.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/json_path.hpp"
#include "extract/select.hpp"
#include "extract/stream_select.hpp"
#include "magichour/client.hpp"

namespace json = boost::json;
using mh::config::JsonPath;
using mh::extract::PageStream;

namespace {

std::optional<JsonPath> path(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string error;
  auto p = mh::config::parse_json_path(text, error);
  REQUIRE_MESSAGE(p, error);
  return p;
}

struct Streamed {
  std::vector<json::value> records;
  std::vector<std::size_t> batches;
  json::value rest;
  bool streamed = false;
};

Streamed stream(const std::string& text, const std::optional<JsonPath>& selector,
                const std::vector<const JsonPath*>& keep, std::size_t max = mh::extract::kBatchRecords) {
  Streamed out;
  PageStream page(text, selector, keep);
  std::vector<json::value> batch;
  while (page.next(batch, max)) {
    out.batches.push_back(batch.size());
    for (auto& r : batch) out.records.push_back(std::move(r));
  }
  out.rest = page.rest();
  out.streamed = page.streamed();
  return out;
}

// Streams `text` and takes its records from the tree; both must agree. Returns the stream's.
Streamed same(const std::string& text, const std::string& selector_text = "",
              const std::vector<std::string>& keeps = {}) {
  INFO("page: " << text << "  selector: " << selector_text);
  const auto selector = path(selector_text);
  std::vector<std::optional<JsonPath>> keep_paths;
  for (const auto& k : keeps) keep_paths.push_back(path(k));
  std::vector<const JsonPath*> keep;
  for (const auto& k : keep_paths) keep.push_back(&*k);

  json::value body = json::parse(text);
  const auto expected = mh::extract::take_records(body, selector, keep);
  Streamed got = stream(text, selector, keep);
  CHECK(json::value_from(got.records) == json::value_from(expected));
  for (const auto& k : keep_paths) {
    INFO("kept path: " << k->text);
    const json::value* want = mh::extract::find_value(body, *k);
    const json::value* have = mh::extract::find_value(got.rest, *k);
    REQUIRE((want == nullptr) == (have == nullptr));
    if (want) CHECK(*want == *have);
  }
  return got;
}

}  // namespace

TEST_CASE("stream select: a list body streams its items") {
  auto r = same(R"([1, "two", {"a": [3, {"b": null}]}, null, [4], 5.5, true, -7, 18446744073709551615])");
  CHECK(r.streamed);
  CHECK(r.records.size() == 9);
  CHECK(r.rest.is_array());
  CHECK(r.rest.as_array().empty());
  CHECK(same("[]").records.empty());
}

TEST_CASE("stream select: dlt's detector on an object body, decided by the survey") {
  // A well-known key, with the paginator's fields beside it.
  auto r = same(R"({"meta": {"x": [1]}, "data": [{"id": 1}, {"id": 2}], "next": "n", "total": 2})", "",
                {"next", "total", "meta.x[0]"});
  CHECK(r.streamed);
  CHECK(r.records.size() == 2);
  // The least nested list; a named list one level down beats an unnamed one at the top.
  CHECK(same(R"({"a": {"b": [1, 2]}, "c": [3]})").records.size() == 1);
  CHECK(same(R"({"a": {"b": [1, 2]}})").records.size() == 2);
  CHECK(same(R"({"x": [9], "a": {"items": [1, 2, 3]}})").records.size() == 3);
  CHECK(same(R"({"a": {"b": {"c": [1]}}, "d": 1})").records.size() == 1);  // three levels: the body itself
  // Strings split across the parser's chunks, keys with escapes.
  std::string long_key(40000, 'k');
  CHECK(same(R"({")" + long_key + R"(": [")" + std::string(50000, 'v') + R"("], "d\u0061ta": ["\n"]})", "", {long_key})
            .records.size() == 1);
}

TEST_CASE("stream select: a body without a list is one record (read as a tree)") {
  auto r = same(R"({"id": 1, "name": "x"})");
  CHECK_FALSE(r.streamed);
  CHECK(r.records.size() == 1);
  CHECK(same("5").records.empty());
  CHECK(same(R"("text")").records.empty());
}

TEST_CASE("stream select: an explicit data_selector, with wildcards and non-lists") {
  const std::string page = R"({"data": {"items": [{"id": 1}, {"id": 2}], "one": {"x": 1}, "none": null},
                               "results": [[1, 2], {"y": 1}, [3]], "groups": [{"items": [1]}, {"items": [2, 3]}, {}]})";
  CHECK(same(page, "data.items").records.size() == 2);
  CHECK(same(page, "$.data.items").streamed);
  CHECK(same(page, "data.one").records.size() == 1);  // a selected non-list is one record
  CHECK(same(page, "data.none").records.empty());
  CHECK(same(page, "data.missing").records.empty());
  CHECK(same(page, "results[0]").records.size() == 2);
  CHECK(same(page, "results[1]").records.size() == 1);
  CHECK(same(page, "results[*]").records.size() == 4);
  CHECK(same(page, "groups[*].items").records.size() == 3);
  CHECK(same(page, "$.*").records.size() == 7);  // data.one's object, results' 3, groups' 3
  CHECK(same(page, "data.*").records.size() == 3);
  CHECK(same(page, "$").records.size() == 1);  // the body itself
  CHECK(same("[[1], [2, 3]]", "[*]").records.size() == 3);
  CHECK(same("[[1], [2, 3]]", "[1]").records.size() == 2);
  CHECK(same("[1, 2]", "data").records.empty());
}

TEST_CASE("stream select: a paginator path through a record keeps that record readable") {
  const std::string page = R"({"items": [{"id": 1, "next": "n1"}, {"id": 2}, {"id": 3, "c": {"k": [7]}}], "total": 3})";
  auto r = same(page, "", {"items[0].next", "items[2].c.k[0]", "total", "items[5].id", "items.x"});
  CHECK(r.records.size() == 3);
  same(page, "items", {"items[0].next", "items[1]"});
  same(R"({"one": {"next": "n", "x": 1}, "other": 2})", "one", {"one.next", "other"});
  same(R"({"one": {"next": "n", "x": 1}, "other": 2})", "one", {"other"});
  same(R"([{"next": "a"}, {"next": "b"}])", "", {"[1].next", "[0]"});
  same(R"({"w": {"items": [1, 2], "n": 1}})", "w.items", {"w", "w.n"});  // a kept value holding the records
  same(R"({"items": [1, 2], "n": 1})", "", {"$", "items[*].x"});
}

TEST_CASE("stream select: duplicate keys resolve as in the tree (last value, first place)") {
  auto r = same(R"({"data": [1], "x": 0, "data": [2, 3]})");
  CHECK(r.streamed);  // the survey's skeleton knows which list the tree keeps
  CHECK(r.records.size() == 2);
  same(R"({"data": [1], "data": 5, "rows": [7]})");
  same(R"({"a": {"b": [1]}, "a": 5, "c": {"d": [1, 2]}})");
  // With a selector the stream cannot know which one the tree keeps: the tree decides.
  auto s = same(R"({"data": [1], "data": [2, 3]})", "data");
  CHECK_FALSE(s.streamed);
  same(R"({"data": {"items": [1], "items": [2]}})", "data.*");
  same(R"({"data": [{"k": 1, "k": 2}], "n": 1, "n": 2})", "data", {"n"});  // inside records and the rest: as the tree
}

TEST_CASE("stream select: batches are bounded and together are the page") {
  std::string page = "[0";
  for (int i = 1; i < 10000; ++i) page += ",0";
  page += "]";
  auto r = stream(page, std::nullopt, {}, 100);
  CHECK(r.records.size() == 10000);
  CHECK(r.batches.size() >= 50);
  for (std::size_t n : r.batches) CHECK(n <= 200);  // at most one chunk past the bound
  CHECK(r.records.back() == 0);
  // A batch never splits a record.
  auto objects =
      stream(R"({"data": [)" + std::string("{\"a\": [1, 2, {\"b\": \"c\"}]},") + R"({"a": 2}]})", std::nullopt, {}, 1);
  REQUIRE(objects.records.size() == 2);
  CHECK(objects.records[0] == json::parse(R"({"a": [1, 2, {"b": "c"}]})"));
}

TEST_CASE("stream select: a malformed page throws before its first record") {
  for (const std::string& page :
       std::vector<std::string>{R"([1, 2, 3)", R"({"data": [1, 2]}<html>upstream error</html>)", "", "[1,]",
                                R"({"data": [1, 2], "next": )", std::string(40, '[') + std::string(40, ']')}) {
    INFO(page);
    std::optional<JsonPath> none;
    CHECK_THROWS_WITH_AS(PageStream(page, none), doctest::Contains("invalid JSON (at byte"), std::runtime_error);
    boost::system::error_code ec;
    (void)json::parse(page, ec);
    CHECK(ec);  // the tree refuses it too
  }
}

TEST_CASE("stream select: the client's check refuses what its parse refuses, with the same message") {
  for (const std::string& body :
       std::vector<std::string>{R"({"data": [1, 2]}<html>upstream error</html>)", "[1, 2", "", R"({"a": 1,})",
                                std::string(40, '[') + std::string(40, ']'), R"({"data": [1, 2]})", "[0, 0, 0]"}) {
    INFO(body);
    std::string parsed, checked;
    try {
      (void)mh::magichour::parse_json_body(body, "GET /v1/x");
    } catch (const std::exception& e) {
      parsed = e.what();
    }
    try {
      mh::magichour::check_json_body(body, "GET /v1/x");
    } catch (const std::exception& e) {
      checked = e.what();
    }
    CHECK(parsed == checked);
  }
}

TEST_CASE("stream select: a double reads the same wherever the chunks split the page") {
  // Boost.JSON 1.81 reads a number near its buffer's end by another algorithm: the stream
  // reads doubles correctly rounded (std::from_chars), whatever its chunks are.
  const std::string page = "[40211211111.1111111, 1021111111111111111111.11, 0.1, -2.5e-3, 123456789012345678e-5]";
  auto small = stream(page, std::nullopt, {}, 1);
  auto whole = stream(page, std::nullopt, {});
  REQUIRE(small.records.size() == 5);
  CHECK(json::serialize(json::value_from(small.records)) == json::serialize(json::value_from(whole.records)));
  CHECK(small.records[0].as_double() == 40211211111.1111111);
  CHECK(small.records[1].as_double() == 1021111111111111111111.11);
  CHECK(small.records[4].as_double() == 123456789012345678e-5);
}
