#include "pipeline/credit_guard.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "magichour/catalog.hpp"

namespace mh::pipeline {
namespace json = boost::json;

namespace {

std::optional<std::string_view> string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_string()) return std::string_view(v->as_string());
  return std::nullopt;
}

// A whole number in 1..16 however JSON spelled it (1, 1.0); nullopt otherwise.
std::optional<int> image_count_of(const json::object& r) {
  const json::value* v = r.if_contains("image_count");
  if (v == nullptr || !v->is_number()) return std::nullopt;
  double d = v->to_number<double>();
  if (!(d >= 1 && d <= 16) || std::floor(d) != d) return std::nullopt;
  return static_cast<int>(d);
}

std::int64_t estimate_image(const json::object& r) {
  const magichour::ImageModel* model = magichour::find_image_model(string_at(r, "model").value_or("default"));
  const std::int64_t per_image = model ? model->credits_per_image : magichour::max_credits_per_image();
  std::optional<int> factor;
  if (auto res = string_at(r, "resolution")) factor = magichour::resolution_factor(*res);
  std::optional<int> count = image_count_of(r);
  if (!count) count = model ? *std::max_element(model->image_counts.begin(), model->image_counts.end()) : 16;
  return per_image * factor.value_or(magichour::max_resolution_factor(model)) * *count;
}

std::int64_t estimate_upscale(const json::object& r) {
  std::optional<std::string_view> mode, enhancement;
  if (const json::value* s = r.if_contains("style"); s && s->is_object()) {
    mode = string_at(s->as_object(), "mode");
    enhancement = string_at(s->as_object(), "enhancement");
  }
  const json::value* f = r.if_contains("scale_factor");
  int factor = f && f->is_number() && f->to_number<double>() == 2.0 ? 2 : 4;
  auto price = magichour::upscale_credits(magichour::resolve_upscale_mode(mode, enhancement), factor);
  return price.value_or(*magichour::upscale_credits("creative", 4));  // unknown: the highest upscale price
}

json::value opt(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

}  // namespace

std::int64_t estimate_credits(magichour::CreateKind kind, const json::object& request) {
  return kind == magichour::CreateKind::image_generator ? estimate_image(request) : estimate_upscale(request);
}

std::string_view GuardDecision::reason() const {
  switch (stop) {
    case GuardStop::none: return "";
    case GuardStop::no_balance: return "no credit balance could be read";
    case GuardStop::reserve: return "the balance would fall below the reserve";
    case GuardStop::budget: return "the job's credit budget would be exceeded";
  }
  return "";
}

GuardDecision CreditGuard::decide(std::int64_t estimate) const {
  if (!n_.balance) return {GuardStop::no_balance};
  if (*n_.balance - n_.outstanding - estimate < n_.reserve) return {GuardStop::reserve};
  if (n_.budget && n_.committed + estimate > *n_.budget) return {GuardStop::budget};
  return {GuardStop::none};
}

void CreditGuard::commit(std::int64_t estimate) {
  n_.committed += estimate;
  n_.outstanding += estimate;
}

json::object CreditGuard::record(const GuardDecision& decision, std::int64_t estimate) const {
  std::optional<std::int64_t> available, budget_left;
  if (n_.balance) available = *n_.balance - n_.outstanding - n_.reserve;
  if (n_.budget) budget_left = *n_.budget - n_.committed;
  return json::object{{"reason", decision.reason()},    {"balance", opt(n_.balance)},
                      {"committed", n_.committed},      {"outstanding", n_.outstanding},
                      {"estimate", estimate},           {"reserve", n_.reserve},
                      {"budget", opt(n_.budget)},       {"available_above_reserve", opt(available)},
                      {"budget_left", opt(budget_left)}};
}

}  // namespace mh::pipeline
