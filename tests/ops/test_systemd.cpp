// systemd/mhloader.service: systemd's own checks (verify, the offline security
// review) and the settings the issue and docs/design.md §Process ask for.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <set>
#include <sstream>

#include "ops/ops.hpp"
#include "support/temp_dir.hpp"

using mh::ops::parse_unit;
using mh::ops::read_text;
using mh::ops::source_path;
using mh::ops::tool;

namespace {

const std::string kUnit = "systemd/mhloader.service";

// The unit as shipped, but starting the binary this build made (verify checks
// that ExecStart exists); the file keeps its name, which the checks key on.
std::string unit_with_built_binary(const mh::test::TempDir& dir) {
  std::string text = read_text(source_path(kUnit));
  REQUIRE(text.find("ExecStart=/usr/bin/mhloader ") != std::string::npos);
  return dir.write("mhloader.service", mh::ops::replace_all(text, "ExecStart=/usr/bin/mhloader ",
                                                            std::string("ExecStart=") + MHLOADER_BIN + " "));
}

std::string only(const mh::ops::Unit& unit, const std::string& key) {
  auto section = unit.find("Service");
  if (section == unit.end()) return "";
  auto it = section->second.find(key);
  if (it == section->second.end() || it->second.empty()) return "";
  return it->second.back();
}

}  // namespace

TEST_CASE("systemd unit: systemd-analyze verify accepts it without a single diagnostic") {
  mh::test::TempDir dir;
  std::string unit = unit_with_built_binary(dir);
  auto r = tool({"systemd-analyze", "verify", unit});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  // verify exits 0 on unknown keys and bad values too; they are only printed.
  CHECK_MESSAGE(r.out.empty(), r.out);
  CHECK_MESSAGE(r.err.empty(), r.err);
}

TEST_CASE("systemd unit: systemd-analyze security --offline rates the exposure 2.0 or better") {
  mh::test::TempDir dir;
  std::string unit = unit_with_built_binary(dir);
  auto r = tool({"systemd-analyze", "security", "--offline=yes", "--no-pager", unit});
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  std::smatch m;
  std::string all = r.out + r.err;
  REQUIRE_MESSAGE(
      std::regex_search(all, m, std::regex(R"(Overall exposure level for mhloader\.service: ([0-9]+\.[0-9]))")), all);
  double score = std::stod(m[1]);
  MESSAGE("systemd-analyze security: overall exposure " << m[1] << " (0 = best, 10 = worst)");
  CHECK_MESSAGE(score <= 2.0, all);
}

TEST_CASE("systemd unit: notify, watchdog, reload, credentials and the sandbox are set as documented") {
  auto unit = parse_unit(read_text(source_path(kUnit)));
  CHECK(only(unit, "Type") == "notify");
  CHECK(only(unit, "ExecStart").starts_with("/usr/bin/mhloader serve"));
  CHECK(only(unit, "ExecReload") == "/bin/kill -HUP $MAINPID");
  CHECK(std::regex_match(only(unit, "WatchdogSec"), std::regex("[1-9][0-9]*(s|min)")));
  // Exit 2 is a configuration error: restarting would only loop.
  CHECK(only(unit, "RestartPreventExitStatus") == "2");

  CHECK(only(unit, "User") == "mhloader");
  CHECK(only(unit, "StateDirectory") == "mhloader");
  CHECK(only(unit, "ConfigurationDirectory") == "mhloader");
  CHECK(only(unit, "ProtectSystem") == "strict");
  CHECK(only(unit, "ProtectHome") == "yes");
  CHECK(only(unit, "PrivateTmp") == "yes");
  CHECK(only(unit, "NoNewPrivileges") == "yes");
  CHECK(only(unit, "CapabilityBoundingSet") == "");
  CHECK(unit["Service"].count("CapabilityBoundingSet") == 1);
  CHECK(only(unit, "RestrictAddressFamilies") == "AF_UNIX AF_INET AF_INET6");
  CHECK(unit["Service"]["SystemCallFilter"].front() == "@system-service");
  CHECK(std::regex_match(only(unit, "MemoryMax"), std::regex("[1-9][0-9]*[KMG]")));
  CHECK(only(unit, "LimitCORE") == "0");  // no core file holds the secrets

  // LoadCredential IDs are the *_file names config/mhloader.yaml (installed as
  // /etc/mhloader/mhloader.yaml) reads from $CREDENTIALS_DIRECTORY.
  std::set<std::string> ids;
  for (const auto& v : unit["Service"]["LoadCredential"]) ids.insert(v.substr(0, v.find(':')));
  YAML::Node cfg = YAML::LoadFile(source_path("config/mhloader.yaml"));
  std::set<std::string> wanted{cfg["magic_hour"]["api_key_file"].as<std::string>(),
                               cfg["control"]["token_file"].as<std::string>()};
  CHECK(ids == wanted);
  CHECK(ids == std::set<std::string>{"magic_hour_api_key", "control_token"});

  // The unit's user is the one the package creates.
  CHECK(read_text(source_path("packaging/sysusers.conf")).find("\nu     mhloader ") != std::string::npos);
}
