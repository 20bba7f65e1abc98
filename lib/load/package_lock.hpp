// Who owns a load package folder: each package holds a lock file (`.lock`,
// flock) that its run keeps while it writes and loads the package, so no
// process removes a package another one is working on, and a crashed run's
// lock is freed by the kernel. Blocking: run on the blocking pool.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mh::load {

inline constexpr const char* kLockFile = ".lock";

// An exclusive flock on a package's lock file. flock locks belong to the open
// file description, so two threads of one process with their own locks exclude
// each other too. Releasing closes the descriptor.
class PackageLock {
 public:
  PackageLock() = default;
  ~PackageLock() { release(); }
  PackageLock(PackageLock&& other) noexcept : fd_(other.fd_), dir_(std::move(other.dir_)) { other.fd_ = -1; }
  PackageLock& operator=(PackageLock&& other) noexcept;
  PackageLock(const PackageLock&) = delete;
  PackageLock& operator=(const PackageLock&) = delete;

  bool held() const { return fd_ >= 0; }
  const std::string& dir() const { return dir_; }
  void release();

  // Creates the package folder `dir` (inside state_dir/packages) with its lock
  // held; nullopt when `dir` exists already (another process took that load
  // id). Throws std::runtime_error naming the path when it cannot.
  static std::optional<PackageLock> create(const std::string& dir);

  enum class Outcome {
    locked,  // the lock is ours and the package is still there
    gone,    // the package was removed (loaded) meanwhile
    busy,    // another run still held the lock when `wait` ran out
  };
  // Takes the lock of the package folder `dir`, waiting up to `wait` for
  // another holder to let go.
  static Outcome acquire(const std::string& dir, std::chrono::milliseconds wait, PackageLock& out);

 private:
  int fd_ = -1;
  std::string dir_;
};

// Removes package folders without a manifest whose lock is free (an
// extraction a crash interrupted) and returns them; a locked one belongs to a
// run still writing it and stays. Also finishes removals a crash cut short.
std::vector<std::string> discard_incomplete_packages(const std::string& state_dir);

// Removes a package folder. The caller holds its lock (or the package is
// abandoned). The folder is first renamed out of the load id namespace, so no
// scan ever sees a half-removed package.
void remove_package(const std::string& dir);

}  // namespace mh::load
