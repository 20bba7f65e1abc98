// Guards the test suite itself: doctest_discover_tests hands names to CMake,
// where ';' splits a name, so such a test would be selected by nothing and
// "pass" without running a single assertion.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

TEST_CASE("meta: no test case name contains a semicolon") {
  namespace fs = std::filesystem;
  std::regex name(R"re(TEST_CASE\("([^"]*)"\))re");
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(MHLOADER_SOURCE_DIR "/tests")) {
    if (entry.path().extension() != ".cpp") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
      CAPTURE(entry.path().string());
      CHECK((*it)[1].str().find(';') == std::string::npos);
    }
  }
  CHECK(files > 5);
}
