#include "pipeline/inbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "log/log.hpp"
#include "util/hash.hpp"

namespace mh::pipeline {
namespace json = boost::json;

namespace {

std::int64_t ns_of(const struct timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

FileIdentity identity_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::int64_t>(st.st_size), ns_of(st.st_mtim)};
}

void skip(std::string_view why, const std::string& path, bool warn = true) {
  if (warn) {
    log::warn(why, {{"file", path}});
  } else {
    log::info(why, {{"file", path}});
  }
}

// The file's SHA-256 through `fd`; nullopt on a read error.
std::optional<std::string> hash_fd(int fd) {
  util::Sha256 h;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    h.update(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return h.hex_digest();
}

}  // namespace

HashCache::HashCache(std::optional<std::string> file) : file_(std::move(file)) {
  if (!file_) return;
  std::ifstream in(*file_);
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_array()) return;  // a damaged cache only costs a re-hash
  for (const auto& e : v.as_array()) {
    const json::array* a = e.if_array();
    if (a == nullptr || a->size() != 5 || !(*a)[4].is_string()) continue;
    try {
      FileIdentity id{json::value_to<std::uint64_t>((*a)[0]), json::value_to<std::uint64_t>((*a)[1]),
                      json::value_to<std::int64_t>((*a)[2]), json::value_to<std::int64_t>((*a)[3])};
      old_[id] = std::string((*a)[4].as_string());
    } catch (const std::exception&) {
    }
  }
}

std::optional<std::string> HashCache::find(const FileIdentity& id) {
  auto it = old_.find(id);
  if (it == old_.end()) return std::nullopt;
  used_[id] = it->second;
  return it->second;
}

void HashCache::put(const FileIdentity& id, std::string sha256) { used_[id] = std::move(sha256); }

void HashCache::save() const {
  if (!file_) return;
  json::array a;
  for (const auto& [id, sha] : used_) {
    a.push_back(json::array{id.device, id.inode, id.size, id.mtime_ns, json::string(sha)});
  }
  const std::string part = *file_ + ".part";
  {
    std::ofstream out(part, std::ios::trunc);
    out << json::serialize(a);
    if (!out.flush()) {
      log::warn("cannot write the inbox hash cache", {{"file", part}});
      return;
    }
  }
  if (::rename(part.c_str(), file_->c_str()) != 0) {
    log::warn("cannot write the inbox hash cache", {{"file", *file_}, {"error", std::strerror(errno)}});
  }
}

std::optional<InboxFile> take_file(int dirfd, const std::string& dir, const std::string& name,
                                   std::chrono::milliseconds settle, std::int64_t now_ns, HashCache& cache) {
  const std::string path = dir + "/" + name;
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    skip(errno == ENOENT ? "from_dir: the file vanished; skipped" : "from_dir: cannot stat the file; skipped", path);
    return std::nullopt;
  }
  if (S_ISLNK(st.st_mode)) {
    skip("from_dir: a symlink is refused; move the file itself in", path);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;  // directories, FIFOs, devices: not files to upload
  // Ready when no write happened for `settle`, or when a later metadata change (the rename
  // that ends a `.part` upload moves ctime, not mtime) says the writer is done.
  const std::int64_t mtime = ns_of(st.st_mtim);
  const bool renamed_in = ns_of(st.st_ctim) > mtime;
  const auto settle_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(settle).count();
  if (!renamed_in && now_ns - mtime < settle_ns) {
    skip("from_dir: the file is still being written (its mtime is newer than settle); left for a later run", path,
         false);
    return std::nullopt;
  }
  const FileIdentity id = identity_of(st);
  if (auto sha = cache.find(id)) return InboxFile{path, *sha};

  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      skip("from_dir: a symlink is refused; move the file itself in", path);
    } else {
      skip(errno == ENOENT ? "from_dir: the file vanished; skipped" : "from_dir: cannot open the file; skipped", path);
    }
    return std::nullopt;
  }
  struct stat before {};
  std::optional<std::string> sha;
  struct stat after {};
  bool same = ::fstat(fd, &before) == 0 && S_ISREG(before.st_mode) && identity_of(before) == id;
  if (same) sha = hash_fd(fd);
  same = same && sha && ::fstat(fd, &after) == 0 && identity_of(after) == id;
  ::close(fd);
  if (!same) {
    skip("from_dir: the file changed while it was read; left for a later run", path);
    return std::nullopt;
  }
  ++cache.hashed;
  cache.put(id, *sha);
  return InboxFile{path, *sha};
}

std::vector<InboxFile> scan_inbox(const std::string& dir, std::chrono::milliseconds settle,
                                  const std::optional<std::string>& cache_file,
                                  const std::function<bool(const std::string&)>& wanted) {
  int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) throw std::runtime_error("cannot list from_dir " + dir + ": " + std::strerror(errno));
  DIR* d = ::fdopendir(dirfd);
  if (d == nullptr) {
    ::close(dirfd);
    throw std::runtime_error("cannot list from_dir " + dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name.ends_with(".part") || !wanted(name)) continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  HashCache cache(cache_file);
  std::vector<InboxFile> out;
  for (const auto& name : names) {
    if (auto f = take_file(::dirfd(d), dir, name, settle, ns_of(now), cache)) out.push_back(std::move(*f));
  }
  ::closedir(d);
  cache.save();
  log::info("from_dir scanned",
            {{"dir", dir}, {"files", static_cast<std::int64_t>(out.size())}, {"hashed", cache.hashed}});
  return out;
}

}  // namespace mh::pipeline
