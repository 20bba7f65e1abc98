// Helpers for the operations-kit tests (tests/ops/): repository files, running
// system tools (systemd-analyze, promtool, dpkg, cpack) and reading their answers.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace mh::ops {

// A file of the repository, by path relative to its root.
std::string source_path(const std::string& relative);
std::string read_text(const std::string& path);
bool exists(const std::string& path);

// Runs a program found on PATH (through /usr/bin/env; exit 127 when it is missing).
test::ProcessResult tool(const std::vector<std::string>& argv, const test::ProcessOptions& options = {});

// Lines of `text`, without their newlines.
std::vector<std::string> lines(const std::string& text);

// A systemd unit file: section → key → every value assigned, in order.
using Unit = std::map<std::string, std::map<std::string, std::vector<std::string>>>;
Unit parse_unit(const std::string& text);

// Debian packages of the shared libraries a binary names in DT_NEEDED, without ":arch".
std::set<std::string> needed_packages(const std::string& binary);

// Replaces every occurrence of `from` in `text`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace mh::ops
