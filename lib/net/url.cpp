#include "net/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mh::net {

bool Url::host_is_ip() const {
  if (host.find(':') != std::string::npos) return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::origin() const { return scheme + "://" + authority(); }

namespace {

// A host name (letters, digits, '-', '.', '_') or, inside brackets, an IPv6 literal
// (hex digits, ':', '.'). Anything else, e.g. a second ':' outside brackets, would
// make authority() print a different URL than the one parsed.
bool valid_host(std::string_view host, bool bracketed) {
  return std::all_of(host.begin(), host.end(), [bracketed](unsigned char c) {
    if (bracketed) return std::isxdigit(c) != 0 || c == ':' || c == '.';
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

std::optional<Url> parse_url(std::string_view text, std::string& error) {
  Url u;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c == 0x7f) {
      // The URL itself is not quoted: its control characters would reach the log.
      error = "a URL with a control character or a space (byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
              std::string(1, "0123456789abcdef"[c & 15]) + " at offset " + std::to_string(i) + ") is refused";
      return std::nullopt;
    }
  }
  std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    error = "'" + std::string(text) + "' is not an absolute URL";
    return std::nullopt;
  }
  u.scheme = std::string(text.substr(0, sep));
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (u.scheme != "http" && u.scheme != "https") {
    error = "unsupported URL scheme '" + u.scheme + "' (http or https)";
    return std::nullopt;
  }
  std::string_view rest = text.substr(sep + 3);
  std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    u.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view port_text;
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (bracketed) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unclosed '[' in URL host";
      return std::nullopt;
    }
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        error = "unexpected characters after the IPv6 host";
        return std::nullopt;
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    error = "URL '" + std::string(text) + "' has no host";
    return std::nullopt;
  }
  if (!valid_host(u.host, bracketed)) {
    error = "invalid host in URL '" + std::string(text) + "'";
    return std::nullopt;
  }
  std::transform(u.host.begin(), u.host.end(), u.host.begin(), [](unsigned char c) { return std::tolower(c); });
  u.port = u.tls() ? 443 : 80;
  if (!port_text.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || p == 0 || p > 65535) {
      error = "invalid port in URL '" + std::string(text) + "'";
      return std::nullopt;
    }
    u.port = static_cast<std::uint16_t>(p);
  }
  std::string_view target = path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
  if (auto hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  u.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return u;
}

std::string resolve_url(const Url& base, std::string_view ref) {
  if (ref.find("://") != std::string_view::npos) return std::string(ref);
  if (ref.starts_with("//")) return base.scheme + ":" + std::string(ref);
  if (ref.starts_with("/")) return base.origin() + std::string(ref);
  std::string path = base.target.substr(0, base.target.find('?'));
  path = path.substr(0, path.rfind('/') + 1);
  return base.origin() + path + std::string(ref);
}

}  // namespace mh::net
