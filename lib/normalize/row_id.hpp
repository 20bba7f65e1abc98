// `_dlt_id` values: random for root rows, a hash of the parent link for
// nested rows (docs/dlt-layout.md §System columns), so re-normalizing a record gives its
// nested rows the same ids under the same parent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mh::normalize {

// 10 random bytes as unpadded standard base64: 14 characters.
class RootIdSource {
 public:
  void append_next(std::string& out);
  std::string next();

 private:
  // RAND_bytes per row would dominate normalization; one call per ~400 rows does not.
  unsigned char pool_[4000];
  std::size_t used_ = sizeof pool_;
};

// base64(shake_128(f"{parent_id}_{table}_{list_idx}").digest(10)), unpadded.
void append_nested_row_id(std::string& out, std::string_view parent_id, std::string_view table, std::uint64_t list_idx);
std::string nested_row_id(std::string_view parent_id, std::string_view table, std::uint64_t list_idx);

}  // namespace mh::normalize
