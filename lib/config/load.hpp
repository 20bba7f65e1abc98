// Reading and validating the YAML configuration: every error names the file,
// the key path and the line; all errors are collected, not just the first.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/env.hpp"

namespace mh::config {

struct ConfigError {
  std::string file;
  std::string path;  // e.g. "jobs[0].schedule"; empty for the whole file
  int line = 0;      // 1-based; 0 when unknown
  std::string message;
  std::string hint;               // e.g. "did you mean 'schedule'?"
  std::string to_string() const;  // "FILE: MESSAGE at PATH, line N; HINT"
};

// A problem the catalogue checks found: `field` is a dotted key path inside the value
// checked (e.g. "style.prompt").
struct CheckProblem {
  std::string field;
  std::string message;
};

// The checks that need the Magic Hour catalogue, which config does not know;
// pipeline/validate_config.hpp implements them. The loader runs them where it reads
// the values checked, so their errors keep their place, key path and line.
class CatalogueChecks {
 public:
  virtual ~CatalogueChecks() = default;
  // A user resource's endpoint: the message when `method` to `path` is refused.
  virtual std::optional<std::string> check_endpoint(std::string_view method, std::string_view path) const = 0;
  // A generate request body; `from_dir_template`: the upscale template applied to each file.
  virtual std::optional<CheckProblem> check_request(GenerateKind kind, const boost::json::object& body,
                                                    bool from_dir_template) const = 0;
};

struct LoadOptions {
  EnvLookup env = getenv_lookup;
  // systemd's $CREDENTIALS_DIRECTORY; defaults to the environment's value.
  std::optional<std::string> credentials_dir;
  // Null: the catalogue checks are skipped. A configuration loaded for use comes
  // through pipeline::load_config_file / load_config_string, which set it.
  const CatalogueChecks* catalogue = nullptr;
};

struct ConfigResult {
  std::optional<Config> config;  // set only when `errors` is empty
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;
};

ConfigResult load_file(const std::string& path, const LoadOptions& options = {});

// `file` names the source in messages; relative *_file names resolve against `base_dir`.
ConfigResult load_string(const std::string& yaml, const std::string& file, const std::string& base_dir,
                         const LoadOptions& options = {});

// --config, else $MHLOADER_CONFIG, else /etc/mhloader/mhloader.yaml.
std::string resolve_config_path(const std::optional<std::string>& flag);

// Registers every secret value of `config` with the log redactor.
void register_secrets(const Config& config);

// The resolved configuration as YAML, every secret shown as `***`.
std::string render(const Config& config);

}  // namespace mh::config
