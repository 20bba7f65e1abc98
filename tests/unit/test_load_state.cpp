// dlt's pipeline state across loads: a row on the first load, none for an
// unchanged one, one more (version + 1) when a cursor moved; concurrent jobs'
// resources merge instead of overwriting each other.
#include <doctest/doctest.h>

#include "load/state.hpp"

using mh::load::next_state_document;
using mh::load::PipelineState;
namespace json = boost::json;

namespace {

PipelineState with_cursor(const std::string& resource, const std::string& last_value) {
  PipelineState st{"magic_hour_pipeline", "magic_hour_data", "magic_hour"};
  json::object cursor{{"last_value", last_value}, {"unique_hashes", json::array{"h"}}};
  st.sources["magic_hour"] = json::object{
      {"resources", json::object{{resource, json::object{{"incremental", json::object{{"created_at", cursor}}}}}}}};
  return st;
}

}  // namespace

TEST_CASE("state: first load, unchanged load, moved cursor") {
  auto first = next_state_document(std::nullopt, with_cursor("events", "2024-01-01"));
  REQUIRE(first);
  CHECK((*first)["_state_version"] == 1);
  CHECK((*first)["_state_engine_version"] == 4);
  CHECK((*first)["pipeline_name"] == "magic_hour_pipeline");
  CHECK((*first)["dataset_name"] == "magic_hour_data");
  CHECK((*first)["schema_names"] == json::array{"magic_hour"});
  CHECK((*first)["_version_hash"] == json::value(mh::load::state_version_hash(*first)));
  CHECK(first->begin()->key() == "_state_version");  // dlt's key order
  CHECK(first->at("sources")
            .at("magic_hour")
            .at("resources")
            .at("events")
            .at("incremental")
            .at("created_at")
            .at("last_value") == "2024-01-01");

  CHECK_FALSE(next_state_document(first, with_cursor("events", "2024-01-01")));
  // A package without incremental resources changes nothing either.
  CHECK_FALSE(next_state_document(first, PipelineState{"magic_hour_pipeline", "magic_hour_data", "magic_hour"}));

  auto moved = next_state_document(first, with_cursor("events", "2024-02-01"));
  REQUIRE(moved);
  CHECK((*moved)["_state_version"] == 2);
  CHECK((*moved)["_version_hash"] != (*first)["_version_hash"]);

  // Another job's resource joins; the first resource's cursor stays.
  auto other = next_state_document(moved, with_cursor("orders", "7"));
  REQUIRE(other);
  CHECK((*other)["_state_version"] == 3);
  const auto& res = other->at("sources").at("magic_hour").at("resources").as_object();
  CHECK(res.at("events").at("incremental").at("created_at").at("last_value") == "2024-02-01");
  CHECK(res.at("orders").at("incremental").at("created_at").at("last_value") == "7");

  // What is stored decodes to what was compressed.
  CHECK(mh::load::decompress_state(mh::load::compress_state(*other)) == *other);
}

TEST_CASE("state: a first load without cursors still writes dlt's document") {
  auto doc = next_state_document(std::nullopt, PipelineState{"p", "ds", "magic_hour"});
  REQUIRE(doc);
  CHECK_FALSE(doc->contains("sources"));
  CHECK((*doc)["destination_type"] == "dlt.destinations.postgres");
  CHECK((*doc)["destination_name"].is_null());
}

TEST_CASE("state: an older package loading after a newer one keeps the newer cursor") {
  auto newer = next_state_document(std::nullopt, with_cursor("events", "2024-03-01"));
  REQUIRE(newer);
  PipelineState older = with_cursor("events", "2024-01-01");
  older.sources["magic_hour"]
      .as_object()["resources"]
      .as_object()["events"]
      .as_object()["incremental"]
      .as_object()["created_at"]
      .as_object()["unique_hashes"] = json::array{"old"};
  // Nothing moved: the stored document stays, no new row.
  CHECK_FALSE(next_state_document(*newer, older));

  // Alongside another resource's change, the older cursor still does not win.
  PipelineState both = older;
  both.sources["magic_hour"].as_object()["resources"].as_object()["images"] =
      with_cursor("images", "2024-02-01").sources["magic_hour"].at("resources").at("images");
  auto next = next_state_document(*newer, both);
  REQUIRE(next);
  const auto& resources = next->at("sources").at("magic_hour").at("resources");
  CHECK(resources.at("events").at("incremental").at("created_at") ==
        json::value(json::object{{"last_value", "2024-03-01"}, {"unique_hashes", json::array{"h"}}}));
  CHECK(resources.at("images").at("incremental").at("created_at").at("last_value") == "2024-02-01");

  // A newer package still moves it, and at an equal value the hashes unite.
  auto moved = next_state_document(*next, with_cursor("events", "2024-04-01"));
  REQUIRE(moved);
  CHECK(moved->at("sources")
            .at("magic_hour")
            .at("resources")
            .at("events")
            .at("incremental")
            .at("created_at")
            .at("last_value") == "2024-04-01");
  PipelineState tie = with_cursor("events", "2024-04-01");
  tie.sources["magic_hour"]
      .as_object()["resources"]
      .as_object()["events"]
      .as_object()["incremental"]
      .as_object()["created_at"]
      .as_object()["unique_hashes"] = json::array{"h2"};
  auto tied = next_state_document(*moved, tie);
  REQUIRE(tied);
  CHECK(tied->at("sources")
            .at("magic_hour")
            .at("resources")
            .at("events")
            .at("incremental")
            .at("created_at")
            .at("unique_hashes") == json::array{"h", "h2"});
}
