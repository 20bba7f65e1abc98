// The from_dir inbox's per-file decision (pipeline/inbox.hpp) on real files: vanished,
// symlinked, unsettled and cached files.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "pipeline/inbox.hpp"
#include "support/temp_dir.hpp"

using namespace mh::pipeline;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ns() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct Dir {
  mh::test::TempDir tmp;
  int fd = ::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ~Dir() { ::close(fd); }
};

}  // namespace

TEST_CASE("inbox: a vanished file is skipped, not an error") {
  Dir d;
  HashCache cache(std::nullopt);
  CHECK_FALSE(take_file(d.fd, d.tmp.path(), "gone.png", 0ms, now_ns(), cache));
}

TEST_CASE("inbox: a symlink is refused, even to a regular file in the same directory") {
  Dir d;
  d.tmp.write("real.png", "bytes");
  REQUIRE(::symlink("real.png", (d.tmp.path() + "/link.png").c_str()) == 0);
  HashCache cache(std::nullopt);
  CHECK_FALSE(take_file(d.fd, d.tmp.path(), "link.png", 0ms, now_ns(), cache));
  auto real = take_file(d.fd, d.tmp.path(), "real.png", 0ms, now_ns(), cache);
  REQUIRE(real);
  CHECK(real->path == d.tmp.path() + "/real.png");
  CHECK(real->sha256.size() == 64);
}

TEST_CASE("inbox: a recently written file waits for settle, FIFOs and folders are not taken") {
  Dir d;
  d.tmp.write("fresh.png", "bytes");
  REQUIRE(::mkfifo((d.tmp.path() + "/pipe.png").c_str(), 0600) == 0);
  REQUIRE(::mkdir((d.tmp.path() + "/dir.png").c_str(), 0700) == 0);
  HashCache cache(std::nullopt);
  CHECK_FALSE(take_file(d.fd, d.tmp.path(), "fresh.png", 1h, now_ns(), cache));
  CHECK(take_file(d.fd, d.tmp.path(), "fresh.png", 1h, now_ns() + 2LL * 3600 * 1'000'000'000, cache));
  CHECK_FALSE(take_file(d.fd, d.tmp.path(), "pipe.png", 0ms, now_ns(), cache));
  CHECK_FALSE(take_file(d.fd, d.tmp.path(), "dir.png", 0ms, now_ns(), cache));
}

TEST_CASE("inbox: scan skips .part names and keeps the hash cache to the files it saw") {
  mh::test::TempDir inbox, state;
  inbox.write("a.png", "one");
  inbox.write("b.png.part", "two");
  const std::string cache = state.path() + "/cache.json";
  auto all = [](const std::string&) { return true; };
  auto files = scan_inbox(inbox.path(), 0ms, cache, all);
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == inbox.path() + "/a.png");
  // The second scan reads nothing: the same identity is in the cache file.
  HashCache again(cache);
  struct stat st {};
  REQUIRE(::stat(files[0].path.c_str(), &st) == 0);
  FileIdentity id{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                  static_cast<std::int64_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  CHECK(again.find(id) == files[0].sha256);
  // A file gone from the inbox leaves the cache with the next scan.
  REQUIRE(::unlink(files[0].path.c_str()) == 0);
  CHECK(scan_inbox(inbox.path(), 0ms, cache, all).empty());
  HashCache after(cache);
  CHECK_FALSE(after.find(id));
}
