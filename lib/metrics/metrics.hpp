// mhloader's Prometheus metrics (DESIGN.md §2.6): one registry, typed methods to
// update it, and the text exposition. prometheus-cpp stays behind this header.
// Label values must come from bounded sets (endpoint templates, job and table
// names), never from ids or user input.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mh::metrics {

class Metrics {
 public:
  Metrics(const std::string& version, const std::string& revision);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Upstream (Magic Hour). `endpoint` is a template such as "GET /v1/image-projects/{id}";
  // `code` an HTTP status, or a transport failure kind ("timeout", "reset", ...).
  void upstream_request(std::string_view endpoint, std::string_view code, double seconds);
  void upstream_retry(std::string_view endpoint, std::string_view reason);
  void set_upstream_up(bool up);
  void set_credits(std::int64_t balance, bool low);
  void credits_charged(std::string_view resource, std::int64_t credits);

  // The Prometheus text format (version 0.0.4) of every family.
  std::string serialize() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::metrics
