// HTTP requests and responses as plain structs, so route handlers (control
// plane, simulator) never see Beast types. Header names compare case-insensitively.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mh::net {

struct Header {
  std::string name;
  std::string value;
};

bool iequals(std::string_view a, std::string_view b);
// The first header named `name` (case-insensitively).
std::optional<std::string> find_header(const std::vector<Header>& headers, std::string_view name);
std::string url_decode(std::string_view s, bool plus_is_space = true);
std::string url_encode(std::string_view s);

struct HttpRequest {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // as sent: "/v1/saved-items?limit=10"
  std::string path;    // target without the query, not decoded
  std::string query;   // after '?', not decoded
  std::vector<Header> headers;
  std::string body;
  std::string remote_address;
  bool tls = false;

  std::optional<std::string> header(std::string_view name) const;
  // The first occurrence of a query parameter, URL-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
};

// What the server does with a response. Anything but `send` exists for fault
// injection (the simulator): real handlers always send.
enum class ResponseAction {
  send,      // write the response
  reset,     // close the connection with a TCP reset, writing nothing
  truncate,  // write the headers with the full Content-Length, then part of the body, then close
};

struct HttpResponse {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before acting
  ResponseAction action = ResponseAction::send;
  std::size_t truncate_at = 0;  // bytes of body sent when action == truncate
  bool close = false;           // close the connection after this response

  HttpResponse& set_header(std::string name, std::string value);
  std::optional<std::string> header(std::string_view name) const;

  static HttpResponse json(int status, std::string body);
  static HttpResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static HttpResponse empty(int status);
};

std::string_view reason_phrase(int status);

// RFC 9457 problem details: {type: about:blank, title: the reason phrase, status, detail}.
// The one shape of every error answer (the server's own, the control plane's).
boost::json::object problem_object(int status, std::string_view detail);
HttpResponse problem_response(int status, std::string_view detail);  // application/problem+json

}  // namespace mh::net
