// `mhloader run JOB`: one run in the foreground with progress on stderr and
// dlt's load summary on stdout.
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "app/runtime.hpp"
#include "db/migrate.hpp"
#include "load/destination.hpp"
#include "log/log.hpp"

namespace mh::app {
namespace asio = boost::asio;

namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", s);
  return buf;
}

// One updating line on a terminal; a log line per finished resource otherwise.
class Progress {
 public:
  explicit Progress(std::string job) : job_(std::move(job)), tty_(::isatty(STDERR_FILENO) == 1) {}
  void update(const pipeline::RunControl& c) {
    if (c.resources.empty()) return;
    const auto& r = c.resources.back();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (tty_) {
      std::ostringstream line;
      line << "\r\033[K[" << job_ << "] " << r.name << ": " << r.pages << " pages, " << r.records << " rows, "
           << seconds_text(elapsed) << " s";
      std::cerr << line.str() << std::flush;
      drawn_ = true;
    } else if (r.status != "running" && reported_ < c.resources.size()) {
      reported_ = c.resources.size();
      log::info("resource done", {{"job", job_},
                                  {"resource", r.name},
                                  {"status", r.status},
                                  {"pages", r.pages},
                                  {"rows", r.records},
                                  {"elapsed_s", elapsed}});
    }
  }
  void end() {
    if (tty_ && drawn_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string job_;
  bool tty_;
  bool drawn_ = false;
  std::size_t reported_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

int run_command(std::shared_ptr<const config::Config> config, const std::string& job_name) {
  const config::JobConfig* job = config->find_job(job_name);
  if (job == nullptr) {
    std::cerr << "mhloader: no job '" << job_name << "' in " << config->file << "\n";
    return 2;
  }
  Runtime rt(config);
  // Before the loop runs: the schema and any package a previous process left behind.
  try {
    db::migrate(config->destination.dsn.value);
    for (const auto& r : load::resume_packages(config->state_dir, *rt.destination)) {
      log::info("loaded a package left by an earlier process", {{"load_id", r.load_id}, {"rows", r.rows}});
    }
  } catch (const std::exception& e) {
    std::cerr << "mhloader: " << e.what() << "\n";
    return 1;
  }

  pipeline::RunControl control;
  Progress progress(job_name);
  control.on_progress = [&](const pipeline::RunControl& c) { progress.update(c); };
  asio::signal_set signals(rt.io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::warn("cancelling the run: extraction and polling stop, what was generated is still loaded");
    control.cancellation.request();
  });
  pipeline::Services services = rt.services();
  const std::string trigger = "cli";
  pipeline::JobRunResult result = rt.run_until(pipeline::run_job(services, *job, trigger, control));
  signals.cancel();
  progress.end();

  if (result.locked_elsewhere) {
    std::cerr << "mhloader: job '" << job_name << "' is running in another mhloader process; nothing was done\n";
    return 1;
  }
  const pipeline::RunOutcome& o = result.outcome;
  const std::string kind = destination_kind(*config);
  if (o.load_id) {
    std::cout << "Pipeline " << config->pipeline_name << " load step completed in " << seconds_text(o.load_seconds)
              << " seconds\n";
    std::cout << "1 load package(s) were loaded to destination " << kind << " and into dataset "
              << config->destination.dataset << "\n";
    std::cout << "The " << kind << " destination used " << destination_location(*config) << " location to store data\n";
    int failed = 0;
    for (const auto& r : o.resources) failed += r.status == "failed" ? 1 : 0;
    std::cout << "Load package " << *o.load_id << " is LOADED and contains ";
    if (failed == 0) {
      std::cout << "no failed jobs\n";
    } else {
      std::cout << failed << " FAILED job(s)!\n";
      for (const auto& r : o.resources) {
        if (r.status == "failed") std::cout << "\t[" << r.name << "]: " << r.error << "\n";
      }
    }
  } else {
    std::cout << "Pipeline " << config->pipeline_name << " load step completed in ---\n";
    std::cout << "0 load package(s) were loaded to destination " << kind << " and into dataset "
              << config->destination.dataset << "\n";
  }
  std::cerr << "mhloader: run " << o.run_id << " of job " << job_name << (result.resumed ? " (resumed)" : "") << " "
            << o.status << ": " << o.rows << " rows, " << o.credits_charged << " credits charged, "
            << seconds_text(o.seconds) << " s" << (o.error.empty() ? "" : "; " + o.error) << "\n";
  return o.status == "succeeded" || o.status == "skipped" ? 0 : 1;
}

}  // namespace mh::app
