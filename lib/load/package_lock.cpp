#include "load/package_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "load/load_id.hpp"
#include "load/package.hpp"
#include "log/log.hpp"

namespace mh::load {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRemovingPrefix = ".removing-";

std::runtime_error os_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

// Serializes the two steps that must not interleave: creating a package with
// its lock (mkdir, then the lock file), and deciding that a package without a
// held lock is abandoned. Held only for those short steps.
class Guard {
 public:
  explicit Guard(const std::string& packages) {
    std::string path = packages + ".lock";  // beside the folder: it holds packages only
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw os_error("cannot open", path);
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd_);
        throw os_error("cannot lock", path);
      }
    }
  }
  ~Guard() { ::close(fd_); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

 private:
  int fd_ = -1;
};

std::string parent_of(const std::string& dir) { return fs::path(dir).parent_path().string(); }

bool same_file(int fd, const std::string& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// acquire() without taking the guard (the caller holds it, or must not).
PackageLock::Outcome acquire_lock(const std::string& dir, std::chrono::milliseconds wait, bool guarded, int& fd_out) {
  const std::string path = dir + "/" + kLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // No lock file: a package from before package locks, or one whose creation
    // a crash cut short. Removals rename the folder first, so a folder still
    // under its load id is not being removed; the guard orders this with discard.
    std::optional<Guard> guard;
    if (!guarded) guard.emplace(parent_of(dir));
    if (!fs::is_directory(dir)) return PackageLock::Outcome::gone;
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  }
  if (fd < 0) {
    if (errno == ENOENT) return PackageLock::Outcome::gone;
    throw os_error("cannot open the lock of load package", dir);
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      ::close(fd);
      throw os_error("cannot lock load package", dir);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return PackageLock::Outcome::busy;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The holder we waited for may have removed the package: then our file is
  // no longer the one under `dir`.
  if (!same_file(fd, path)) {
    ::close(fd);
    return PackageLock::Outcome::gone;
  }
  fd_out = fd;
  return PackageLock::Outcome::locked;
}

// Deletes everything in `dir` but its lock file, then the lock file and the
// folder: whoever finds the folder keeps finding a lock file until it is empty.
void remove_tree(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename() != kLockFile) entries.push_back(e.path());
  }
  for (const auto& p : entries) {
    fs::remove_all(p, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      throw std::runtime_error("cannot remove load package " + dir + ": " + ec.message());
    }
  }
  fs::remove(fs::path(dir) / kLockFile, ec);
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) throw os_error("cannot remove load package", dir);
}

// A removal a crash cut short (the folder was renamed, not yet emptied). Its
// lock file is only opened, never created: the owner may be removing it now.
void finish_removal(const std::string& dir) {
  const std::string lock = dir + "/" + kLockFile;
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);  // its owner is still at it
    return;
  }
  try {
    remove_tree(dir);
  } catch (const std::exception& e) {
    log::warn("cannot finish removing a load package", {{"path", dir}, {"error", e.what()}});
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace

PackageLock& PackageLock::operator=(PackageLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    dir_ = std::move(other.dir_);
    other.fd_ = -1;
  }
  return *this;
}

void PackageLock::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<PackageLock> PackageLock::create(const std::string& dir) {
  const std::string packages = parent_of(dir);
  fs::create_directories(packages);
  Guard guard(packages);
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno == EEXIST) return std::nullopt;
    throw os_error("cannot create load package", dir);
  }
  const std::string path = dir + "/" + kLockFile;
  PackageLock lock;
  lock.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (lock.fd_ < 0) throw os_error("cannot create the lock of load package", dir);
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) throw os_error("cannot lock load package", dir);
  lock.dir_ = dir;
  return lock;
}

PackageLock::Outcome PackageLock::acquire(const std::string& dir, std::chrono::milliseconds wait, PackageLock& out) {
  int fd = -1;
  Outcome o = acquire_lock(dir, wait, false, fd);
  if (o == Outcome::locked) {
    out.release();
    out.fd_ = fd;
    out.dir_ = dir;
  }
  return o;
}

std::vector<std::string> discard_incomplete_packages(const std::string& state_dir) {
  const std::string packages = packages_dir(state_dir);
  std::vector<std::string> removed;
  if (!fs::is_directory(packages)) return removed;
  Guard guard(packages);
  std::error_code ec;
  std::vector<fs::path> dirs;  // listed first: removals rename entries
  for (const auto& entry : fs::directory_iterator(packages, ec)) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  for (const auto& path : dirs) {
    const std::string name = path.filename().string();
    if (name.starts_with(kRemovingPrefix)) {
      finish_removal(path.string());
      continue;
    }
    if (std::isnan(load_id_value(name)) || fs::exists(path / kManifestFile)) continue;
    int fd = -1;
    auto outcome = acquire_lock(path.string(), std::chrono::milliseconds(0), true, fd);
    if (outcome == PackageLock::Outcome::busy) {
      log::debug("an incomplete load package is being written by a live run", {{"load_id", name}});
      continue;
    }
    if (outcome == PackageLock::Outcome::gone) continue;
    log::warn("discarding an incomplete load package", {{"load_id", name}});
    try {
      remove_package(path.string());
      removed.push_back(path.string());
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  return removed;
}

void remove_package(const std::string& dir) {
  const fs::path p(dir);
  const std::string trash = (p.parent_path() / (kRemovingPrefix + p.filename().string())).string();
  if (::rename(dir.c_str(), trash.c_str()) != 0) throw os_error("cannot remove load package", dir);
  remove_tree(trash);
}

}  // namespace mh::load
