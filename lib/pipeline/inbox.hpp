// The from_dir inbox: which files of a directory are ready to upscale, each with its content
// hash. Regular files only (symlinks refused), files still being written left for a later run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mh::pipeline {

struct InboxFile {
  std::string path;  // from_dir + "/" + name
  std::string sha256;
};

// What identifies a file's content without reading it: same (device, inode, size, mtime),
// same bytes, as long as writers go through write(2) (which moves mtime).
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  auto operator<=>(const FileIdentity&) const = default;
};

// Hashes of earlier scans, kept in one JSON file. Only the entries a scan used are saved,
// so the file stays as small as the inbox. A missing or unreadable file is an empty cache.
class HashCache {
 public:
  explicit HashCache(std::optional<std::string> file);
  std::optional<std::string> find(const FileIdentity& id);  // marks the entry as used
  void put(const FileIdentity& id, std::string sha256);
  void save() const;        // writes FILE.part, then renames it over FILE; a failure is a warning
  std::int64_t hashed = 0;  // files read (not found in the cache) by this scan

 private:
  std::optional<std::string> file_;
  std::map<FileIdentity, std::string> old_, used_;
};

// One directory entry. Nullopt (with a log line) when it is not to be taken now: not a
// regular file, a symlink, still being written, or gone.
std::optional<InboxFile> take_file(int dirfd, const std::string& dir, const std::string& name,
                                   std::chrono::milliseconds settle, std::int64_t now_ns, HashCache& cache);

// Every file of `dir` that `wanted` accepts by name and that is ready, sorted by name.
// Names ending in `.part` are never taken (written there, renamed when complete). Throws
// only when `dir` itself cannot be read. `cache_file`: the hash cache (none: hash every file).
std::vector<InboxFile> scan_inbox(const std::string& dir, std::chrono::milliseconds settle,
                                  const std::optional<std::string>& cache_file,
                                  const std::function<bool(const std::string&)>& wanted);

}  // namespace mh::pipeline
