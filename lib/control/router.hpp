// The control plane's route table: method + path template ("/api/v1/runs/{id}")
// → handler, with 404 and 405 (and its Allow header) decided in one place.
// The table is data, so the OpenAPI document can be checked against it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/http_message.hpp"

namespace mh::control {

using PathParams = std::map<std::string, std::string>;  // URL-decoded
using RouteHandler =
    std::function<boost::asio::awaitable<net::HttpResponse>(const net::HttpRequest&, const PathParams&)>;

struct Route {
  std::string method;
  std::string path;   // template; a segment "{name}" matches one non-empty segment
  bool auth = false;  // requires the Bearer token
  RouteHandler handler;
  std::string name() const { return method + " " + path; }  // the metrics label
};

struct Match {
  const Route* route = nullptr;  // set when method and path matched
  PathParams params;
  std::vector<std::string> allowed;  // path matched, method did not: the methods it has (405)
};

class Router {
 public:
  void add(Route route);
  // HEAD is answered by a GET route.
  Match match(const std::string& method, const std::string& path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace mh::control
