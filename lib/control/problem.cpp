#include "control/problem.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>

#include "log/log.hpp"
#include "util/hash.hpp"

namespace mh::control {

namespace json = boost::json;

namespace {

// Details often quote other components' messages (libpq's can quote a connection
// string): every registered secret is masked before an answer leaves, as in the log.
json::value redacted(const json::value& v) {
  if (v.is_string()) return json::value(log::redact(v.as_string()));
  if (v.is_array()) {
    json::array a;
    for (const auto& e : v.as_array()) a.push_back(redacted(e));
    return a;
  }
  return v;
}

}  // namespace

net::HttpResponse problem_response(int status, const std::string& detail, const json::object& extra) {
  json::object body = net::problem_object(status, log::redact(detail));
  for (const auto& [k, v] : extra) body[k] = redacted(v);
  return net::HttpResponse::text(status, json::serialize(body), "application/problem+json");
}

json::object parse_json_body(const net::HttpRequest& request) {
  if (request.body.empty()) return {};
  if (auto ct = request.header("Content-Type"); ct && ct->find("json") == std::string::npos) {
    throw Problem(415, "the body must be application/json");
  }
  json::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec) throw Problem(400, "the body is not valid JSON: " + ec.message());
  if (!v.is_object()) throw Problem(400, "the body must be a JSON object");
  return std::move(v.as_object());
}

bool bearer_matches(const net::HttpRequest& request, const std::string& token) {
  if (token.empty()) return false;
  auto header = request.header("Authorization");
  if (!header || header->size() < 7 || !net::iequals(std::string_view(*header).substr(0, 7), "Bearer ")) return false;
  std::string_view given = std::string_view(*header).substr(7);
  // Compare digests: equal length, so CRYPTO_memcmp's time does not depend on where they differ
  // nor reveal the token's length.
  const std::string a = util::sha256_hex(given), b = util::sha256_hex(token);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mh::control
