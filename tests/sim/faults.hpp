// Fault injection rules of magichour-sim: which requests (method + path
// template) get which fault, at what rate or for how many requests.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mh::sim {

enum class FaultKind {
  status,      // answer with `status` (and Retry-After if set) without processing
  latency,     // add `latency` before the answer; other rules still apply
  reset,       // cut the connection with a TCP reset before processing
  drop_after,  // process the request (a create is billed), then cut the connection unanswered
  truncate,    // process, then send only half of the body
  bad_json,    // process, then send a body that is not valid JSON
};

struct FaultRule {
  std::string method = "*";  // or GET, POST, ...
  std::string route = "*";   // a path template such as /v1/image-projects/{id}, or *
  FaultKind kind = FaultKind::status;
  int status = 500;
  std::optional<std::string> retry_after;  // the header value as sent, e.g. "2", "0", an HTTP-date
  std::chrono::milliseconds latency{0};
  std::optional<std::int64_t> first;  // fire on the first N matching requests only
  double rate = 1.0;                  // otherwise with this probability
  std::int64_t matched = 0;           // matching requests seen
  std::int64_t fired = 0;

  boost::json::object to_json() const;
};

// "POST /v1/ai-image-generator status=429 retry_after=2 first=3", "GET * latency=200ms rate=0.5",
// "GET /v1/saved-items reset first=1". nullopt with `error` on a malformed spec.
std::optional<FaultRule> parse_fault(const std::string& spec, std::string& error);
// A JSON rule: a spec string as above, or {"route": "METHOD /path", "kind": ..., ...}.
std::optional<FaultRule> fault_from_json(const boost::json::value& v, std::string& error);

struct FaultDecision {
  std::chrono::milliseconds latency{0};
  const FaultRule* rule = nullptr;  // the non-latency rule that fired, if any
};

class FaultTable {
 public:
  explicit FaultTable(std::uint64_t seed) : rng_(seed) {}
  void replace(std::vector<FaultRule> rules) { rules_ = std::move(rules); }
  void add(FaultRule rule) { rules_.push_back(std::move(rule)); }
  void clear() { rules_.clear(); }
  const std::vector<FaultRule>& rules() const { return rules_; }
  std::int64_t fired_total() const { return fired_total_; }

  // Rules are tried in order: latency rules add up; the first other rule that fires decides.
  FaultDecision decide(const std::string& method, const std::string& route);

 private:
  std::vector<FaultRule> rules_;
  std::mt19937_64 rng_;
  std::int64_t fired_total_ = 0;
};

}  // namespace mh::sim
