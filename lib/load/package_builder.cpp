#include "load/package_builder.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>

#include "load/load_id.hpp"
#include "log/log.hpp"
#include "normalize/naming.hpp"
#include "util/atomic_file.hpp"

namespace mh::load {
namespace {

namespace fs = std::filesystem;

std::string schema_path(const std::string& state_dir, const std::string& schema_name) {
  // The name is normalized so it cannot point outside the folder.
  return state_dir + "/schemas/" + normalize::normalize_identifier(schema_name) + ".schema.json";
}

}  // namespace

PackageBuilder::PackageBuilder(const std::string& state_dir, normalize::Schema& schema)
    : state_dir_(state_dir), schema_(schema), load_id_(new_load_id()) {
  // Held until the run is done with the package. Another process sharing state_dir may
  // have taken the same load id (the same microsecond): then the next one.
  for (;;) {
    dir_ = packages_dir(state_dir) + "/" + load_id_;
    if (auto lock = PackageLock::create(dir_)) {
      lock_ = std::move(*lock);
      break;
    }
    load_id_ = new_load_id();
  }
  util::fsync_path(packages_dir(state_dir));
  writer_ = std::make_unique<PackageWriter>(dir_);
  normalizer_ = std::make_unique<normalize::Normalizer>(schema_, load_id_, *writer_);
}

PackageBuilder::~PackageBuilder() {
  if (done_) return;
  try {
    abandon();
  } catch (const std::exception& e) {
    log::warn("cannot remove an abandoned load package", {{"load_id", load_id_}, {"error", e.what()}});
  }
}

void PackageBuilder::begin_resource(const normalize::Resource& resource) {
  normalizer_->begin_resource(resource);
  PackageResource r{resource.name, normalize::Normalizer::table_name(resource.name), resource.write_disposition, {}};
  for (const auto& k : resource.primary_key) r.primary_key.push_back(normalize::normalize_path(k));
  resources_.insert_or_assign(resource.name, SeenResource{resource, std::move(r)});
}

void PackageBuilder::add(const normalize::Resource& resource, const boost::json::value& record) {
  auto it = resources_.find(resource.name);
  if (it == resources_.end() || it->second.hints.write_disposition != resource.write_disposition ||
      it->second.hints.primary_key != resource.primary_key ||
      it->second.hints.max_table_nesting != resource.max_table_nesting) {
    begin_resource(resource);
  }
  normalizer_->add(resource, record);
}

Package PackageBuilder::finish() {
  schema_.bump_version();
  Manifest m;
  m.load_id = load_id_;
  m.schema_name = schema_.name();
  m.schema_version = schema_.version();
  m.schema_version_hash = schema_.version_hash();
  for (auto& [name, r] : resources_) m.resources.push_back(r.entry);
  m.state = state_;
  m.job_cursors = job_cursors_;
  writer_->finish(schema_, m);
  done_ = true;
  save_schema(state_dir_, schema_);
  log::info("load package ready", {{"load_id", load_id_}, {"records", records()}, {"rows", rows()}});
  return Package::open(dir_);
}

void PackageBuilder::abandon() {
  done_ = true;
  remove_package(dir_);
  lock_.release();
}

normalize::Schema current_schema(const std::string& state_dir, const std::string& schema_name) {
  std::string path = schema_path(state_dir, schema_name);
  if (!fs::exists(path)) return normalize::Schema(schema_name);
  return normalize::Schema::from_json(boost::json::parse(util::read_file(path)));
}

void save_schema(const std::string& state_dir, const normalize::Schema& schema) {
  fs::create_directories(state_dir + "/schemas");
  util::write_file_atomic(schema_path(state_dir, schema.name()), boost::json::serialize(schema.to_json()));
}

}  // namespace mh::load
