#include "normalize/row_id.hpp"

#include <algorithm>
#include <charconv>

#include "util/codec.hpp"
#include "util/hash.hpp"

namespace mh::normalize {
namespace {
constexpr std::size_t kIdBytes = 10;
}

void RootIdSource::append_next(std::string& out) {
  if (used_ + kIdBytes > sizeof pool_) {
    util::random_bytes(pool_, sizeof pool_);
    used_ = 0;
  }
  util::base64_encode_append(out, std::string_view(reinterpret_cast<const char*>(pool_ + used_), kIdBytes), false);
  used_ += kIdBytes;
}

std::string RootIdSource::next() {
  std::string out;
  append_next(out);
  return out;
}

void append_nested_row_id(std::string& out, std::string_view parent_id, std::string_view table,
                          std::uint64_t list_idx) {
  char key[256];
  std::string heap;
  std::string_view input;
  std::size_t need = parent_id.size() + table.size() + 24;
  char idx[24];
  auto idx_end = std::to_chars(idx, idx + sizeof idx, list_idx).ptr;
  if (need <= sizeof key) {
    char* p = key;
    p = std::copy(parent_id.begin(), parent_id.end(), p);
    *p++ = '_';
    p = std::copy(table.begin(), table.end(), p);
    *p++ = '_';
    p = std::copy(idx, idx_end, p);
    input = std::string_view(key, static_cast<std::size_t>(p - key));
  } else {
    heap.append(parent_id).append("_").append(table).append("_").append(idx, idx_end);
    input = heap;
  }
  unsigned char digest[kIdBytes];
  util::shake128(input, digest, kIdBytes);
  util::base64_encode_append(out, std::string_view(reinterpret_cast<const char*>(digest), kIdBytes), false);
}

std::string nested_row_id(std::string_view parent_id, std::string_view table, std::uint64_t list_idx) {
  std::string out;
  append_nested_row_id(out, parent_id, table, list_idx);
  return out;
}

}  // namespace mh::normalize
