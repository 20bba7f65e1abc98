#include "config/load.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "config/dsn.hpp"
#include "log/log.hpp"
#include "util/did_you_mean.hpp"
#include "util/duration.hpp"

namespace mh::config {
namespace fs = std::filesystem;
namespace json = boost::json;

std::string ConfigError::to_string() const {
  std::string out = file.empty() ? std::string() : file + ": ";
  out += message;
  if (!path.empty()) out += " at " + path;
  if (line > 0) out += (path.empty() ? " at line " : ", line ") + std::to_string(line);
  if (!hint.empty()) out += "; " + hint;
  return out;
}

namespace {

using Keys = std::vector<std::string_view>;

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

int line_of(const YAML::Node& n) {
  if (!n.IsDefined()) return 0;
  auto m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

std::string_view kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "empty";
    default: return "undefined";
  }
}

bool readable_file(const std::string& path, std::string& why) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    why = std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return false;
  }
  if (::access(path.c_str(), R_OK) != 0) {
    why = std::strerror(errno);
    return false;
  }
  return true;
}

// Names that end up in URLs, metric labels and SQL identifiers: a small, safe alphabet.
bool valid_name(std::string_view s) {  // job and pipeline names: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}
  if (s.empty() || s.size() > 63 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}
bool valid_identifier(std::string_view s, bool lower_only) {  // [A-Za-z_][A-Za-z0-9_]{0,62}
  if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [lower_only](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (lower_only && std::isupper(u)) return false;
    return (u < 0x80 && std::isalnum(u)) || c == '_';
  });
}

// The validator: walks the YAML tree once, filling a Config and collecting errors.
class Loader {
 public:
  Loader(std::string file, std::string base_dir, const LoadOptions& options)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), env_(options.env), catalogue_(options.catalogue) {
    if (options.credentials_dir) {
      credentials_dir_ = *options.credentials_dir;
    } else if (auto v = env_("CREDENTIALS_DIRECTORY")) {
      credentials_dir_ = *v;
    }
  }

  ConfigResult run(const std::string& text) {
    ConfigResult result;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      ConfigError err{file_, "", e.mark.line >= 0 ? e.mark.line + 1 : 0, "YAML syntax error: " + e.msg, ""};
      result.errors.push_back(err);
      return result;
    }
    Config c;
    c.file = file_;
    if (root.IsNull() || !root.IsDefined()) {
      error(root, "", "the configuration file is empty; it needs at least a jobs: list");
    } else if (!root.IsMap()) {
      error(root, "", std::string("the configuration must be a mapping of keys, not ") + std::string(kind_name(root)));
    } else {
      top(root, c);
    }
    result.errors = std::move(errors_);
    result.warnings = std::move(warnings_);
    // A rejected configuration's secrets are never registered for redaction, yet a
    // message may quote one (a key's value pasted into another key): mask them here,
    // for every reader of the errors (stderr, the log, POST /-/reload's answer).
    const std::vector<std::string> secrets{c.magic_hour.api_key.value, c.control.token.value,
                                           dsn_password(c.destination.dsn.value)};
    for (auto& e : result.errors) {
      e.message = log::mask(e.message, secrets);
      e.hint = log::mask(e.hint, secrets);
    }
    for (auto& w : result.warnings) w = log::mask(w, secrets);
    if (result.errors.empty()) result.config = std::move(c);
    return result;
  }

 private:
  // ----- reporting -------------------------------------------------------------------------
  void error(const YAML::Node& at, const std::string& path, std::string message, int fallback_line = 0,
             std::string hint = {}) {
    int line = line_of(at);
    errors_.push_back({file_, path, line > 0 ? line : fallback_line, std::move(message), std::move(hint)});
  }
  static std::string suggestion(std::string_view word, const Keys& candidates) {
    auto s = util::did_you_mean(word, candidates);
    return s ? "did you mean '" + *s + "'?" : std::string();
  }
  void warn(const YAML::Node& at, const std::string& path, const std::string& message) {
    warnings_.push_back(message + " at " + path + ", line " + std::to_string(line_of(at)));
  }

  // Unknown and duplicate keys, with a suggestion for typos.
  bool check_map(const YAML::Node& map, const std::string& path, const Keys& allowed) {
    if (!map.IsMap()) {
      error(map, path, "expected a mapping (key: value), got " + std::string(kind_name(map)));
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : map) {
      std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
      int line = line_of(kv.first);
      if (!seen.insert(key).second) {
        errors_.push_back({file_, path, line, "duplicate key '" + key + "'", ""});
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      // docs/design.md §Configuration: "unknown key 'shedule' at jobs[0], line 31; did you mean 'schedule'?"
      ConfigError err{file_, path.empty() ? std::string("the top level") : path, line, "unknown key '" + key + "'", ""};
      err.hint = suggestion(key, allowed);
      errors_.push_back(std::move(err));
    }
    return true;
  }

  // ----- scalars ---------------------------------------------------------------------------
  // The expanded text of a scalar, or nullopt (error recorded) for anything else.
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path, bool allow_empty = false) {
    if (n.IsNull()) {
      if (allow_empty) return std::string();
      error(n, path, "has no value");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      error(n, path, "expected a single value, got " + std::string(kind_name(n)));
      return std::nullopt;
    }
    std::string why;
    auto e = expand_env(n.Scalar(), env_, why);
    if (!e) {
      error(n, path, why);
      return std::nullopt;
    }
    return std::move(e->value);
  }

  bool get_string(const YAML::Node& map, std::string_view key, const std::string& path, std::string& out,
                  bool required = false) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) {
      if (required) error(map, p, "required key '" + std::string(key) + "' is missing");
      return false;
    }
    auto v = scalar(n, p);
    if (!v) return false;
    if (v->empty()) {
      error(n, p, "must not be empty");
      return false;
    }
    out = std::move(*v);
    return true;
  }

  bool get_int(const YAML::Node& map, std::string_view key, const std::string& path, std::int64_t& out,
               std::int64_t min, std::int64_t max) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) return false;
    auto v = scalar(n, p);
    if (!v) return false;
    std::int64_t x = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    if (ec == std::errc::result_out_of_range) {
      error(n, p, "'" + *v + "' is out of range " + std::to_string(min) + ".." + std::to_string(max));
      return false;
    }
    if (ec != std::errc() || ptr != v->data() + v->size()) {
      error(n, p, "expected a whole number, got '" + *v + "'");
      return false;
    }
    if (x < min || x > max) {
      error(n, p, std::to_string(x) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
      return false;
    }
    out = x;
    return true;
  }

  template <class T>
  bool get_int_as(const YAML::Node& map, std::string_view key, const std::string& path, T& out, std::int64_t min,
                  std::int64_t max) {
    std::int64_t v = 0;
    if (!get_int(map, key, path, v, min, max)) return false;
    out = static_cast<T>(v);
    return true;
  }

  bool get_bool(const YAML::Node& map, std::string_view key, const std::string& path, bool& out) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) return false;
    auto v = scalar(n, p);
    if (!v) return false;
    if (*v == "true" || *v == "yes" || *v == "on") {
      out = true;
    } else if (*v == "false" || *v == "no" || *v == "off") {
      out = false;
    } else {
      error(n, p, "expected true or false, got '" + *v + "'");
      return false;
    }
    return true;
  }

  bool get_duration(const YAML::Node& map, std::string_view key, const std::string& path, Duration& out,
                    Duration min = Duration(0)) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) return false;
    auto v = scalar(n, p);
    if (!v) return false;
    std::string why;
    auto d = util::parse_duration(*v, why);
    if (!d) {
      error(n, p, "invalid duration: " + why);
      return false;
    }
    if (*d < min) {
      error(n, p, "'" + *v + "' is too short; the minimum is " + util::format_duration(min));
      return false;
    }
    out = *d;
    return true;
  }

  // A byte count: a whole number, or one with a unit (B, KiB, MiB, GiB), e.g. 16MiB or "256 MiB".
  bool get_bytes(const YAML::Node& map, std::string_view key, const std::string& path, std::uint64_t& out,
                 std::uint64_t min, std::uint64_t max) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) return false;
    auto v = scalar(n, p);
    if (!v) return false;
    std::uint64_t x = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
    std::string_view unit(ptr, static_cast<std::size_t>(v->data() + v->size() - ptr));
    while (unit.starts_with(" ")) unit.remove_prefix(1);
    std::uint64_t scale = 0;
    if (unit.empty() || unit == "B") scale = 1;
    if (unit == "KiB") scale = 1024;
    if (unit == "MiB") scale = 1024 * 1024;
    if (unit == "GiB") scale = 1024 * 1024 * 1024;
    if (ec != std::errc() || scale == 0) {
      error(n, p, "expected a size in bytes (e.g. 16777216 or 16MiB; units B, KiB, MiB, GiB), got '" + *v + "'");
      return false;
    }
    if (x > max / scale || x * scale < min || x * scale > max) {
      error(n, p, "'" + *v + "' is out of range " + std::to_string(min) + ".." + std::to_string(max) + " bytes");
      return false;
    }
    out = x * scale;
    return true;
  }

  // One of `names`; returns its index.
  std::optional<std::size_t> get_enum(const YAML::Node& map, std::string_view key, const std::string& path,
                                      const Keys& names) {
    const YAML::Node n = map[std::string(key)];
    std::string p = child(path, key);
    if (!n.IsDefined()) return std::nullopt;
    auto v = scalar(n, p);
    if (!v) return std::nullopt;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (*v == names[i]) return i;
    }
    std::string msg = "'" + *v + "' is not one of ";
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + std::string(names[i]);
    error(n, p, msg, 0, suggestion(*v, names));
    return std::nullopt;
  }

  // ----- files and secrets -----------------------------------------------------------------
  // A relative name is looked up in $CREDENTIALS_DIRECTORY first, then next to the config file.
  std::string resolve_path(const std::string& name) const {
    if (fs::path(name).is_absolute()) return name;
    if (!credentials_dir_.empty()) {
      fs::path cand = fs::path(credentials_dir_) / name;
      std::error_code ec;
      if (fs::exists(cand, ec)) return cand.string();
    }
    return (fs::path(base_dir_) / name).lexically_normal().string();
  }

  // Path-valued `*_file` key that must name a readable file.
  bool get_file(const YAML::Node& map, std::string_view key, const std::string& path, std::string& out,
                bool required = false) {
    std::string name;
    if (!get_string(map, key, path, name, required)) return false;
    std::string resolved = resolve_path(name);
    std::string why;
    if (!readable_file(resolved, why)) {
      error(map[std::string(key)], child(path, key), "cannot read '" + resolved + "': " + why);
      return false;
    }
    out = resolved;
    return true;
  }

  // `<key>_file` (read the secret from a file) or `<key>` (inline, usually ${VAR}).
  Secret get_secret(const YAML::Node& map, std::string_view key, const std::string& path) {
    Secret s;
    std::string file_key = std::string(key) + "_file";
    const YAML::Node file_node = map[file_key];
    const YAML::Node inline_node = map[std::string(key)];
    if (file_node.IsDefined()) {
      std::string file;
      if (get_file(map, file_key, path, file)) {
        std::ifstream in(file, std::ios::binary);
        std::stringstream buf;
        buf << in.rdbuf();
        std::string value = buf.str();
        while (!value.empty() &&
               (value.back() == '\n' || value.back() == '\r' || value.back() == ' ' || value.back() == '\t')) {
          value.pop_back();
        }
        if (value.empty()) {
          error(file_node, child(path, file_key), "the secret file '" + file + "' is empty");
        } else if (value.find('\n') != std::string::npos) {
          error(file_node, child(path, file_key), "the secret file '" + file + "' has more than one line");
        } else {
          s.value = std::move(value);
          s.source = "file " + file;
        }
      }
      if (inline_node.IsDefined()) {
        warn(inline_node, child(path, key),
             "both " + file_key + " and " + std::string(key) + " are set; " + file_key + " wins");
      }
      return s;
    }
    if (inline_node.IsDefined()) {
      std::string p = child(path, key);
      if (auto v = scalar(inline_node, p, true)) {
        s.value = *v;
        std::string raw = inline_node.IsScalar() ? inline_node.Scalar() : std::string();
        s.source = "config key " + p + (raw.find("${") != std::string::npos ? " (" + raw + ")" : "") + " in " + file_;
      }
    }
    return s;
  }

  // ----- YAML -> JSON (request bodies, params) ---------------------------------------------
  std::optional<json::value> to_json(const YAML::Node& n, const std::string& path) {
    switch (n.Type()) {
      case YAML::NodeType::Null: return json::value(nullptr);
      case YAML::NodeType::Sequence: {
        json::array a;
        std::size_t i = 0;
        for (const auto& item : n) {
          auto v = to_json(item, index(path, i++));
          if (!v) return std::nullopt;
          a.push_back(std::move(*v));
        }
        return json::value(std::move(a));
      }
      case YAML::NodeType::Map: {
        json::object o;
        for (const auto& kv : n) {
          std::string key = kv.first.Scalar();
          if (o.contains(key)) {
            error(kv.first, path, "duplicate key '" + key + "'");
            return std::nullopt;
          }
          auto v = to_json(kv.second, child(path, key));
          if (!v) return std::nullopt;
          o[key] = std::move(*v);
        }
        return json::value(std::move(o));
      }
      case YAML::NodeType::Scalar: {
        auto text = scalar(n, path, true);
        if (!text) return std::nullopt;
        if (n.Tag() == "!") return json::value(*text);  // quoted: always a string
        const std::string& s = *text;
        if (s == "null" || s == "~" || s.empty()) return json::value(nullptr);
        if (s == "true") return json::value(true);
        if (s == "false") return json::value(false);
        std::int64_t i = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
        if (ec == std::errc() && p == s.data() + s.size()) return json::value(i);
        double d = 0;
        auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec2 == std::errc() && p2 == s.data() + s.size()) return json::value(d);
        return json::value(s);
      }
      default: return json::value(nullptr);
    }
  }

  std::optional<json::object> to_json_object(const YAML::Node& n, const std::string& path) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping (a JSON object), got " + std::string(kind_name(n)));
      return std::nullopt;
    }
    auto v = to_json(n, path);
    if (!v) return std::nullopt;
    return std::move(v->as_object());
  }

  // ----- sections --------------------------------------------------------------------------
  void top(const YAML::Node& root, Config& c) {
    check_map(root, "",
              {"pipeline_name", "state_dir", "log", "shutdown_timeout", "magic_hour", "destination", "control",
               "monitor", "archive", "resources", "jobs"});
    if (get_string(root, "pipeline_name", "", c.pipeline_name) && !valid_name(c.pipeline_name)) {
      error(root["pipeline_name"], "pipeline_name",
            "'" + c.pipeline_name + "' is not a valid name (letters, digits, '_', '-', '.'; at most 63)");
    }
    if (get_string(root, "state_dir", "", c.state_dir)) c.state_dir = absolute(c.state_dir);
    get_duration(root, "shutdown_timeout", "", c.shutdown_timeout, Duration(100));
    if (const YAML::Node n = root["log"]; n.IsDefined() && check_map(n, "log", {"level"})) {
      if (auto i = get_enum(n, "level", "log", {"debug", "info", "warn", "error"})) {
        c.log.level = std::string(std::array{"debug", "info", "warn", "error"}[*i]);
      }
    }
    magic_hour(root["magic_hour"], c.magic_hour, root);
    destination(root["destination"], c.destination);
    control(root["control"], c.control);
    monitor(root["monitor"], c.monitor);
    if (const YAML::Node n = root["archive"];
        n.IsDefined() && check_map(n, "archive", {"dir", "max_bytes", "download_timeout"})) {
      std::string dir;
      if (get_string(n, "dir", "archive", dir)) c.archive.dir = absolute(dir);
      get_bytes(n, "max_bytes", "archive", c.archive.max_bytes, 1, std::uint64_t(1) << 40);
      get_duration(n, "download_timeout", "archive", c.archive.download_timeout, Duration(100));
    }
    if (const YAML::Node n = root["resources"]; n.IsDefined() && !n.IsNull()) resources(n, c);
    const YAML::Node jobs_node = root["jobs"];
    if (!jobs_node.IsDefined() || jobs_node.IsNull()) {
      error(root, "jobs", "no jobs are configured; add a jobs: list", 1);
    } else {
      jobs(jobs_node, c);
    }
  }

  std::string absolute(const std::string& p) const {
    if (fs::path(p).is_absolute()) return fs::path(p).lexically_normal().string();
    return (fs::path(base_dir_) / p).lexically_normal().string();
  }

  void magic_hour(const YAML::Node& n, MagicHourConfig& m, const YAML::Node& root) {
    const std::string path = "magic_hour";
    if (n.IsDefined() && !n.IsNull()) {
      if (!check_map(n, path,
                     {"base_url", "api_key", "api_key_file", "timeout", "connect_timeout", "max_concurrency", "retry",
                      "poll", "ca_file", "max_response_bytes"})) {
        return;
      }
      if (get_string(n, "base_url", path, m.base_url)) {
        if (!m.base_url.starts_with("http://") && !m.base_url.starts_with("https://")) {
          error(n["base_url"], child(path, "base_url"), "'" + m.base_url + "' must start with https:// or http://");
        }
        while (m.base_url.ends_with("/")) m.base_url.pop_back();
      }
      m.api_key = get_secret(n, "api_key", path);
      get_duration(n, "timeout", path, m.timeout, Duration(100));
      get_duration(n, "connect_timeout", path, m.connect_timeout, Duration(100));
      get_int_as(n, "max_concurrency", path, m.max_concurrency, 1, 256);
      get_bytes(n, "max_response_bytes", path, m.max_response_bytes, 64 * 1024, std::uint64_t(1) << 30);
      if (const YAML::Node r = n["retry"]; r.IsDefined()) {
        std::string rp = child(path, "retry");
        if (check_map(r, rp, {"max_attempts", "initial_delay", "max_delay"})) {
          get_int_as(r, "max_attempts", rp, m.retry.max_attempts, 1, 100);
          get_duration(r, "initial_delay", rp, m.retry.initial_delay, Duration(1));
          get_duration(r, "max_delay", rp, m.retry.max_delay, Duration(1));
          if (m.retry.initial_delay > m.retry.max_delay) {
            error(r, rp,
                  "initial_delay (" + util::format_duration(m.retry.initial_delay) + ") is longer than max_delay (" +
                      util::format_duration(m.retry.max_delay) + ")");
          }
        }
      }
      if (const YAML::Node p = n["poll"]; p.IsDefined()) {
        std::string pp = child(path, "poll");
        if (check_map(p, pp, {"interval", "timeout"})) {
          get_duration(p, "interval", pp, m.poll.interval, Duration(100));
          get_duration(p, "timeout", pp, m.poll.timeout, Duration(1000));
          if (m.poll.interval >= m.poll.timeout) {
            error(p, pp,
                  "interval (" + util::format_duration(m.poll.interval) + ") must be shorter than timeout (" +
                      util::format_duration(m.poll.timeout) + ")");
          }
        }
      }
      std::string ca;
      if (get_file(n, "ca_file", path, ca)) m.ca_file = ca;
    }
    // Where dlt users keep the key, in the documented order of precedence.
    for (const char* var : {"MAGIC_HOUR_API_KEY", "SOURCES__MAGIC_HOUR_SOURCE__API_KEY"}) {
      if (m.api_key.present()) break;
      if (auto v = env_(var); v && !v->empty()) m.api_key = {*v, std::string("environment variable ") + var};
    }
    if (!m.api_key.present()) {
      error(n.IsDefined() ? n : root, path,
            "no Magic Hour API key: set magic_hour.api_key_file, magic_hour.api_key, or the environment variable "
            "MAGIC_HOUR_API_KEY (or SOURCES__MAGIC_HOUR_SOURCE__API_KEY)",
            1);
    }
  }

  void destination(const YAML::Node& n, DestinationConfig& d) {
    const std::string path = "destination";
    bool has_dsn = false;
    if (n.IsDefined() && !n.IsNull()) {
      if (!check_map(n, path, {"type", "dsn", "dsn_file", "dataset", "filesystem"})) return;
      if (auto i = get_enum(n, "type", path, {"postgres", "filesystem"})) d.type = static_cast<DestinationType>(*i);
      d.dsn = get_secret(n, "dsn", path);
      has_dsn = d.dsn.present();
      if (get_string(n, "dataset", path, d.dataset) && !valid_identifier(d.dataset, true)) {
        error(n["dataset"], child(path, "dataset"),
              "'" + d.dataset + "' is not a valid dataset name (lower-case letters, digits and '_'; at most 63)");
      }
      if (const YAML::Node f = n["filesystem"]; f.IsDefined()) {
        std::string fp = child(path, "filesystem");
        if (check_map(f, fp, {"path", "format"})) {
          if (get_string(f, "path", fp, d.filesystem.path, true)) d.filesystem.path = absolute(d.filesystem.path);
          if (auto i = get_enum(f, "format", fp, {"jsonl"})) d.filesystem.format = "jsonl";
        }
      } else if (d.type == DestinationType::filesystem) {
        error(n, child(path, "filesystem"), "type filesystem needs filesystem: {path: DIR}");
      }
    }
    if (!has_dsn) {
      if (auto v = env_("MHLOADER_PG_DSN"); v && !v->empty()) {
        d.dsn = {*v, "environment variable MHLOADER_PG_DSN"};
      } else {
        d.dsn = {"postgresql:///magic_hour", "default"};
      }
    }
  }

  void control(const YAML::Node& n, ControlConfig& c) {
    const std::string path = "control";
    if (!n.IsDefined() || n.IsNull()) return;
    if (!check_map(n, path,
                   {"listen", "token", "token_file", "tls", "max_connections", "read_timeout", "idle_timeout",
                    "allowed_hosts"}))
      return;
    if (get_string(n, "listen", path, c.listen)) {
      if (!split_listen(c.listen, c.host, c.port)) {
        error(n["listen"], child(path, "listen"),
              "'" + c.listen + "' is not HOST:PORT (e.g. 127.0.0.1:8686 or [::1]:8686) with a port 0-65535");
      }
    }
    c.token = get_secret(n, "token", path);
    get_int_as(n, "max_connections", path, c.max_connections, 1, 100000);
    get_duration(n, "read_timeout", path, c.read_timeout, Duration(100));
    get_duration(n, "idle_timeout", path, c.idle_timeout, Duration(100));
    if (const YAML::Node h = n["allowed_hosts"]; h.IsDefined()) allowed_hosts(h, child(path, "allowed_hosts"), c);
    if (const YAML::Node t = n["tls"]; t.IsDefined()) {
      std::string tp = child(path, "tls");
      if (check_map(t, tp, {"cert_file", "key_file"})) {
        TlsConfig tls;
        bool ok = get_file(t, "cert_file", tp, tls.cert_file, true);
        ok = get_file(t, "key_file", tp, tls.key_file, true) && ok;
        if (ok) c.tls = tls;
      }
    }
  }

  void allowed_hosts(const YAML::Node& n, const std::string& path, ControlConfig& c) {
    if (!n.IsSequence()) {
      error(n, path, "expected a list of host names, got " + std::string(kind_name(n)));
      return;
    }
    std::size_t i = 0;
    for (const auto& item : n) {
      std::string ip = index(path, i++);
      auto name = scalar(item, ip);
      if (!name) continue;
      std::string host = *name;
      std::transform(host.begin(), host.end(), host.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (host.empty() || host.find_first_of(" /:@\t") != std::string::npos) {
        error(item, ip, "'" + *name + "' is not a host name without a port (e.g. mhloader.internal or 10.0.0.5)");
        continue;
      }
      c.allowed_hosts.push_back(std::move(host));
    }
  }

  static bool split_listen(const std::string& s, std::string& host, std::uint16_t& port) {
    std::size_t colon;
    if (!s.empty() && s[0] == '[') {
      std::size_t close = s.find(']');
      if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
      host = s.substr(1, close - 1);
      colon = close + 1;
    } else {
      colon = s.rfind(':');
      if (colon == std::string::npos) return false;
      host = s.substr(0, colon);
      if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
    }
    if (host.empty()) return false;
    std::string p = s.substr(colon + 1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
  }

  void monitor(const YAML::Node& n, MonitorConfig& m) {
    const std::string path = "monitor";
    if (!n.IsDefined() || n.IsNull()) return;
    if (!check_map(n, path, {"credits", "health"})) return;
    if (const YAML::Node c = n["credits"]; c.IsDefined()) {
      std::string cp = child(path, "credits");
      if (check_map(c, cp, {"interval", "low_balance", "reserve"})) {
        get_duration(c, "interval", cp, m.credits.interval, Duration(1000));
        get_int(c, "low_balance", cp, m.credits.low_balance, 0, std::numeric_limits<std::int64_t>::max());
        get_int(c, "reserve", cp, m.credits.reserve, 0, std::numeric_limits<std::int64_t>::max());
      }
    }
    if (const YAML::Node h = n["health"]; h.IsDefined()) {
      std::string hp = child(path, "health");
      if (check_map(h, hp, {"interval"})) get_duration(h, "interval", hp, m.health.interval, Duration(1000));
    }
  }

  // ----- resources -------------------------------------------------------------------------
  void resources(const YAML::Node& n, Config& c) {
    if (!n.IsSequence()) {
      error(n, "resources", "expected a list of resources, got " + std::string(kind_name(n)));
      return;
    }
    std::size_t i = 0;
    for (const auto& item : n) {
      std::string path = index("resources", i++);
      ResourceConfig r;
      if (resource(item, path, r)) {
        if (c.find_resource(r.name)) {
          error(item["name"], child(path, "name"), "resource '" + r.name + "' is defined twice");
        } else {
          c.resources.push_back(std::move(r));
        }
      }
    }
  }

  bool resource(const YAML::Node& n, const std::string& path, ResourceConfig& r) {
    if (!check_map(n, path,
                   {"name", "endpoint", "primary_key", "write_disposition", "incremental", "on_not_found",
                    "max_table_nesting", "max_pages"})) {
      return false;
    }
    std::size_t before = errors_.size();
    if (get_string(n, "name", path, r.name, true)) {
      if (!valid_identifier(r.name, false)) {
        error(n["name"], child(path, "name"),
              "'" + r.name + "' is not a valid resource name (letters, digits and '_', not starting with a digit)");
      } else if (is_builtin_resource(r.name)) {
        error(n["name"], child(path, "name"), "'" + r.name + "' is a built-in resource; choose another name");
      }
    }
    const YAML::Node ep = n["endpoint"];
    if (!ep.IsDefined()) {
      error(n, child(path, "endpoint"), "required key 'endpoint' is missing");
    } else {
      endpoint(ep, child(path, "endpoint"), r.endpoint);
    }
    if (const YAML::Node pk = n["primary_key"]; pk.IsDefined()) {
      std::string pp = child(path, "primary_key");
      if (pk.IsSequence()) {
        std::size_t k = 0;
        for (const auto& col : pk) {
          if (auto v = scalar(col, index(pp, k++))) r.primary_key.push_back(*v);
        }
        if (r.primary_key.empty()) error(pk, pp, "must name at least one column");
      } else if (auto v = scalar(pk, pp)) {
        r.primary_key.push_back(*v);
      }
    }
    if (auto i = get_enum(n, "write_disposition", path, {"append", "replace", "merge"})) {
      r.write_disposition = static_cast<WriteDisposition>(*i);
    }
    if (r.write_disposition == WriteDisposition::merge && r.primary_key.empty()) {
      error(n["write_disposition"], child(path, "write_disposition"),
            "write_disposition merge needs a primary_key (the column(s) that identify a record)");
    }
    if (auto i = get_enum(n, "on_not_found", path, {"skip", "fail"})) r.on_not_found = static_cast<OnNotFound>(*i);
    int nesting = 0;
    if (get_int_as(n, "max_table_nesting", path, nesting, 0, 1000)) r.max_table_nesting = nesting;
    std::int64_t max_pages = 0;
    if (get_int(n, "max_pages", path, max_pages, 1, std::numeric_limits<std::int64_t>::max())) r.max_pages = max_pages;
    if (const YAML::Node inc = n["incremental"]; inc.IsDefined()) {
      std::string ip = child(path, "incremental");
      if (check_map(inc, ip, {"cursor_path", "initial_value", "param"})) {
        IncrementalConfig ic;
        if (get_string(inc, "cursor_path", ip, ic.cursor_path, true)) {
          std::string why;
          if (!parse_json_path(ic.cursor_path, why)) error(inc["cursor_path"], child(ip, "cursor_path"), why);
        }
        get_string(inc, "param", ip, ic.param, true);
        if (const YAML::Node iv = inc["initial_value"]; iv.IsDefined()) {
          if (!iv.IsScalar()) {
            error(iv, child(ip, "initial_value"), "expected a single value, got " + std::string(kind_name(iv)));
          } else if (auto v = to_json(iv, child(ip, "initial_value"))) {
            ic.initial_value = std::move(*v);
          }
        }
        r.incremental = std::move(ic);
      }
    }
    return errors_.size() == before;
  }

  void endpoint(const YAML::Node& n, const std::string& path, EndpointConfig& e) {
    if (n.IsScalar()) {  // dlt shorthand: the endpoint is just its path
      if (auto v = scalar(n, path)) e.path = *v;
      check_endpoint_path(n, path, e.path);
      return;
    }
    if (!check_map(n, path, {"path", "method", "params", "json", "data_selector", "paginator"})) return;
    if (get_string(n, "path", path, e.path, true)) check_endpoint_path(n["path"], child(path, "path"), e.path);
    if (auto i = get_enum(n, "method", path, {"GET", "POST"})) e.method = *i == 0 ? "GET" : "POST";
    if (catalogue_) {
      if (auto refused = catalogue_->check_endpoint(e.method, e.path))
        error(n["method"], child(path, "method"), *refused);
    }
    if (const YAML::Node p = n["params"]; p.IsDefined()) {
      std::string pp = child(path, "params");
      if (auto o = to_json_object(p, pp)) {
        for (const auto& kv : *o) {
          if (kv.value().is_object() || kv.value().is_array()) {
            error(p[std::string(kv.key())], child(pp, kv.key()), "a query parameter must be a single value");
          }
        }
        e.params = std::move(*o);
      }
    }
    if (const YAML::Node j = n["json"]; j.IsDefined()) {
      if (auto v = to_json(j, child(path, "json"))) e.json = std::move(*v);
    }
    std::string sel;
    if (get_string(n, "data_selector", path, sel)) {
      std::string why;
      if (auto jp = parse_json_path(sel, why)) {
        e.data_selector = std::move(*jp);
      } else {
        error(n["data_selector"], child(path, "data_selector"), "invalid data_selector: " + why);
      }
    }
    if (const YAML::Node p = n["paginator"]; p.IsDefined()) paginator(p, child(path, "paginator"), e.paginator);
  }

  void check_endpoint_path(const YAML::Node& n, const std::string& path, const std::string& value) {
    if (value.find("://") != std::string::npos) {
      error(n, path, "'" + value + "' must be a path relative to magic_hour.base_url (the API key is only sent there)");
    }
  }

  void paginator(const YAML::Node& n, const std::string& path, PaginatorConfig& p) {
    static const Keys kTypes{"single_page", "json_link", "header_link", "offset", "page_number", "cursor"};
    const YAML::Node type_node = n.IsMap() ? n["type"] : n;
    std::string type_path = n.IsMap() ? child(path, "type") : path;
    if (n.IsMap() && !type_node.IsDefined()) {
      error(n, type_path, "required key 'type' is missing");
      return;
    }
    if (!n.IsMap() && !n.IsScalar()) {
      error(n, path, "expected a paginator type or a mapping with type:, got " + std::string(kind_name(n)));
      return;
    }
    auto type = scalar(type_node, type_path);
    if (!type) return;
    auto it = std::find(kTypes.begin(), kTypes.end(), *type);
    if (it == kTypes.end()) {
      std::string msg = "unknown paginator type '" + *type +
                        "' (one of single_page, json_link, header_link, offset, "
                        "page_number, cursor)";
      error(type_node, type_path, msg, 0, suggestion(*type, kTypes));
      return;
    }
    p.type = static_cast<PaginatorType>(1 + (it - kTypes.begin()));
    p.total_path = "total";
    if (!n.IsMap()) {
      if (p.type == PaginatorType::offset) {
        error(n, path, "the offset paginator needs a page size: write {type: offset, limit: N}");
      }
      return;
    }
    Keys keys{"type"};
    switch (p.type) {
      case PaginatorType::json_link: keys.push_back("next_url_path"); break;
      case PaginatorType::header_link: keys.push_back("links_next_key"); break;
      case PaginatorType::offset:
        keys.insert(keys.end(), {"limit", "offset", "offset_param", "limit_param", "total_path", "maximum_offset",
                                 "stop_after_empty_page", "has_more_path"});
        break;
      case PaginatorType::page_number:
        keys.insert(keys.end(), {"base_page", "page", "page_param", "total_path", "maximum_page",
                                 "stop_after_empty_page", "has_more_path"});
        break;
      case PaginatorType::cursor:
        keys.insert(keys.end(), {"cursor_path", "cursor_param", "has_more_path", "stop_after_empty_page"});
        p.stop_after_empty_page = false;
        break;
      default: break;
    }
    check_map(n, path, keys);
    get_string(n, "next_url_path", path, p.next_url_path);
    get_string(n, "links_next_key", path, p.links_next_key);
    if (p.type == PaginatorType::offset) {
      if (!n["limit"].IsDefined()) error(n, child(path, "limit"), "the offset paginator needs limit (the page size)");
      get_int(n, "limit", path, p.limit, 1, 1'000'000);
      get_int(n, "offset", path, p.offset, 0, std::numeric_limits<std::int64_t>::max());
    }
    get_string(n, "offset_param", path, p.offset_param);
    get_string(n, "limit_param", path, p.limit_param);
    get_int(n, "base_page", path, p.base_page, 0, 1'000'000);
    std::int64_t v = 0;
    if (get_int(n, "page", path, v, 0, std::numeric_limits<std::int64_t>::max())) p.page = v;
    get_string(n, "page_param", path, p.page_param);
    if (const YAML::Node t = n["total_path"]; t.IsDefined()) {
      if (t.IsNull()) {
        p.total_path.reset();
      } else if (std::string s; get_string(n, "total_path", path, s)) {
        p.total_path = s;
      }
    }
    if (get_int(n, "maximum_offset", path, v, 0, std::numeric_limits<std::int64_t>::max())) p.maximum = v;
    if (get_int(n, "maximum_page", path, v, 0, std::numeric_limits<std::int64_t>::max())) p.maximum = v;
    get_string(n, "cursor_path", path, p.cursor_path);
    get_string(n, "cursor_param", path, p.cursor_param);
    if (std::string s; get_string(n, "has_more_path", path, s)) p.has_more_path = s;
    get_bool(n, "stop_after_empty_page", path, p.stop_after_empty_page);
    for (const char* key : {"cursor_path", "total_path", "has_more_path", "next_url_path"}) {
      const YAML::Node k = n[key];
      if (!k.IsDefined() || !k.IsScalar()) continue;
      std::string why;
      if (!parse_json_path(k.Scalar(), why)) error(k, child(path, key), why);
    }
  }

  // ----- jobs ------------------------------------------------------------------------------
  void jobs(const YAML::Node& n, Config& c) {
    if (!n.IsSequence()) {
      error(n, "jobs", "expected a list of jobs, got " + std::string(kind_name(n)));
      return;
    }
    if (n.size() == 0) error(n, "jobs", "the jobs list is empty");
    std::size_t i = 0;
    for (const auto& item : n) {
      std::string path = index("jobs", i++);
      JobConfig j;
      if (job(item, path, c, j)) {
        if (c.find_job(j.name)) {
          error(item["name"], child(path, "name"), "job '" + j.name + "' is defined twice");
        } else {
          c.jobs.push_back(std::move(j));
        }
      }
    }
  }

  bool job(const YAML::Node& n, const std::string& path, const Config& c, JobConfig& j) {
    if (!check_map(n, path,
                   {"name", "schedule", "every", "timezone", "catch_up", "jitter", "credit_budget", "resources",
                    "generate"})) {
      return false;
    }
    std::size_t before = errors_.size();
    if (get_string(n, "name", path, j.name, true) && !valid_name(j.name)) {
      error(n["name"], child(path, "name"),
            "'" + j.name + "' is not a valid job name (letters, digits, '_', '-', '.'; at most 63)");
    }
    const YAML::Node sched = n["schedule"];
    const YAML::Node every = n["every"];
    if (sched.IsDefined() && every.IsDefined()) {
      error(every, child(path, "every"), "a job has either schedule: (cron) or every:, not both");
    } else if (sched.IsDefined()) {
      if (get_string(n, "schedule", path, j.schedule.expression)) {
        std::string why;
        if (auto cron = parse_cron(j.schedule.expression, why)) {
          j.schedule.kind = JobSchedule::Kind::cron;
          j.schedule.cron = *cron;
        } else {
          error(sched, child(path, "schedule"), "invalid cron expression '" + j.schedule.expression + "': " + why);
        }
      }
    } else if (every.IsDefined()) {
      if (get_duration(n, "every", path, j.schedule.every, Duration(1000))) j.schedule.kind = JobSchedule::Kind::every;
    }
    if (get_string(n, "timezone", path, j.timezone)) check_timezone(n["timezone"], child(path, "timezone"), j.timezone);
    get_bool(n, "catch_up", path, j.catch_up);
    get_duration(n, "jitter", path, j.jitter);
    std::int64_t budget = 0;
    if (get_int(n, "credit_budget", path, budget, 0, std::numeric_limits<std::int64_t>::max()))
      j.credit_budget = budget;

    if (const YAML::Node r = n["resources"]; r.IsDefined()) job_resources(r, child(path, "resources"), c, j);
    if (const YAML::Node g = n["generate"]; g.IsDefined()) {
      std::string gp = child(path, "generate");
      if (!g.IsSequence()) {
        error(g, gp, "expected a list of generation entries, got " + std::string(kind_name(g)));
      } else {
        std::size_t k = 0;
        for (const auto& item : g) {
          GenerateConfig gen;
          if (generate(item, index(gp, k++), gen)) j.generate.push_back(std::move(gen));
        }
      }
    }
    if (errors_.size() == before && j.resources.empty() && j.generate.empty()) {
      error(n, path, "job '" + j.name + "' has nothing to do: give it resources: or generate:");
    }
    return errors_.size() == before;
  }

  void check_timezone(const YAML::Node& n, const std::string& path, const std::string& tz) {
    if (tz == "UTC") return;
    std::string dir = env_("TZDIR").value_or("/usr/share/zoneinfo");
    std::string why;
    bool ok = tz.find("..") == std::string::npos && !tz.starts_with("/") && readable_file(dir + "/" + tz, why);
    if (!ok) error(n, path, "unknown time zone '" + tz + "' (an IANA name such as Europe/Berlin, or UTC)");
  }

  void job_resources(const YAML::Node& n, const std::string& path, const Config& c, JobConfig& j) {
    if (!n.IsSequence()) {
      error(n, path, "expected a list of resource names, got " + std::string(kind_name(n)));
      return;
    }
    std::vector<std::string_view> known;
    for (const auto& b : builtin_resource_names()) {
      if (!is_generation_resource(b)) known.push_back(b);
    }
    for (const auto& r : c.resources) known.push_back(r.name);
    std::size_t i = 0;
    for (const auto& item : n) {
      std::string ip = index(path, i++);
      auto name = scalar(item, ip);
      if (!name) continue;
      if (is_generation_resource(*name)) {
        error(item, ip, "'" + *name + "' spends credits; list it under generate: with its requests");
      } else if (std::find(known.begin(), known.end(), *name) == known.end()) {
        std::string msg = "unknown resource '" + *name +
                          "' (built in: credits, status, models, image_projects; or "
                          "one defined under resources:)";
        error(item, ip, msg, 0, suggestion(*name, known));
      } else if (std::find(j.resources.begin(), j.resources.end(), *name) != j.resources.end()) {
        error(item, ip, "resource '" + *name + "' is listed twice");
      } else {
        j.resources.push_back(*name);
      }
    }
  }

  bool generate(const YAML::Node& n, const std::string& path, GenerateConfig& g) {
    if (!check_map(n, path, {"resource", "requests", "request", "from_dir", "settle"})) return false;
    std::size_t before = errors_.size();
    auto kind = get_enum(n, "resource", path, {"ai_image_generator", "ai_image_upscaler"});
    if (!n["resource"].IsDefined()) error(n, child(path, "resource"), "required key 'resource' is missing");
    if (!kind) return false;
    g.kind = static_cast<GenerateKind>(*kind);
    g.resource = *kind == 0 ? "ai_image_generator" : "ai_image_upscaler";
    if (const YAML::Node r = n["requests"]; r.IsDefined()) {
      std::string rp = child(path, "requests");
      if (!r.IsSequence() || r.size() == 0) {
        error(r, rp, "expected a non-empty list of request bodies");
      } else {
        std::size_t k = 0;
        for (const auto& item : r) {
          std::string ip = index(rp, k++);
          if (auto o = to_json_object(item, ip)) {
            check_request(item, ip, g.kind, *o, false);
            g.requests.push_back(std::move(*o));
          }
        }
      }
    }
    if (const YAML::Node r = n["request"]; r.IsDefined()) {
      if (auto o = to_json_object(r, child(path, "request"))) g.request = std::move(*o);
    }
    std::string dir;
    if (get_string(n, "from_dir", path, dir)) g.from_dir = absolute(dir);
    if (get_duration(n, "settle", path, g.settle) && !g.from_dir) {
      error(n["settle"], child(path, "settle"), "settle is only for from_dir");
    }

    if (g.kind == GenerateKind::image_generator) {
      if (g.from_dir) error(n["from_dir"], child(path, "from_dir"), "from_dir is only for ai_image_upscaler");
      if (g.request) {  // a single request is shorthand for a one-element list
        check_request(n["request"], child(path, "request"), g.kind, *g.request, false);
        g.requests.push_back(*g.request);
        g.request.reset();
      }
      if (g.requests.empty() && errors_.size() == before) {
        error(n, child(path, "requests"), "ai_image_generator needs requests: a list of request bodies");
      }
    } else {
      if (g.from_dir) {
        if (!g.request) {
          error(n, child(path, "request"), "from_dir needs request: the upscale settings, e.g. {scale_factor: 2}");
        } else {
          check_request(n["request"], child(path, "request"), g.kind, *g.request, true);
        }
      } else if (g.request) {
        error(n["request"], child(path, "request"),
              "request: is the template for from_dir files; without from_dir use requests: with "
              "assets.image_file_path");
      } else if (g.requests.empty() && errors_.size() == before) {
        error(n, path, "ai_image_upscaler needs from_dir: (with request:) or requests:");
      }
    }
    return errors_.size() == before;
  }

  // The fields the API requires, checked before anything is spent (the catalogue checks,
  // which share the client's rules).
  void check_request(const YAML::Node& n, const std::string& path, GenerateKind kind, const json::object& body,
                     bool from_dir_template) {
    if (!catalogue_) return;
    auto problem = catalogue_->check_request(kind, body, from_dir_template);
    if (!problem) return;
    // Point at the offending key's line when it is there, else at the request.
    std::string top = problem->field.substr(0, problem->field.find('.'));
    const YAML::Node at = n[top].IsDefined() ? n[top] : n;
    error(at, child(path, problem->field), problem->message);
  }

  std::string file_;
  std::string base_dir_;
  std::string credentials_dir_;
  EnvLookup env_;
  const CatalogueChecks* catalogue_;  // null: skipped
  std::vector<ConfigError> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace

ConfigResult load_string(const std::string& yaml, const std::string& file, const std::string& base_dir,
                         const LoadOptions& options) {
  Loader loader(file, base_dir, options);
  return loader.run(yaml);
}

ConfigResult load_file(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  std::string name = ec ? path : abs.lexically_normal().string();
  std::string why;
  if (!readable_file(name, why)) {
    ConfigResult r;
    r.errors.push_back({name, "", 0, "cannot read the configuration file: " + why, ""});
    return r;
  }
  std::ifstream in(name, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return load_string(buf.str(), name, fs::path(name).parent_path().string(), options);
}

std::string resolve_config_path(const std::optional<std::string>& flag) {
  if (flag) return *flag;
  if (const char* env = std::getenv("MHLOADER_CONFIG"); env != nullptr && *env != '\0') return env;
  return "/etc/mhloader/mhloader.yaml";
}

void register_secrets(const Config& c) {
  log::register_secret(c.magic_hour.api_key.value);
  log::register_secret(c.control.token.value);
  log::register_secret(dsn_password(c.destination.dsn.value));
  if (const char* pw = std::getenv("PGPASSWORD")) log::register_secret(pw);
}

}  // namespace mh::config
