// Byte encodings dlt stores in its tables: standard base64 (row ids, hashes,
// the compressed pipeline state) and zlib streams.
#pragma once

#include <string>
#include <string_view>

namespace mh::util {

// Standard alphabet (+ and /); `pad` adds the trailing '='.
std::string base64_encode(std::string_view bytes, bool pad = true);
void base64_encode_append(std::string& out, std::string_view bytes, bool pad = true);
// Accepts padded or unpadded input; throws std::invalid_argument on bad input.
std::string base64_decode(std::string_view text);

// Lower-case hex digits, two per byte.
std::string hex_encode(std::string_view bytes);
// %XX escapes decoded (a malformed one is kept as it is); with `plus_is_space`, '+' is ' '
// (query strings). For URLs, DSNs and path segments alike.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

// A zlib stream (RFC 1950) as Python's zlib.compress(data, level) makes it.
std::string zlib_compress(std::string_view data, int level = 9);
// Throws std::runtime_error when `data` is no valid zlib stream.
std::string zlib_decompress(std::string_view data);

}  // namespace mh::util
