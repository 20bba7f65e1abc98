#include "faults.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <sstream>

#include "util/duration.hpp"

namespace mh::sim {
namespace json = boost::json;

namespace {

const char* kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::status: return "status";
    case FaultKind::latency: return "latency";
    case FaultKind::reset: return "reset";
    case FaultKind::drop_after: return "drop_after";
    case FaultKind::truncate: return "truncate";
    case FaultKind::bad_json: return "bad_json";
  }
  return "status";
}

bool parse_int(const std::string& s, std::int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Applies one `key=value` (or bare kind) token of a spec.
bool apply_token(FaultRule& r, const std::string& key, const std::optional<std::string>& value, std::string& error) {
  auto need = [&](const char* what) {
    if (!value) error = "'" + key + "' needs a value (" + what + ")";
    return value.has_value();
  };
  std::int64_t n = 0;
  if (key == "reset" || key == "drop_after" || key == "truncate" || key == "bad_json") {
    r.kind = key == "reset"        ? FaultKind::reset
             : key == "drop_after" ? FaultKind::drop_after
             : key == "truncate"   ? FaultKind::truncate
                                   : FaultKind::bad_json;
    return true;
  }
  if (key == "status") {
    if (!need("an HTTP status") || !parse_int(*value, n) || n < 100 || n > 599) {
      if (error.empty()) error = "status must be an HTTP status code";
      return false;
    }
    r.kind = FaultKind::status;
    r.status = static_cast<int>(n);
    return true;
  }
  if (key == "latency") {
    if (!need("a duration")) return false;
    auto d = util::parse_duration(*value, error);
    if (!d) return false;
    r.kind = FaultKind::latency;
    r.latency = *d;
    return true;
  }
  if (key == "retry_after") {
    if (!need("seconds or an HTTP-date")) return false;
    r.retry_after = *value;
    return true;
  }
  if (key == "first") {
    if (!need("a count") || !parse_int(*value, n) || n < 0) {
      if (error.empty()) error = "first must be a count";
      return false;
    }
    r.first = n;
    return true;
  }
  if (key == "rate") {
    double d = -1;
    if (!need("a probability")) return false;
    auto [p, ec] = std::from_chars(value->data(), value->data() + value->size(), d);
    if (ec != std::errc() || d < 0 || d > 1) {
      error = "rate must be a number from 0 to 1";
      return false;
    }
    r.rate = d;
    return true;
  }
  error = "unknown fault setting '" + key + "'";
  return false;
}

}  // namespace

json::object FaultRule::to_json() const {
  json::object o;
  o["route"] = method + " " + route;
  o["kind"] = kind_name(kind);
  if (kind == FaultKind::status) o["status"] = status;
  if (retry_after) o["retry_after"] = *retry_after;
  if (kind == FaultKind::latency) o["latency_ms"] = latency.count();
  if (first) o["first"] = *first;
  o["rate"] = rate;
  o["matched"] = matched;
  o["fired"] = fired;
  return o;
}

std::optional<FaultRule> parse_fault(const std::string& spec, std::string& error) {
  std::istringstream in(spec);
  FaultRule r;
  if (!(in >> r.method >> r.route)) {
    error = "a fault spec starts with METHOD PATH, e.g. 'POST /v1/ai-image-generator status=429'";
    return std::nullopt;
  }
  bool has_kind = false;
  std::string token;
  while (in >> token) {
    std::size_t eq = token.find('=');
    std::string key = token.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) value = token.substr(eq + 1);
    if (!apply_token(r, key, value, error)) return std::nullopt;
    has_kind = has_kind || (key != "first" && key != "rate" && key != "retry_after");
  }
  if (!has_kind) {
    error = "no fault kind in '" + spec + "' (status=N, latency=D, reset, drop_after, truncate, bad_json)";
    return std::nullopt;
  }
  return r;
}

std::optional<FaultRule> fault_from_json(const json::value& v, std::string& error) {
  if (v.is_string()) return parse_fault(std::string(v.get_string()), error);
  if (!v.is_object()) {
    error = "a fault is a spec string or an object";
    return std::nullopt;
  }
  const auto& o = v.get_object();
  std::string spec;
  if (auto* route = o.if_contains("route"); route && route->is_string()) {
    spec = std::string(route->get_string());
  } else {
    error = "a fault object needs \"route\": \"METHOD /path\"";
    return std::nullopt;
  }
  for (const auto& kv : o) {
    if (kv.key() == "route") continue;
    if (kv.key() == "kind") {
      if (!kv.value().is_string()) {
        error = "kind must be a string";
        return std::nullopt;
      }
      std::string kind(kv.value().get_string());
      if (kind != "status" && kind != "latency") spec += " " + kind;
      continue;
    }
    std::string value = kv.value().is_string() ? std::string(kv.value().get_string()) : json::serialize(kv.value());
    if (kv.key() == "latency_ms") {
      spec += " latency=" + value + "ms";
    } else {
      spec += " " + std::string(kv.key()) + "=" + value;
    }
  }
  return parse_fault(spec, error);
}

FaultDecision FaultTable::decide(const std::string& method, const std::string& route) {
  FaultDecision d;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (auto& r : rules_) {
    if (r.method != "*" && r.method != method) continue;
    if (r.route != "*" && r.route != route) continue;
    ++r.matched;
    bool fires = r.first ? (r.fired < *r.first) : (r.rate >= 1.0 || uniform(rng_) < r.rate);
    if (!fires) continue;
    ++r.fired;
    ++fired_total_;
    if (r.kind == FaultKind::latency) {
      d.latency += r.latency;
      continue;
    }
    d.rule = &r;
    break;
  }
  return d;
}

}  // namespace mh::sim
