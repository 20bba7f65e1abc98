// Absolute http(s) URLs split into what a client needs to connect and ask.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mh::net {

struct Url {
  std::string scheme;  // "http" | "https"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;    // path and query, at least "/"
  std::string userinfo;  // "user:password" before '@', as written (percent-encoded); empty when none

  bool tls() const { return scheme == "https"; }
  bool host_is_ip() const;
  std::string authority() const;  // host:port, IPv6 bracketed
  std::string origin() const;     // scheme://authority
};

// nullopt with `error` for anything but an absolute http(s) URL. A URL holding a
// control character (CR, LF, NUL, DEL, …) or a space is refused: it would end up
// verbatim in a request line or a Host header and could split the request.
std::optional<Url> parse_url(std::string_view text, std::string& error);

// `reference` resolved against `base` (RFC 3986 subset: absolute URLs, absolute
// paths, and relative paths), as dlt's json_link paginator needs.
std::string resolve_url(const Url& base, std::string_view reference);

}  // namespace mh::net
