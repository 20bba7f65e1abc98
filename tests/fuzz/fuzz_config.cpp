// Fuzz target: the YAML configuration loader (pipeline::load_config_string) and, for an
// accepted configuration, its rendering (`mhloader config`).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "config/load.hpp"
#include "pipeline/validate_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  mh::config::LoadOptions options;
  // A fixed environment: ${VAR} expansion is exercised without reading the real one.
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "MH_API_KEY") return std::string("mhk_live_fuzz");
    if (name == "PG_DSN") return std::string("postgresql://u:p@127.0.0.1:5432/db");
    return std::nullopt;
  };
  options.credentials_dir = std::string("/nonexistent-credentials");
  auto result = mh::pipeline::load_config_string(yaml, "fuzz.yaml", "/nonexistent-config-dir", options);
  if (result.config.has_value() == !result.errors.empty()) __builtin_trap();
  for (const auto& e : result.errors) {
    if (e.message.empty()) __builtin_trap();
    (void)e.to_string();
  }
  if (result.config) (void)mh::config::render(*result.config);
  return 0;
}
