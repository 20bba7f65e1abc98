// The repository stands alone: no tracked file points to documents kept outside it
// (the project's working notes beside the checkout), and every "docs/<page>.md §Section"
// reference names a heading that page has.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "ops/ops.hpp"

using mh::ops::read_text;
using mh::ops::source_path;
namespace fs = std::filesystem;

namespace {

const std::string kSelf = "tests/ops/test_self_contained.cpp";

// Tracked files (git ls-files); without git (a source tarball), every file outside build
// trees and VCS folders.
std::vector<std::string> repository_files() {
  std::vector<std::string> out;
  auto git = mh::ops::tool({"git", "-C", MHLOADER_SOURCE_DIR, "ls-files", "-z"});
  if (git.exit_code == 0) {
    std::string name;
    for (char c : git.out) {
      if (c != '\0') {
        name += c;
        continue;
      }
      if (fs::is_regular_file(source_path(name))) out.push_back(name);
      name.clear();
    }
    return out;
  }
  const fs::path root(MHLOADER_SOURCE_DIR);
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    std::string top = rel.substr(0, rel.find('/'));
    if (it->is_directory() && (top.starts_with("build") || top.starts_with("."))) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out.push_back(rel);
  }
  return out;
}

bool is_text(const std::string& content) { return content.find('\0') == std::string::npos; }

// Headings of a Markdown page, without their #s.
std::set<std::string> headings(const std::string& page) {
  std::set<std::string> out;
  bool fence = false;
  for (const auto& line : mh::ops::lines(page)) {
    if (line.starts_with("```")) fence = !fence;
    std::smatch m;
    if (!fence && std::regex_match(line, m, std::regex(R"(#{1,6} (.*))"))) out.insert(m[1]);
  }
  return out;
}

}  // namespace

TEST_CASE("self-contained: no repository file points to documents outside the repository") {
  const std::vector<std::string> outside{"../shared",        "work/shared",        "DESIGN.md",
                                         "magichour-api.md", "dlt-conventions.md", "magichour-openapi.json"};
  auto files = repository_files();
  REQUIRE(files.size() > 100);
  std::size_t scanned = 0;
  for (const auto& file : files) {
    if (file == kSelf) continue;
    std::string text = read_text(source_path(file));
    if (!is_text(text)) continue;
    ++scanned;
    for (const auto& needle : outside) {
      auto at = text.find(needle);
      if (at == std::string::npos) continue;
      auto line = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 1;
      CHECK_MESSAGE(false, file << ":" << line << " mentions '" << needle << "'");
    }
  }
  CHECK(scanned > 100);
}

TEST_CASE("self-contained: every '<page>.md §Section' reference names a heading of docs/<page>.md") {
  std::map<std::string, std::set<std::string>> pages;
  for (const auto& entry : fs::directory_iterator(source_path("docs"))) {
    if (entry.path().extension() == ".md") pages[entry.path().filename()] = headings(read_text(entry.path()));
  }
  REQUIRE(pages.count("design.md"));
  std::regex ref_re(R"(([a-z0-9-]+\.md) §([^\n]*))");
  std::size_t checked = 0;
  for (const auto& file : repository_files()) {
    if (file == kSelf) continue;
    std::string text = read_text(source_path(file));
    if (!is_text(text)) continue;
    for (std::sregex_iterator it(text.begin(), text.end(), ref_re), end; it != end; ++it) {
      auto page = pages.find((*it)[1]);
      if (page == pages.end()) continue;  // README.md and others have no such sections
      ++checked;
      std::string rest = (*it)[2];
      bool found = false;
      for (const auto& h : page->second) {
        // The heading, then the end of the reference (not a longer word: "§Processes").
        found = found || (rest.starts_with(h) &&
                          (rest.size() == h.size() || !std::isalnum(static_cast<unsigned char>(rest[h.size()]))));
      }
      CHECK_MESSAGE(found, file << ": '" << (*it)[0] << "' names no heading of docs/" << page->first);
    }
  }
  CHECK(checked > 10);
}
