#include "pipeline/validate_config.hpp"

#include "magichour/catalog.hpp"

namespace mh::pipeline {

namespace {

class MagicHourChecks final : public config::CatalogueChecks {
 public:
  std::optional<std::string> check_endpoint(std::string_view method, std::string_view path) const override {
    if (method != "POST" || !magichour::is_create_endpoint(path)) return std::nullopt;
    return "POST to '" + std::string(path) +
           "' creates (and bills) a Magic Hour project outside the generation ledger; use a job's "
           "generate: for that";
  }

  std::optional<config::CheckProblem> check_request(config::GenerateKind kind, const boost::json::object& body,
                                                    bool from_dir_template) const override {
    auto problem = magichour::check_create_body(create_kind(kind), body, from_dir_template);
    if (!problem) return std::nullopt;
    return config::CheckProblem{std::move(problem->field), std::move(problem->message)};
  }
};

}  // namespace

const config::CatalogueChecks& catalogue_checks() {
  static const MagicHourChecks checks;
  return checks;
}

config::ConfigResult load_config_file(const std::string& path, config::LoadOptions options) {
  options.catalogue = &catalogue_checks();
  return config::load_file(path, options);
}

config::ConfigResult load_config_string(const std::string& yaml, const std::string& file, const std::string& base_dir,
                                        config::LoadOptions options) {
  options.catalogue = &catalogue_checks();
  return config::load_string(yaml, file, base_dir, options);
}

magichour::CreateKind create_kind(config::GenerateKind kind) {
  switch (kind) {
    case config::GenerateKind::image_generator: return magichour::CreateKind::image_generator;
    case config::GenerateKind::image_upscaler: return magichour::CreateKind::image_upscaler;
  }
  return magichour::CreateKind::image_generator;  // unreachable: every enumerator is handled
}

}  // namespace mh::pipeline
