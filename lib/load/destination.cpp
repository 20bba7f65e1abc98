#include "load/destination.hpp"

#include <stdexcept>

#include "config/config.hpp"
#include "load/filesystem.hpp"
#include "load/package_builder.hpp"
#include "load/pending.hpp"
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

normalize::Schema starting_schema(Destination& destination, const std::string& state_dir,
                                  const std::string& schema_name) {
  try {
    std::optional<normalize::Schema> stored = destination.stored_schema(schema_name);
    return stored ? std::move(*stored) : normalize::Schema(schema_name);
  } catch (const std::exception& e) {
    log::warn("cannot read the stored schema; starting from the local copy",
              {{"destination", destination.describe()}, {"error", e.what()}});
    return current_schema(state_dir, schema_name);
  }
}

LoadResult load_and_remove(const Package& package, Destination& destination) {
  LoadResult r = destination.load(package);
  remove_package(package.dir());
  return r;
}

std::vector<LoadResult> resume_packages(const std::string& state_dir, Destination& destination) {
  discard_incomplete_packages(state_dir);
  return load_pending(state_dir, destination);
}

}  // namespace mh::load
