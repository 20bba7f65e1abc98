// RFC 9457 problem details: the one error shape of the control plane
// (application/problem+json with type, title, status, detail). Handlers throw
// Problem; the control plane turns it into the response.
#pragma once

#include <boost/json/object.hpp>
#include <stdexcept>
#include <string>

#include "net/http_message.hpp"

namespace mh::control {

class Problem : public std::runtime_error {
 public:
  Problem(int status, std::string detail, boost::json::object extra = {})
      : std::runtime_error(detail), status_(status), extra_(std::move(extra)) {}
  int status() const { return status_; }
  const boost::json::object& extra() const { return extra_; }

 private:
  int status_;
  boost::json::object extra_;
};

// `extra` members (e.g. "errors", "reasons") are added next to the standard ones;
// registered secrets in the detail and in extra strings are masked (***).
net::HttpResponse problem_response(int status, const std::string& detail, const boost::json::object& extra = {});

// The JSON body of a request, or Problem 400 naming what is wrong with it.
boost::json::object parse_json_body(const net::HttpRequest& request);

// Constant-time comparison of "Authorization: Bearer <token>" with `token`;
// false for an empty `token` (no token configured: nobody is let in).
bool bearer_matches(const net::HttpRequest& request, const std::string& token);

}  // namespace mh::control
