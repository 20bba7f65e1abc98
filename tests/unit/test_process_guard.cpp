// app::harden_process, run in a forked child so the test runner itself stays dumpable.
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/process_guard.hpp"

TEST_CASE("process guard: the process becomes non-dumpable with no core limit") {
  REQUIRE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);  // as the kernel starts us
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const bool applied = mh::app::harden_process().empty();
    rlimit core{};
    getrlimit(RLIMIT_CORE, &core);
    const bool ok = applied && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 && core.rlim_cur == 0 && core.rlim_max == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
