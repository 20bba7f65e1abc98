#include "app/cli.hpp"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/process_guard.hpp"
#include "app/serve.hpp"
#include "app/version.hpp"
#include "config/load.hpp"
#include "log/log.hpp"
#include "pipeline/validate_config.hpp"
#include "util/did_you_mean.hpp"

namespace mh::app {

void apply_log_level(const config::Config& config, bool pinned) {
  if (!pinned) log::set_level(log::parse_level(config.log.level).value_or(log::Level::info));
}
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

constexpr const char* kUsage = R"(Usage: mhloader COMMAND [OPTIONS]

Keeps a PostgreSQL database in sync with a Magic Hour account.

Commands:
  serve          run the daemon in the foreground (systemd ExecStart)
  run JOB        one run of JOB now, in the foreground, then exit
  check-config   validate the configuration; print it resolved, secrets as ***
  show           pipeline state: last loads, tables, columns, row counts
  version        print the version

Options:
  --config FILE       configuration file (default: $MHLOADER_CONFIG, else
                      /etc/mhloader/mhloader.yaml)
  --log-level LEVEL   debug, info, warn or error (overrides log.level)
  -h, --help          this help

Exit codes: 0 success, 1 the run or the daemon failed, 2 usage or configuration error.
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::optional<std::string> config;
  std::optional<log::Level> log_level;
};

int usage_error(const std::string& message) {
  std::cerr << "mhloader: " << message << "\nRun 'mhloader --help' for usage.\n";
  return kExitUsage;
}

// Loads and validates; prints every error. nullopt means exit 2.
std::optional<config::Config> load_config(const Args& args) {
  std::string path = config::resolve_config_path(args.config);
  config::ConfigResult r = pipeline::load_config_file(path);
  for (const auto& w : r.warnings) std::cerr << "mhloader: warning: " << w << "\n";
  if (!r.config) {
    for (const auto& e : r.errors) std::cerr << "mhloader: " << e.to_string() << "\n";
    std::cerr << "mhloader: " << r.errors.size() << (r.errors.size() == 1 ? " error" : " errors")
              << " in the configuration\n";
    return std::nullopt;
  }
  config::register_secrets(*r.config);
  return std::move(r.config);
}

int cmd_check_config(const Args& args) {
  auto cfg = load_config(args);
  if (!cfg) return kExitUsage;
  std::cout << config::render(*cfg);
  std::cerr << "mhloader: " << cfg->file << ": configuration OK (" << cfg->jobs.size()
            << (cfg->jobs.size() == 1 ? " job" : " jobs") << ")\n";
  return kExitOk;
}

int cmd_serve(const Args& args) {
  auto cfg = load_config(args);
  if (!cfg) return kExitUsage;
  ServeOptions opts;
  opts.config_path = cfg->file;
  opts.log_level_pinned = args.log_level.has_value();
  apply_log_level(*cfg, opts.log_level_pinned);
  return serve(std::move(*cfg), opts);
}

}  // namespace

int main(int argc, char** argv) {
  // Before any secret is read: no core dump may hold one.
  const std::vector<std::string> unhardened = harden_process();
  // systemd sets JOURNAL_STREAM for a service whose stderr goes to the journal.
  log::set_syslog_prefix(std::getenv("JOURNAL_STREAM") != nullptr);
  // systemd's SystemCallFilter refuses setrlimit; its LimitCORE=0 did the same already.
  for (const auto& f : unhardened) log::debug("process hardening not applied", {{"what", f}});

  Args args;
  std::vector<std::string> argv_list(argv + 1, argv + argc);
  for (std::size_t i = 0; i < argv_list.size(); ++i) {
    const std::string& a = argv_list[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.size() > flag.size() && a.compare(0, flag.size() + 1, flag + "=") == 0) return a.substr(flag.size() + 1);
      if (i + 1 < argv_list.size()) return argv_list[++i];
      return std::nullopt;
    };
    if (a == "-h" || a == "--help" || a == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (a == "--version") {
      args.command = "version";
    } else if (a == "--config" || a.starts_with("--config=")) {
      auto v = value("--config");
      if (!v || v->empty()) return usage_error("--config needs a file name");
      args.config = *v;
    } else if (a == "--log-level" || a.starts_with("--log-level=")) {
      auto v = value("--log-level");
      auto level = v ? log::parse_level(*v) : std::nullopt;
      if (!level) return usage_error("--log-level must be debug, info, warn or error");
      args.log_level = level;
    } else if (a.starts_with("-")) {
      return usage_error("unknown option '" + a + "'");
    } else if (args.command.empty()) {
      args.command = a;
    } else {
      args.positional.push_back(a);
    }
  }
  if (args.log_level) log::set_level(*args.log_level);

  const std::vector<std::string_view> commands{"serve", "run", "check-config", "show", "version"};
  if (args.command.empty()) return usage_error("no command given");
  if (args.command == "version") {
    std::cout << "mhloader " << kVersion << " (revision " << kRevision << ")\n";
    return kExitOk;
  }
  if (args.command == "run") {
    if (args.positional.size() != 1) return usage_error("run needs exactly one JOB name");
  } else if (!args.positional.empty()) {
    return usage_error("unexpected argument '" + args.positional.front() + "'");
  }
  if (args.command == "check-config") return cmd_check_config(args);
  if (args.command == "serve") return cmd_serve(args);
  if (args.command == "run" || args.command == "show") {
    auto cfg = load_config(args);
    if (!cfg) return kExitUsage;
    apply_log_level(*cfg, args.log_level.has_value());
    auto shared = std::make_shared<const config::Config>(std::move(*cfg));
    return args.command == "run" ? run_command(shared, args.positional.front()) : show_command(shared);
  }
  std::string msg = "unknown command '" + args.command + "'";
  if (auto s = util::did_you_mean(args.command, commands)) msg += "; did you mean '" + *s + "'?";
  return usage_error(msg);
}

}  // namespace mh::app
