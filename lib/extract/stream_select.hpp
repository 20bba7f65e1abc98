// The records of a page as a stream (issue 13, point 3): each record is built on its own and
// handed out in batches, so a 16 MiB page's records list is never a tree as a whole. The
// selection is take_records' (select.hpp); docs/memory.md says what streams and what not.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/json_path.hpp"

namespace mh::extract {

// Records per batch: small next to a page (a 16 MiB page can hold 8.4 M records).
inline constexpr std::size_t kBatchRecords = 4096;

class PageStream {
 public:
  // Parses `text` once completely — syntax, nesting, and which values hold the records —
  // before the first batch: a malformed page throws std::runtime_error here, before any of
  // its records is handed out. `text` and the paths must outlive the stream.
  PageStream(std::string_view text, const std::optional<config::JsonPath>& selector,
             const std::vector<const config::JsonPath*>& keep = {});
  ~PageStream();
  PageStream(const PageStream&) = delete;
  PageStream& operator=(const PageStream&) = delete;

  // Replaces `batch` with the next records (about `max`); false, with `batch` empty, once
  // the page has no more.
  bool next(std::vector<boost::json::value>& batch, std::size_t max = kBatchRecords);
  // The page without its records, where the `keep` paths read what take_records leaves
  // (a record on a kept path stays, copied). Complete once next() returned false.
  const boost::json::value& rest() const;
  // false: the page was read as one tree and take_records chose (a case the stream cannot
  // decide up front; see docs/memory.md).
  bool streamed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::extract
