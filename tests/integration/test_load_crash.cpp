// Crash safety: a loader killed with SIGKILL at the worst moments, then
// restarted, delivers every row exactly once and keeps _dlt_loads consistent.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>

#include "load/package.hpp"
#include "support/pg.hpp"
#include "support/pg_query.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using mh::test::count;
using mh::test::scalar;

namespace {

constexpr int kProjects = 500;

struct Crasher {
  mh::test::TempDatabase db;
  mh::test::TempDir state;

  mh::test::ProcessResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv{MHLOADER_LOAD_CRASHER, state.path(), db.dsn(), "magic_hour_data"};
    argv.insert(argv.end(), args.begin(), args.end());
    return mh::test::run_process(argv);
  }
  bool has_table(const std::string& t) {
    return scalar(db.dsn(), "SELECT to_regclass('magic_hour_data." + t + "') IS NOT NULL") == "t";
  }
  long long rows(const std::string& t) { return has_table(t) ? count(db.dsn(), "magic_hour_data." + t) : 0; }
  long long distinct_ids(const std::string& t) {
    return std::stoll(scalar(db.dsn(), "SELECT count(DISTINCT _dlt_id) FROM magic_hour_data." + t));
  }
  std::size_t pending() { return mh::load::complete_packages(state.path()).size(); }

  // Every row exactly once, and every data row belongs to a recorded load.
  // `projects` merge into one row each; events are appended per package.
  void check_exactly_once(long long projects, long long loads) {
    CHECK(rows("events") == projects * loads);
    CHECK(distinct_ids("events") == projects * loads);
    CHECK(rows("image_projects") == projects);
    CHECK(distinct_ids("image_projects") == projects);
    CHECK(rows("image_projects__downloads") == 2 * projects);
    CHECK(distinct_ids("image_projects__downloads") == 2 * projects);
    CHECK(count(db.dsn(), "magic_hour_data._dlt_loads") == loads);
    CHECK(count(db.dsn(),
                "magic_hour_data.image_projects WHERE _dlt_load_id NOT IN (SELECT load_id FROM "
                "magic_hour_data._dlt_loads)") == 0);
    CHECK(count(db.dsn(),
                "magic_hour_data.image_projects__downloads d WHERE NOT EXISTS (SELECT 1 FROM "
                "magic_hour_data.image_projects r WHERE r._dlt_id = d._dlt_root_id)") == 0);
  }
};

void check_killed(const mh::test::ProcessResult& r) {
  INFO(r.err);
  CHECK(r.signal == SIGKILL);
}

void check_ok(const mh::test::ProcessResult& r) {
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

}  // namespace

TEST_CASE("crash: killed after COPY before COMMIT → nothing visible and the restart loads it once") {
  Crasher c;
  check_ok(c.run({"build", std::to_string(kProjects)}));
  REQUIRE(c.pending() == 1);
  check_killed(c.run({"load", "kill-before-commit"}));
  CHECK_FALSE(c.has_table("_dlt_loads"));  // the whole transaction, DDL included, is gone
  CHECK(c.rows("image_projects") == 0);
  CHECK(c.pending() == 1);
  auto resumed = c.run({"resume"});
  check_ok(resumed);
  CHECK(resumed.out.find(" loaded") != std::string::npos);
  CHECK(c.pending() == 0);
  c.check_exactly_once(kProjects, 1);
}

TEST_CASE("crash: killed after COMMIT, before the package is removed → the restart only cleans up") {
  Crasher c;
  check_ok(c.run({"build", std::to_string(kProjects)}));
  check_killed(c.run({"load", "kill-after-commit"}));
  CHECK(c.pending() == 1);
  c.check_exactly_once(kProjects, 1);
  auto resumed = c.run({"resume"});
  check_ok(resumed);
  CHECK(resumed.out.find("already_loaded") != std::string::npos);
  CHECK(c.pending() == 0);
  c.check_exactly_once(kProjects, 1);
}

TEST_CASE("crash: killed while writing a package → the torn package is discarded, later ones load") {
  Crasher c;
  check_killed(c.run({"build", std::to_string(kProjects), "kill-during-build"}));
  CHECK(c.pending() == 0);
  CHECK_FALSE(fs::is_empty(mh::load::packages_dir(c.state.path())));  // the torn folder is there
  check_ok(c.run({"build", std::to_string(kProjects)}));
  check_ok(c.run({"resume"}));
  CHECK(fs::is_empty(mh::load::packages_dir(c.state.path())));
  c.check_exactly_once(kProjects, 1);
}

TEST_CASE("crash: repeated kills across several packages (merge) → exact rows in the end") {
  Crasher c;
  check_ok(c.run({"build", std::to_string(kProjects)}));
  check_ok(c.run({"build", std::to_string(kProjects)}));  // the same projects again: merge keeps one each
  check_killed(c.run({"load", "kill-before-commit"}));
  check_killed(c.run({"load", "kill-after-commit"}));  // the first package commits, the process dies
  CHECK(c.pending() == 2);
  check_ok(c.run({"resume"}));
  CHECK(c.pending() == 0);
  c.check_exactly_once(kProjects, 2);
}
