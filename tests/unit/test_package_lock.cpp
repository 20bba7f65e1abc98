// Package locks and the load order: which packages discard removes, how locks
// exclude each other (also between threads of one process), pending packages
// loading oldest first, a blocking package naming itself, and the cursor merge.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <future>
#include <thread>

#include "load/cursors.hpp"
#include "load/filesystem.hpp"
#include "load/package_builder.hpp"
#include "load/package_lock.hpp"
#include "load/pending.hpp"
#include "support/row_capture.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mh::load::PackageLock;
using mh::normalize::Resource;
using mh::normalize::Schema;
using mh::test::json;
using namespace std::chrono_literals;

namespace {

// A complete package of `rows` rows of table t, its lock released.
std::string complete_package(const std::string& state_dir, int rows) {
  Schema schema("magic_hour");
  mh::load::PackageBuilder b(state_dir, schema);
  for (int i = 0; i < rows; ++i) b.add(Resource{"t"}, boost::json::object{{"i", i}});
  return b.finish().dir();
}

std::vector<std::string> ids(const std::vector<mh::load::LoadResult>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.load_id);
  return out;
}

std::string name_of(const std::string& dir) { return fs::path(dir).filename().string(); }

}  // namespace

TEST_CASE("package lock: a locked incomplete package is never discarded, an unlocked one is") {
  mh::test::TempDir dir;
  Schema schema("magic_hour");
  mh::load::PackageBuilder writing(dir.path(), schema);  // a live run, still extracting
  writing.add(Resource{"t"}, json(R"({"a": 1})"));
  // A run that died while extracting: its folder and lock file stay, the lock is free.
  std::string dead = mh::load::packages_dir(dir.path()) + "/1700000000.25";
  PackageLock::create(dead)->release();
  dir.write("packages/1700000000.25/t.0.copy.tmp", "partial");
  // One from before package locks (or a crash between mkdir and the lock file).
  std::string old = mh::load::packages_dir(dir.path()) + "/1700000000.5";
  fs::create_directories(old);
  std::string done = complete_package(dir.path(), 2);  // complete, unlocked: pending, not abandoned
  // Removals a crash cut short (renamed, not emptied), and one whose owner is still at it.
  const std::string packages = mh::load::packages_dir(dir.path());
  PackageLock::create(packages + "/1700000000.9")->release();
  fs::rename(packages + "/1700000000.9", packages + "/.removing-1700000000.9");
  dir.write("packages/.removing-1700000000.9/t.0.copy", "rows");
  PackageLock removing = std::move(*PackageLock::create(packages + "/1700000000.95"));
  fs::rename(packages + "/1700000000.95", packages + "/.removing-1700000000.95");

  auto removed = mh::load::discard_incomplete_packages(dir.path());
  std::sort(removed.begin(), removed.end());
  CHECK(removed == std::vector<std::string>{dead, old});
  CHECK(fs::exists(writing.dir()));
  CHECK(fs::exists(done));
  CHECK_FALSE(fs::exists(dead));
  CHECK_FALSE(fs::exists(old));
  CHECK_FALSE(fs::exists(packages + "/.removing-1700000000.9"));
  CHECK(fs::exists(packages + "/.removing-1700000000.95"));
  // The live run finishes its package normally.
  writing.add(Resource{"t"}, json(R"({"a": 2})"));
  CHECK(writing.finish().manifest().rows() == 2);
  CHECK(mh::load::complete_packages(dir.path()).size() == 2);
}

TEST_CASE("package lock: locks exclude each other between threads of one process, and a waiter sees the removal") {
  mh::test::TempDir dir;
  const std::string pkg = mh::load::packages_dir(dir.path()) + "/1700000000.75";
  PackageLock held = std::move(*PackageLock::create(pkg));
  CHECK(held.held());
  CHECK_FALSE(PackageLock::create(pkg).has_value());  // a load id another process took

  PackageLock other;
  CHECK(PackageLock::acquire(pkg, 0ms, other) == PackageLock::Outcome::busy);
  auto in_thread = std::async(std::launch::async, [&] {
    PackageLock mine;
    return PackageLock::acquire(pkg, 0ms, mine);
  });
  CHECK(in_thread.get() == PackageLock::Outcome::busy);

  // A waiter blocks until the holder has removed the package, then finds it gone.
  auto waiter = std::async(std::launch::async, [&] {
    PackageLock mine;
    return PackageLock::acquire(pkg, 60s, mine);
  });
  std::this_thread::sleep_for(100ms);
  mh::load::remove_package(pkg);
  held.release();
  CHECK(waiter.get() == PackageLock::Outcome::gone);
  CHECK_FALSE(fs::exists(pkg));
  CHECK(fs::is_empty(mh::load::packages_dir(dir.path())));  // no half-removed folder either
}

TEST_CASE("package lock: a released lock is taken by the next run") {
  mh::test::TempDir dir;
  const std::string pkg = complete_package(dir.path(), 1);
  PackageLock first;
  REQUIRE(PackageLock::acquire(pkg, 0ms, first) == PackageLock::Outcome::locked);
  PackageLock second;
  CHECK(PackageLock::acquire(pkg, 0ms, second) == PackageLock::Outcome::busy);
  first.release();
  CHECK(PackageLock::acquire(pkg, 0ms, second) == PackageLock::Outcome::locked);
}

TEST_CASE("pending packages: loaded oldest first, each before the run's own, and removed") {
  mh::test::TempDir dir, out;
  mh::load::FilesystemDestination dest({out.path(), "magic_hour_data"});
  std::string a = complete_package(dir.path(), 1);
  std::string b = complete_package(dir.path(), 2);
  Schema schema("magic_hour");
  mh::load::PackageBuilder own(dir.path(), schema);
  own.add(Resource{"t"}, json(R"({"i": 9})"));
  mh::load::Package package = own.finish();
  std::string c = complete_package(dir.path(), 3);  // newer than the run's own: left for later

  auto ordered = mh::load::load_in_order(dir.path(), package, own.take_lock(), dest);
  CHECK(ids(ordered.earlier) == std::vector<std::string>{name_of(a), name_of(b)});
  CHECK(ordered.own.load_id == package.load_id());
  CHECK_FALSE(fs::exists(a));
  CHECK_FALSE(fs::exists(b));
  CHECK_FALSE(fs::exists(package.dir()));
  CHECK(mh::load::complete_packages(dir.path()) == std::vector<std::string>{c});
}

TEST_CASE("pending packages: one that cannot load blocks the newer ones and names itself") {
  mh::test::TempDir dir, out;
  mh::load::FilesystemDestination dest({out.path(), "magic_hour_data"});
  std::string bad = complete_package(dir.path(), 1);
  std::string good = complete_package(dir.path(), 1);
  dir.write("packages/" + name_of(bad) + "/schema.json", "{not json");
  try {
    mh::load::load_pending(dir.path(), dest);
    FAIL("load_pending loaded past a broken package");
  } catch (const mh::load::BlockedLoad& e) {
    CHECK(e.load_id() == name_of(bad));
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
  CHECK(mh::load::complete_packages(dir.path()) == std::vector<std::string>{bad, good});

  // One another run holds past the wait: blocked too, named, nothing after it loaded.
  fs::remove_all(bad);
  PackageLock held;
  REQUIRE(PackageLock::acquire(good, 0ms, held) == PackageLock::Outcome::locked);
  std::string newer = complete_package(dir.path(), 1);
  try {
    mh::load::load_pending(dir.path(), dest, std::nullopt, 200ms);
    FAIL("load_pending skipped a locked package");
  } catch (const mh::load::BlockedLoad& e) {
    CHECK(e.load_id() == name_of(good));
    CHECK(std::string(e.what()).find("another run has held its lock") != std::string::npos);
  }
  CHECK(mh::load::complete_packages(dir.path()) == std::vector<std::string>{good, newer});
  held.release();
  CHECK(mh::load::load_pending(dir.path(), dest).size() == 2);
}

TEST_CASE("cursors: a stored cursor never moves backwards") {
  auto stored = json(R"({"a": {"cursor_path": "t", "last_value": "2026-01-02", "unique_hashes": ["x"]},
                          "b": {"cursor_path": "t", "last_value": 5, "unique_hashes": []},
                          "c": {"cursor_path": "t", "last_value": 1, "unique_hashes": ["p"]},
                          "keep": {"cursor_path": "t", "last_value": 1}})")
                    .as_object();
  auto incoming = json(R"({"a": {"cursor_path": "t", "last_value": "2026-01-01", "unique_hashes": ["y"]},
                            "b": {"cursor_path": "t", "last_value": 7, "unique_hashes": ["z"]},
                            "c": {"cursor_path": "t", "last_value": 1, "unique_hashes": ["q", "p"]},
                            "d": {"cursor_path": "u", "last_value": 0}})")
                      .as_object();
  auto merged = mh::load::merge_cursors(stored, incoming);
  CHECK(merged.at("a") == stored.at("a"));                             // older package: the stored one stays
  CHECK(merged.at("b") == incoming.at("b"));                           // newer: replaces
  CHECK(merged.at("c").at("unique_hashes") == json(R"(["p", "q"])"));  // same value: hashes united
  CHECK(merged.at("d") == incoming.at("d"));                           // new resource
  CHECK(merged.at("keep") == stored.at("keep"));
  // Another cursor path means another config: the package's wins.
  auto moved = json(R"({"a": {"cursor_path": "other", "last_value": "2000"}})").as_object();
  CHECK(mh::load::merge_cursors(stored, moved).at("a") == moved.at("a"));
}
