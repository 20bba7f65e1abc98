// The Dockerfile, without a Docker engine: its stages, that the build stage runs the
// project's own scripts, and that the runtime stage installs exactly the packages of
// the libraries the built binaries link, plus CA certificates and tzdata.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ops/ops.hpp"

using mh::ops::exists;
using mh::ops::read_text;
using mh::ops::source_path;
using mh::ops::tool;

namespace {

struct Stage {
  std::string from;
  std::string name;
  std::vector<std::string> instructions;  // continuation lines joined
};

std::vector<Stage> parse_dockerfile() {
  std::vector<Stage> stages;
  std::string pending;
  for (const auto& raw : mh::ops::lines(read_text(source_path("Dockerfile")))) {
    std::string line = raw;
    if (pending.empty() && (line.empty() || line.starts_with("#"))) continue;
    if (line.starts_with("#")) continue;  // a comment between continuation lines
    bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    pending += line + " ";
    if (more) continue;
    std::smatch m;
    if (std::regex_match(pending, m, std::regex(R"(FROM (\S+)(?: AS (\S+))?\s*)"))) {
      stages.push_back({m[1], m[2], {}});
    } else {
      REQUIRE_MESSAGE(!stages.empty(), "instruction before FROM: " << pending);
      stages.back().instructions.push_back(pending);
    }
    pending.clear();
  }
  return stages;
}

const Stage& stage(const std::vector<Stage>& stages, const std::string& name) {
  for (const auto& s : stages) {
    if (s.name == name) return s;
  }
  FAIL("no stage " << name);
  throw;  // unreachable
}

std::string joined(const Stage& s) {
  std::string all;
  for (const auto& i : s.instructions) all += i + "\n";
  return all;
}

// The packages after `apt-get install ... --no-install-recommends`, up to `&&`.
std::set<std::string> apt_installed(const Stage& s) {
  std::set<std::string> out;
  for (const auto& i : s.instructions) {
    auto at = i.find("--no-install-recommends");
    if (at == std::string::npos) continue;
    std::stringstream words(i.substr(at + 23, i.find("&&", at) - at - 23));
    for (std::string w; words >> w;) out.insert(w);
  }
  return out;
}

}  // namespace

TEST_CASE("Dockerfile: build on bookworm with the project's scripts, run on bookworm-slim as a non-root user") {
  auto stages = parse_dockerfile();
  REQUIRE(stages.size() == 4);
  CHECK(stages.front().name == "build");
  CHECK(stages.front().from == "debian:bookworm");
  CHECK(stages.back().name == "runtime");  // `docker build .` gives the daemon
  CHECK(stage(stages, "runtime-base").from == "debian:bookworm-slim");
  CHECK(stage(stages, "runtime").from == "runtime-base");
  CHECK(stage(stages, "magichour-sim").from == "runtime-base");

  std::string build = joined(stage(stages, "build"));
  CHECK(build.find("RUN bash scripts/install-deps.sh") != std::string::npos);
  CHECK(build.find("RUN bash scripts/package.sh build/release") != std::string::npos);
  CHECK(exists(source_path("scripts/install-deps.sh")));
  CHECK(exists(source_path("scripts/package.sh")));
  CHECK(read_text(source_path(".dockerignore")).find("build/") != std::string::npos);

  std::string runtime = joined(stage(stages, "runtime"));
  CHECK(runtime.find("USER mhloader") != std::string::npos);
  CHECK(joined(stage(stages, "runtime-base")).find("useradd --system --uid 10001") != std::string::npos);
  CHECK(runtime.find("EXPOSE 8686") != std::string::npos);
  CHECK(runtime.find(R"(VOLUME ["/etc/mhloader", "/var/lib/mhloader"])") != std::string::npos);
  CHECK(runtime.find("ENV CREDENTIALS_DIRECTORY=/run/secrets") != std::string::npos);
  std::smatch hc;
  REQUIRE(std::regex_search(runtime, hc, std::regex(R"(HEALTHCHECK [^\n]*CMD ([^\n]*))")));
  CHECK(hc[1].str().find("GET /-/healthy") != std::string::npos);
  CHECK(hc[1].str().find("/bin/bash") != std::string::npos);  // bash is in bookworm-slim; curl is not
  CHECK(runtime.find(R"(ENTRYPOINT ["/usr/bin/mhloader"])") != std::string::npos);

  // COPY sources from the build context exist.
  std::regex copy_re(R"(^COPY (?!--from)(\S+) )");
  for (const auto& s : stages) {
    for (const auto& i : s.instructions) {
      std::smatch m;
      if (std::regex_search(i, m, copy_re) && m[1] != ".") CHECK_MESSAGE(exists(source_path(m[1])), i);
    }
  }
}

TEST_CASE("Dockerfile: the runtime stage installs exactly the packages of the linked libraries") {
  auto stages = parse_dockerfile();
  std::set<std::string> listed = apt_installed(stage(stages, "runtime-base"));
  // Not libraries: trust anchors for HTTPS, zoneinfo for jobs' time zones.
  for (const char* extra : {"ca-certificates", "tzdata"}) CHECK_MESSAGE(listed.erase(extra) == 1, extra);

  std::set<std::string> needed;
  for (const char* binary : {MHLOADER_BIN, MAGICHOUR_SIM_BIN}) {
    auto p = mh::ops::needed_packages(binary);
    needed.insert(p.begin(), p.end());
  }
  // Part of debian:bookworm-slim already; and sanitizer runtimes of an ASan/TSan build.
  for (const char* base : {"libc6", "libgcc-s1", "libstdc++6", "libasan8", "libubsan1", "libtsan2"}) {
    needed.erase(base);
  }
  // GCC's sanitizer link spec turns --as-needed off, so an ASan/TSan binary names every
  // library on its link line; the image ships a plain Release build, whose DT_NEEDED
  // entries a plain build reproduces. There the list must match both ways.
  if (!MHLOADER_SANITIZED) {
    for (const auto& p : needed) CHECK_MESSAGE(listed.count(p), "the binaries link a library of " << p << ": add it");
  }
  for (const auto& p : listed) CHECK_MESSAGE(needed.count(p), p << " is installed but nothing links it: drop it");

  // Names apt knows: a typo fails here rather than in `docker build` (one call: each takes a second).
  std::vector<std::string> show{"apt-cache", "show", "--no-all-versions"};
  std::string all;
  for (const auto& p : apt_installed(stage(stages, "runtime-base"))) {
    show.push_back(p);
    all += " " + p;
  }
  auto known = tool(show);
  CHECK_MESSAGE(known.exit_code == 0, known.err);
  for (std::size_t i = 3; i < show.size(); ++i) {
    CHECK_MESSAGE(known.out.find("Package: " + show[i] + "\n") != std::string::npos, show[i]);
  }
  MESSAGE("runtime packages named in the Dockerfile:" << all);
}
