#include "load/pending.hpp"

#include <filesystem>

#include "load/load_id.hpp"
#include "log/log.hpp"

namespace mh::load {

BlockedLoad::BlockedLoad(std::string load_id, std::string dir, const std::string& reason)
    : std::runtime_error("load package " + load_id + " (" + dir +
                         ") cannot be loaded, and newer loads of the dataset wait for it: " + reason),
      load_id_(std::move(load_id)),
      dir_(std::move(dir)) {}

std::vector<LoadResult> load_pending(const std::string& state_dir, Destination& destination,
                                     std::optional<std::string> before, std::chrono::milliseconds wait) {
  const double limit = before ? load_id_value(*before) : 0;
  std::vector<LoadResult> results;
  for (const auto& dir : complete_packages(state_dir)) {
    const std::string load_id = std::filesystem::path(dir).filename().string();
    if (before && load_id_value(load_id) >= limit) break;  // oldest first: the rest are newer
    PackageLock lock;
    switch (PackageLock::acquire(dir, wait, lock)) {
      case PackageLock::Outcome::gone: continue;  // the run that held it loaded it
      case PackageLock::Outcome::busy:
        throw BlockedLoad(load_id, dir,
                          "another run has held its lock for more than " +
                              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + " s");
      case PackageLock::Outcome::locked: break;
    }
    try {
      Package p = Package::open(dir);
      log::info("loading a pending load package first", {{"load_id", load_id}, {"rows", p.manifest().rows()}});
      results.push_back(destination.load(p));
      remove_package(dir);
    } catch (const std::exception& e) {
      log::error("a pending load package cannot be loaded; newer loads wait for it",
                 {{"load_id", load_id}, {"path", dir}, {"error", e.what()}});
      throw BlockedLoad(load_id, dir, e.what());
    }
  }
  return results;
}

OrderedLoad load_in_order(const std::string& state_dir, const Package& package, PackageLock lock,
                          Destination& destination, std::chrono::milliseconds wait) {
  if (!lock.held() || lock.dir() != package.dir()) {
    throw std::invalid_argument("load_in_order needs the lock of " + package.dir());
  }
  OrderedLoad out;
  out.earlier = load_pending(state_dir, destination, package.load_id(), wait);
  out.own = destination.load(package);
  remove_package(package.dir());
  return out;  // `lock` goes last: the package is removed before anyone else may take it
}

}  // namespace mh::load
