// Starts the real magichour-sim binary on a free loopback port for a test and
// stops it afterwards; plus a small curl-based HTTP helper, so simulator tests
// talk to it over real HTTP with a client that is not ours.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace mh::test {

// The magichour-sim binary built with the tests.
std::string sim_binary();

class SimProcess {
 public:
  explicit SimProcess(std::vector<std::string> args = {});
  ~SimProcess();

  const std::string& base_url() const { return base_url_; }  // e.g. http://127.0.0.1:41234 (no /v1)
  std::uint16_t port() const { return port_; }
  Child& child() { return *child_; }

 private:
  std::unique_ptr<Child> child_;
  std::string base_url_;
  std::uint16_t port_ = 0;
};

struct CurlResponse {
  int curl_exit = 0;  // 0 when curl got a full response; otherwise curl's code (52 empty, 56 reset, 18 partial, ...)
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;                // curl's stderr
  boost::json::value json() const;  // parses body; throws on invalid JSON
};

struct CurlOptions {
  std::vector<std::string> headers;  // "Name: value"
  std::optional<std::string> body;
  std::optional<std::string> body_file;  // --data-binary @file
  std::optional<std::string> cacert;
  double max_time_s = 20;
};

CurlResponse curl(const std::string& method, const std::string& url, const CurlOptions& options = {});

// Bearer-authenticated JSON call against the simulator.
CurlResponse sim_call(const SimProcess& sim, const std::string& method, const std::string& path,
                      const std::optional<std::string>& json_body = std::nullopt,
                      const std::string& key = "sim-dev-key");

}  // namespace mh::test
