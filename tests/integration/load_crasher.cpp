// Test helper: builds and loads load packages in a child process and kills
// itself with SIGKILL at a chosen point, so crash tests can restart it and
// check that every row arrives exactly once.
//
//   load_crasher STATE_DIR DSN DATASET build N [kill-during-build]
//   load_crasher STATE_DIR DSN DATASET load [kill-before-commit|kill-after-commit]
//   load_crasher STATE_DIR DSN DATASET resume
//
// `build` writes one package of N image projects (merge on id, 2 downloads
// each) and N events (append, so a double load would double them); `load`
// loads the pending packages; `resume` is what start-up does.
#include <signal.h>

#include <boost/json/object.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "load/destination.hpp"
#include "load/package_builder.hpp"
#include "load/postgres.hpp"

namespace {

namespace json = boost::json;

json::object project(int i) {
  std::string id = "p" + std::to_string(i);
  json::array downloads;
  for (int d = 0; d < 2; ++d) {
    downloads.push_back(json::object{{"url", "https://example.invalid/" + id + "/" + std::to_string(d) + ".png"},
                                     {"expires_at", "2024-10-19T05:16:19.027Z"}});
  }
  return json::object{{"id", id}, {"status", "complete"}, {"credits_charged", i}, {"downloads", downloads}};
}

int run(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: load_crasher STATE_DIR DSN DATASET build|load|resume [args]\n";
    return 2;
  }
  std::string state_dir = argv[1];
  std::string mode = argv[4];
  std::string option = argc > 6 ? argv[6] : (argc > 5 ? argv[5] : "");
  mh::load::PostgresConfig pg{argv[2], argv[3]};

  if (mode == "build") {
    int n = std::atoi(argv[5]);
    mh::normalize::Schema schema = mh::load::current_schema(state_dir, "magic_hour");
    mh::load::PackageBuilder builder(state_dir, schema);
    mh::normalize::Resource r{"image_projects", mh::normalize::WriteDisposition::merge, {"id"}};
    mh::normalize::Resource events{"events"};
    for (int i = 0; i < n; ++i) {
      builder.add(r, project(i));
      builder.add(events, json::object{{"project", i}, {"kind", "polled"}});
      if (option == "kill-during-build" && i == n / 2) raise(SIGKILL);
    }
    std::cout << builder.finish().load_id() << "\n";
    return 0;
  }

  auto hook = [&](mh::load::LoadPhase phase, const std::string&) {
    if ((phase == mh::load::LoadPhase::before_commit && option == "kill-before-commit") ||
        (phase == mh::load::LoadPhase::committed && option == "kill-after-commit")) {
      std::fflush(nullptr);
      raise(SIGKILL);
    }
  };
  mh::load::PostgresDestination destination(pg, hook);
  if (mode == "load") {
    for (const auto& dir : mh::load::complete_packages(state_dir)) {
      mh::load::load_and_remove(mh::load::Package::open(dir), destination);
    }
    return 0;
  }
  if (mode == "resume") {
    for (const auto& r : mh::load::resume_packages(state_dir, destination)) {
      std::cout << r.load_id << (r.status == mh::load::LoadStatus::loaded ? " loaded\n" : " already_loaded\n");
    }
    return 0;
  }
  std::cerr << "load_crasher: unknown mode " << mode << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "load_crasher: " << e.what() << "\n";
    return 1;
  }
}
