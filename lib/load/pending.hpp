// Loads packages in load id order: the complete packages earlier runs left in
// state_dir (a failed load, a crash) load before any newer one, so merge rows,
// replace tables and cursors never go back in time. A package that cannot
// load blocks the newer ones. Blocking: run on the blocking pool.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "load/destination.hpp"
#include "load/package.hpp"

namespace mh::load {

// How long to wait for a package another run is loading before giving up.
inline constexpr std::chrono::milliseconds kPackageLockWait = std::chrono::minutes(15);

// A package that could not be loaded (or was still locked by another run when
// the wait ran out); newer packages of the dataset wait behind it.
class BlockedLoad : public std::runtime_error {
 public:
  BlockedLoad(std::string load_id, std::string dir, const std::string& reason);
  const std::string& load_id() const { return load_id_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string load_id_;
  std::string dir_;
};

// Loads (and removes) every complete package in state_dir older than
// `before` (all when unset), oldest first, each under its lock. A package
// another run holds is waited for up to `wait`; one it loaded meanwhile is
// skipped. Throws BlockedLoad at the first that cannot load.
std::vector<LoadResult> load_pending(const std::string& state_dir, Destination& destination,
                                     std::optional<std::string> before = std::nullopt,
                                     std::chrono::milliseconds wait = kPackageLockWait);

struct OrderedLoad {
  std::vector<LoadResult> earlier;  // pending packages loaded first
  LoadResult own;
};

// A run's load: the older pending packages first, then `package` (whose lock
// the run holds), which is then removed. On any failure the run's package
// stays, complete and unlocked, for a later load in order.
OrderedLoad load_in_order(const std::string& state_dir, const Package& package, PackageLock lock,
                          Destination& destination, std::chrono::milliseconds wait = kPackageLockWait);

}  // namespace mh::load
