#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mh::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> make_env(const ProcessOptions& o) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& u : o.unset_env) env.erase(u);
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const ProcessOptions& o, const std::string& out_file,
            const std::string& err_file) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto env_strings = make_env(o);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (o.new_process_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::string make_dir() {
  char tmpl[] = "/tmp/mhproc.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

void fill_status(ProcessResult& r, int status) {
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const ProcessOptions& options)
    : group_(options.new_process_group), dir_(make_dir()) {
  pid_ = spawn(argv, options, dir_ + "/out", dir_ + "/err");
}

Child::~Child() {
  if (!result_) wait(std::chrono::milliseconds(0));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string Child::out() const { return slurp(dir_ + "/out"); }
std::string Child::err() const { return slurp(dir_ + "/err"); }

void Child::signal(int sig) {
  if (!result_) ::kill(group_ ? -pid_ : pid_, sig);
}

bool Child::wait_for_err(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (err().find(needle) != std::string::npos) return true;
    int status = 0;
    if (!result_ && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      ProcessResult r;
      fill_status(r, status);
      result_ = r;
    }
    if (result_) return err().find(needle) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

ProcessResult Child::wait(std::chrono::milliseconds timeout) {
  if (!result_) {
    ProcessResult r;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
      pid_t w = ::waitpid(pid_, &status, WNOHANG);
      if (w == pid_) {
        fill_status(r, status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        r.timed_out = true;
        ::kill(group_ ? -pid_ : pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        fill_status(r, status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    result_ = r;
  }
  ProcessResult r = *result_;
  r.out = out();
  r.err = err();
  return r;
}

ProcessOptions daemon_env() {
  ProcessOptions o;
  o.unset_env = {"MAGIC_HOUR_API_KEY",    "SOURCES__MAGIC_HOUR_SOURCE__API_KEY",
                 "MHLOADER_PG_DSN",       "MHLOADER_CONFIG",
                 "CREDENTIALS_DIRECTORY", "JOURNAL_STREAM",
                 "NOTIFY_SOCKET",         "WATCHDOG_PID",
                 "WATCHDOG_USEC"};
  return o;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  Child c(argv, options);
  return c.wait(options.timeout);
}

std::string wait_for_sim_url(Child& sim, std::chrono::milliseconds timeout) {
  const std::string marker = "listening on ";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = sim.out();
    auto pos = out.find(marker);
    auto end = out.find("/v1", pos);
    if (pos != std::string::npos && end != std::string::npos) {
      return out.substr(pos + marker.size(), end - pos - marker.size());
    }
    if (sim.wait_for_err("magichour-sim:", std::chrono::milliseconds(20))) break;  // it said why it stopped
  }
  return "";
}

}  // namespace mh::test
