#include "config/config.hpp"

#include <algorithm>

namespace mh::config {

const JobConfig* Config::find_job(std::string_view name) const {
  auto it = std::find_if(jobs.begin(), jobs.end(), [&](const JobConfig& j) { return j.name == name; });
  return it == jobs.end() ? nullptr : &*it;
}

const ResourceConfig* Config::find_resource(std::string_view name) const {
  auto it = std::find_if(resources.begin(), resources.end(), [&](const ResourceConfig& r) { return r.name == name; });
  return it == resources.end() ? nullptr : &*it;
}

const std::vector<std::string>& builtin_resource_names() {
  static const std::vector<std::string> names{"credits",           "status",        "models", "ai_image_generator",
                                              "ai_image_upscaler", "image_projects"};
  return names;
}

bool is_builtin_resource(std::string_view name) {
  const auto& n = builtin_resource_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

bool is_generation_resource(std::string_view name) {
  return name == "ai_image_generator" || name == "ai_image_upscaler";
}

std::string_view to_string(PaginatorType t) {
  switch (t) {
    case PaginatorType::none: return "none";
    case PaginatorType::single_page: return "single_page";
    case PaginatorType::json_link: return "json_link";
    case PaginatorType::header_link: return "header_link";
    case PaginatorType::offset: return "offset";
    case PaginatorType::page_number: return "page_number";
    case PaginatorType::cursor: return "cursor";
  }
  return "none";
}

}  // namespace mh::config
