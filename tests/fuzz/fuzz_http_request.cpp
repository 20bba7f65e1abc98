// Fuzz target: raw bytes through the control plane's HTTP request parser (Beast's
// request_parser with the server's header and body limits, as serve_connection
// sets them, then to_request) and the route matcher, loaded with every path the
// OpenAPI document lists. Handlers and authentication need the daemon's database
// and are not run here (tests/integration/test_control.cpp covers them).
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "control/router.hpp"
#include "net/detail/http_session.hpp"
#include "net/http_server.hpp"

namespace {

namespace http = boost::beast::http;

mh::control::Router& router() {
  static mh::control::Router r = [] {
    mh::control::Router made;
    std::ifstream in(MHLOADER_OPENAPI_JSON);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = boost::json::parse(text.str());
    for (const auto& [path, ops] : doc.at("paths").as_object()) {
      for (const auto& [method, op] : ops.as_object()) {
        std::string m(method);
        if (m != "get" && m != "post" && m != "put" && m != "patch" && m != "delete") continue;
        for (auto& ch : m) ch = static_cast<char>(ch - 'a' + 'A');
        made.add(mh::control::Route{m, std::string(path), false, {}});
      }
    }
    return made;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)router();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mh::net::HttpServerOptions limits;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    std::size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;
    if (n == 0) break;
    used += n;
  }
  if (!parser.got_some()) return 0;  // put_eof() requires some input
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  mh::net::HttpRequest request = mh::net::detail::to_request(parser.get(), "127.0.0.1", false);
  if (request.path.size() > request.target.size()) __builtin_trap();
  (void)request.header("Authorization");
  (void)request.query_param("limit");
  auto match = router().match(request.method, request.path);
  if (match.route && !match.allowed.empty()) __builtin_trap();
  return 0;
}
