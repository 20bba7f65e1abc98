// The from_dir inbox end to end: `mhloader run` against magichour-sim and the real
// PostgreSQL. Files still being written wait, `.part` files and symlinks are never taken,
// and a file's hash is read once while its (device, inode, size, mtime) stay the same.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "integration/job_setup.hpp"
#include "integration/sim_helpers.hpp"

using namespace mh::test;

namespace {

std::string upscale_job(const std::string& dir, const std::string& settle) {
  return "jobs:\n  - name: inbox\n    every: 10m\n    generate:\n      - resource: ai_image_upscaler\n"
         "        from_dir: " +
         dir + "\n        settle: " + settle + "\n        request: {scale_factor: 2}\n";
}

struct timespec mtime_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mtim;
}

void set_mtime(const std::string& path, struct timespec t) {
  struct timespec times[2] = {t, t};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("inbox: a file still written waits for settle or its rename, symlinks are refused") {
  SimProcess sim({"--render-time", "200ms", "--credits", "1000"});
  TempDir inbox, outside;
  inbox.write("growing.png", "half an image");
  inbox.write("done.png.part", "a complete image");
  const std::string secret = outside.write("secret.png", "not for upload");
  REQUIRE(::symlink(secret.c_str(), (inbox.path() + "/link.png").c_str()) == 0);
  Setup s(sim, upscale_job(inbox.path(), "1h"));

  auto r = s.run("inbox");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 0);  // nothing settled, .part is not an image yet, the symlink refused
  CHECK(r.err.find("a symlink is refused") != std::string::npos);
  CHECK(r.err.find("still being written") != std::string::npos);

  // The writer renames its .part when done: taken at once, settle or not.
  REQUIRE(std::rename((inbox.path() + "/done.png.part").c_str(), (inbox.path() + "/done.png").c_str()) == 0);
  r = s.run("inbox");
  REQUIRE(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 1);
  CHECK(s.text("SELECT source_file FROM magic_hour_data.ai_image_upscaler") == inbox.path() + "/done.png");
  CHECK(s.count("SELECT count(*) FROM magic_hour_data.ai_image_upscaler WHERE source_file LIKE '%link.png'") == 0);
}

TEST_CASE("inbox: a file is hashed once while its device, inode, size and mtime stay the same") {
  SimProcess sim({"--render-time", "200ms", "--credits", "1000"});
  TempDir inbox;
  const std::string a = inbox.write("a.png", "first image");
  Setup s(sim, upscale_job(inbox.path(), "0s"));
  auto r = s.run("inbox");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 1);
  CHECK(r.err.find("hashed=1") != std::string::npos);

  // New bytes of the same size, the old mtime put back: a re-hash would see a new file
  // (and upscale it); the cache answers from the file's identity without reading it.
  const struct timespec old = mtime_of(a);
  inbox.write("a.png", "FIRST IMAGE");
  set_mtime(a, old);
  r = s.run("inbox");
  REQUIRE(r.exit_code == 0);
  CHECK(sim_jobs(sim) == 1);
  CHECK(r.err.find("hashed=0") != std::string::npos);

  // A new mtime is a new identity: read again, and now it is new content.
  set_mtime(a, {old.tv_sec - 60, old.tv_nsec});
  r = s.run("inbox");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("hashed=1") != std::string::npos);
  CHECK(sim_jobs(sim) == 2);
}
