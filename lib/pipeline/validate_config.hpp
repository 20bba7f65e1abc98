// The configuration checks that need the Magic Hour catalogue (create endpoints, the
// fields a create request requires), which config may not know, and the loaders that run them.
#pragma once

#include <string>

#include "config/load.hpp"
#include "magichour/requests.hpp"

namespace mh::pipeline {

// The catalogue checks config::load runs where it reads the values (LoadOptions::catalogue):
// a user resource that POSTs to a create endpoint is refused, and a generate request body
// must have what magichour::check_create_body requires (the client checks the same).
const config::CatalogueChecks& catalogue_checks();

// config::load_file / load_string with the catalogue checks: how every configuration
// meant for use is loaded (serve, run, check-config, reload), so all report the same errors.
config::ConfigResult load_config_file(const std::string& path, config::LoadOptions options = {});
config::ConfigResult load_config_string(const std::string& yaml, const std::string& file, const std::string& base_dir,
                                        config::LoadOptions options = {});

// The one place a generate entry's kind becomes the Magic Hour create endpoint's.
magichour::CreateKind create_kind(config::GenerateKind kind);

}  // namespace mh::pipeline
