#include "ops/ops.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace mh::ops {

std::string source_path(const std::string& relative) { return std::string(MHLOADER_SOURCE_DIR) + "/" + relative; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

test::ProcessResult tool(const std::vector<std::string>& argv, const test::ProcessOptions& options) {
  std::vector<std::string> full{"/usr/bin/env"};
  full.insert(full.end(), argv.begin(), argv.end());
  auto r = test::run_process(full, options);
  // 127: env did not find it. Every tool here comes from scripts/install-deps.sh.
  REQUIRE_MESSAGE(r.exit_code != 127, argv.front() << " is not installed: run scripts/install-deps.sh\n" << r.err);
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) out.push_back(line);
  return out;
}

Unit parse_unit(const std::string& text) {
  Unit unit;
  std::string section;
  for (const auto& raw : lines(text)) {
    std::string line = raw;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    unit[section][line.substr(0, eq)].push_back(line.substr(eq + 1));
  }
  return unit;
}

std::set<std::string> needed_packages(const std::string& binary) {
  // DT_NEEDED names: what the binary links itself (transitive libraries come with
  // the packages' own dependencies).
  auto elf = tool({"readelf", "-d", binary});
  REQUIRE_MESSAGE(elf.exit_code == 0, elf.err);
  std::set<std::string> needed;
  std::regex needed_re(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  for (std::sregex_iterator it(elf.out.begin(), elf.out.end(), needed_re), end; it != end; ++it) {
    needed.insert((*it)[1]);
  }
  REQUIRE(!needed.empty());
  // Where the loader finds each one.
  auto ldd = tool({"ldd", binary});
  REQUIRE_MESSAGE(ldd.exit_code == 0, ldd.err);
  std::map<std::string, std::string> where;
  std::regex ldd_re(R"(^\s*(\S+) => (\S+) \(0x)");
  for (const auto& line : lines(ldd.out)) {
    std::smatch m;
    if (std::regex_search(line, m, ldd_re)) where[m[1]] = m[2];
  }
  // Merged /usr: dpkg may know a file under /lib or /usr/lib. One dpkg-query for all
  // (it reads every package's file list on each call).
  std::map<std::string, std::vector<std::string>> candidates;
  std::vector<std::string> query{"dpkg-query", "-S"};
  for (const auto& lib : needed) {
    REQUIRE_MESSAGE(where.count(lib), lib << " is not resolved by ldd:\n" << ldd.out);
    std::set<std::string> paths{where[lib], std::filesystem::canonical(where[lib]).string()};
    for (std::string p : std::set<std::string>(paths)) {
      if (p.starts_with("/usr/")) paths.insert(p.substr(4));
      if (p.starts_with("/lib")) paths.insert("/usr" + p);
    }
    candidates[lib].assign(paths.begin(), paths.end());
    query.insert(query.end(), paths.begin(), paths.end());
  }
  auto owners = tool(query);                    // exit 1 when some candidate is unknown: expected
  std::map<std::string, std::string> owner_of;  // path → package
  for (const auto& line : lines(owners.out)) {
    auto sep = line.find(": ");
    if (sep == std::string::npos) continue;
    std::string package = line.substr(0, line.find(':'));  // "libpq5:amd64: /usr/lib/..." → libpq5
    owner_of[line.substr(sep + 2)] = package;
  }
  std::set<std::string> packages;
  for (const auto& [lib, paths] : candidates) {
    std::string owner;
    for (const auto& p : paths) {
      if (owner_of.count(p)) owner = owner_of[p];
    }
    REQUIRE_MESSAGE(!owner.empty(), "no Debian package owns " << where[lib] << "\n" << owners.out << owners.err);
    packages.insert(owner);
  }
  return packages;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace mh::ops
