// Bounds one resource's pagination: a request never repeats within a run, and at most
// `max_pages` pages are fetched. Pure: the paginators ask it before each request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace mh::extract {

class PageGuard {
 public:
  explicit PageGuard(std::optional<std::int64_t> max_pages) : max_pages_(max_pages) {}

  // Admits `request` (the path and query of the next page) as the next page. Returns why it
  // must not be fetched: it repeats an earlier page of this run (a cursor or link loop), or
  // it would be one page past max_pages. Never names the request itself (it may carry tokens).
  std::optional<std::string> admit(const std::string& request);

  std::int64_t pages() const { return static_cast<std::int64_t>(seen_.size()); }

 private:
  std::optional<std::int64_t> max_pages_;
  std::unordered_map<std::string, std::int64_t> seen_;  // sha256 of a request -> its page number (1-based)
};

}  // namespace mh::extract
