// The credit guard's arithmetic and the estimates it weighs (pipeline/credit_guard.hpp),
// and the catalogue's resolution factors the simulator bills by.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "magichour/catalog.hpp"
#include "pipeline/credit_guard.hpp"

namespace json = boost::json;
using mh::magichour::CreateKind;
using mh::pipeline::CreditGuard;
using mh::pipeline::estimate_credits;
using mh::pipeline::GuardStop;

namespace {

std::int64_t image(const char* body) {
  return estimate_credits(CreateKind::image_generator, json::parse(body).as_object());
}
std::int64_t upscale(const char* body) {
  return estimate_credits(CreateKind::image_upscaler, json::parse(body).as_object());
}

}  // namespace

TEST_CASE("credit guard: estimates are price × resolution factor × image count") {
  CHECK(image(R"({"image_count": 1, "model": "seedream", "resolution": "4k"})") == 160);
  CHECK(image(R"({"image_count": 2, "model": "seedream-v4", "resolution": "2k"})") == 160);
  CHECK(image(R"({"image_count": 3, "model": "seedream-v4", "resolution": "1k"})") == 120);
  CHECK(image(R"({"image_count": 4, "model": "flux-schnell", "resolution": "640px"})") == 20);
  CHECK(image(R"({"image_count": 16, "model": "nano-banana-pro", "resolution": "4k"})") == 150 * 4 * 16);
  CHECK(image(R"({"image_count": 2.0, "model": "flux-schnell", "resolution": "1k"})") == 10);  // 2.0 is 2
}

TEST_CASE("credit guard: what is not known counts at the most it could cost") {
  // No, `auto` or an unknown resolution: the model's highest (flux-schnell 2k, seedream 4k).
  CHECK(image(R"({"image_count": 1, "model": "flux-schnell"})") == 10);
  CHECK(image(R"({"image_count": 1, "model": "flux-schnell", "resolution": "auto"})") == 10);
  CHECK(image(R"({"image_count": 1, "model": "seedream-v4", "resolution": "8k"})") == 160);
  CHECK(image(R"({"image_count": 1, "resolution": "auto"})") == 10);  // `default`: 5, up to 2k
  // An unknown model: the highest price at the highest factor.
  CHECK(image(R"({"image_count": 1, "model": "future-model", "resolution": "1k"})") == 150);
  CHECK(image(R"({"image_count": 1, "model": "future-model"})") == 150 * 4);
  // No or a malformed image_count: the model's largest.
  CHECK(image(R"({"model": "seedream-v4", "resolution": "1k"})") == 40 * 4);
  CHECK(image(R"({"image_count": "2", "model": "nano-banana-2", "resolution": "1k"})") == 100 * 16);
  CHECK(image(R"({"image_count": 1.5, "model": "flux-schnell", "resolution": "1k"})") == 5 * 4);
  CHECK(image(R"({"model": "future-model", "resolution": "1k"})") == 150 * 16);
}

TEST_CASE("credit guard: upscale estimates by mode and factor, unknown at the highest") {
  CHECK(upscale(R"({"scale_factor": 2, "style": {"mode": "preserve"}})") == 25);
  CHECK(upscale(R"({"scale_factor": 4, "style": {"mode": "pro"}})") == 100);
  CHECK(upscale(R"({"scale_factor": 2})") == 50);  // balanced by default
  CHECK(upscale(R"({"scale_factor": 2, "style": {"enhancement": "Resemblance"}})") == 25);
  CHECK(upscale(R"({"style": {"mode": "preserve"}})") == 100);  // no factor: 4x
  CHECK(upscale(R"({"scale_factor": 2, "style": {"mode": "turbo"}})") == 200);
}

TEST_CASE("credit guard: the catalogue's factors and what `auto` bills at per plan") {
  using namespace mh::magichour;
  CHECK(resolution_factor("640px") == 1);
  CHECK(resolution_factor("1k") == 1);
  CHECK(resolution_factor("2k") == 2);
  CHECK(resolution_factor("4k") == 4);
  CHECK_FALSE(resolution_factor("auto"));
  CHECK(max_resolution_factor(find_image_model("nano-banana")) == 1);
  CHECK(max_resolution_factor(nullptr) == 4);
  const ImageModel& seedream = *find_image_model("seedream");
  CHECK(auto_resolution(seedream, Tier::free) == "640px");
  CHECK(auto_resolution(seedream, Tier::pro) == "1k");
  CHECK(auto_resolution(seedream, Tier::business) == "2k");
  CHECK(auto_resolution(*find_image_model("nano-banana-pro"), Tier::free) == "1k");  // its lowest
  CHECK(auto_resolution(*find_image_model("nano-banana"), Tier::business) == "1k");  // its highest
  CHECK(image_credits(seedream, "4k", 2) == 320);
}

TEST_CASE("credit guard: the reserve counts every job's outstanding spend") {
  CreditGuard guard({1000, 500, std::nullopt, 0, 400});
  CHECK(guard.decide(100).submit());  // 1000 - 400 - 100 = 500: exactly the reserve
  auto d = guard.decide(101);
  CHECK(d.stop == GuardStop::reserve);
  CHECK(d.reason() == "the balance would fall below the reserve");
  guard.commit(100);
  CHECK(guard.numbers().outstanding == 500);
  CHECK(guard.decide(1).stop == GuardStop::reserve);
  CHECK(guard.decide(0).submit());
  auto rec = guard.record(guard.decide(1), 1);
  CHECK(rec.at("reason").as_string() == "the balance would fall below the reserve");
  CHECK(rec.at("balance").as_int64() == 1000);
  CHECK(rec.at("outstanding").as_int64() == 500);
  CHECK(rec.at("committed").as_int64() == 100);
  CHECK(rec.at("estimate").as_int64() == 1);
  CHECK(rec.at("reserve").as_int64() == 500);
  CHECK(rec.at("budget").is_null());
  CHECK(rec.at("available_above_reserve").as_int64() == 0);
  CHECK(rec.at("budget_left").is_null());
}

TEST_CASE("credit guard: the budget counts the run's committed spend") {
  CreditGuard guard({100000, 100, 100, 80, 80});
  CHECK(guard.decide(20).submit());  // 80 + 20 = 100: the budget, not past it
  auto d = guard.decide(21);
  CHECK(d.stop == GuardStop::budget);
  CHECK(d.reason() == "the job's credit budget would be exceeded");
  auto rec = guard.record(d, 21);
  CHECK(rec.at("budget").as_int64() == 100);
  CHECK(rec.at("budget_left").as_int64() == 20);
  CHECK(rec.at("committed").as_int64() == 80);
}

TEST_CASE("credit guard: no balance, nothing is submitted, and the reserve is checked before the budget") {
  CreditGuard none({std::nullopt, 100, 1000, 0, 0});
  CHECK(none.decide(0).stop == GuardStop::no_balance);
  CHECK(none.record(none.decide(5), 5).at("balance").is_null());
  CHECK(none.record(none.decide(5), 5).at("available_above_reserve").is_null());
  CreditGuard both({150, 100, 10, 0, 0});
  CHECK(both.decide(60).stop == GuardStop::reserve);
  CHECK(both.decide(20).stop == GuardStop::budget);
  CHECK(both.decide(10).submit());
  CHECK(both.decide(10).reason().empty());
}
