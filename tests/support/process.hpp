// Runs the real mhloader binary (or any program) as a child process and
// captures its output, so CLI tests exercise exactly what users run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mh::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the current environment
  std::vector<std::string> unset_env;
  std::chrono::milliseconds timeout{30'000};
  bool new_process_group = false;  // Child::signal then reaches the whole group (scripts and their children)
};

// For running mhloader as a test's child: the developer's or CI's Magic Hour key,
// DSN, config path, systemd credentials/journal/notify variables are removed, so a
// test sees only what it sets.
ProcessOptions daemon_env();

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

class Child;
// The base URL (no /v1) a magichour-sim child prints on start, once it has; empty
// if it has not within `timeout` (or it exited).
std::string wait_for_sim_url(Child& sim, std::chrono::milliseconds timeout);

// A child running in the background, its stdout/stderr going to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const;
  std::string err() const;
  void signal(int sig);
  // Waits until `predicate(stderr)` holds or the timeout passes.
  bool wait_for_err(const std::string& needle, std::chrono::milliseconds timeout);
  // Waits for exit; kills with SIGKILL after the timeout.
  ProcessResult wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool group_ = false;
  std::string dir_;
  std::optional<ProcessResult> result_;
};

}  // namespace mh::test
