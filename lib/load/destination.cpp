#include "load/destination.hpp"

#include <stdexcept>

#include "config/config.hpp"
#include "load/filesystem.hpp"
#include "load/postgres.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"

namespace mh::load {

std::string normalize_dataset_name(std::string_view configured) {
  std::string name = normalize::normalize_identifier(configured);
  if (name.empty()) throw std::invalid_argument("the dataset name is empty");
  return name;
}

std::string staging_dataset_name(const std::string& dataset) {
  std::string staging = normalize::normalize_identifier(dataset + "_staging");
  if (staging == dataset) throw std::logic_error("the staging dataset of " + dataset + " would be the dataset itself");
  return staging;
}

std::unique_ptr<Destination> make_destination(const config::DestinationConfig& config) {
  if (config.type == config::DestinationType::filesystem) {
    return std::make_unique<FilesystemDestination>(FilesystemConfig{config.filesystem.path, config.dataset});
  }
  return std::make_unique<PostgresDestination>(PostgresConfig{config.dsn.value, config.dataset});
}

LoadResult load_and_remove(const Package& package, Destination& destination) {
  LoadResult r = destination.load(package);
  remove_package(package.dir());
  return r;
}

std::vector<LoadResult> resume_packages(const std::string& state_dir, Destination& destination) {
  discard_incomplete_packages(state_dir);
  std::vector<LoadResult> results;
  for (const auto& dir : complete_packages(state_dir)) {
    Package p = Package::open(dir);
    log::info("resuming a pending load package", {{"load_id", p.load_id()}, {"rows", p.manifest().rows()}});
    results.push_back(load_and_remove(p, destination));
  }
  return results;
}

}  // namespace mh::load
