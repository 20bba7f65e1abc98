#include "extract/page_guard.hpp"

#include "util/hash.hpp"

namespace mh::extract {

std::optional<std::string> PageGuard::admit(const std::string& request) {
  const std::int64_t page = pages() + 1;
  // Digests, not the requests: an endless sequence of long cursors stays small in memory.
  auto [it, fresh] = seen_.emplace(util::sha256_hex(request), page);
  if (!fresh) {
    return "the paginator looped: page " + std::to_string(page) + " would repeat the request of page " +
           std::to_string(it->second) + "; stopped without fetching it again";
  }
  if (max_pages_ && page > *max_pages_) {
    seen_.erase(it);
    return "more than max_pages (" + std::to_string(*max_pages_) + ") pages; stopped without fetching page " +
           std::to_string(page);
  }
  return std::nullopt;
}

}  // namespace mh::extract
