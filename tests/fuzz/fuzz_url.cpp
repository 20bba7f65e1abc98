// Fuzz target: the outbound URL parser (net::parse_url) and reference resolution.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // First line: the URL; the rest: a reference resolved against it (next links).
  auto nl = input.find('\n');
  std::string_view text = input.substr(0, nl);
  std::string_view reference = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  std::string error;
  auto url = mh::net::parse_url(text, error);
  if (!url) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  if (url->target.empty() || url->target[0] != '/' || url->host.empty()) __builtin_trap();
  (void)url->origin();
  (void)url->host_is_ip();
  // What the parser accepts it must accept again from its own origin + target.
  std::string again = url->origin() + url->target;
  if (!mh::net::parse_url(again, error)) __builtin_trap();
  if (!reference.empty()) {
    try {
      (void)mh::net::resolve_url(*url, reference);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
