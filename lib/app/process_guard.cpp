#include "app/process_guard.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace mh::app {

std::vector<std::string> harden_process() {
  std::vector<std::string> failed;
  // Not dumpable: no core file, /proc/self/mem and ptrace closed to the same uid.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    failed.push_back(std::string("PR_SET_DUMPABLE: ") + std::strerror(errno));
  const rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) failed.push_back(std::string("RLIMIT_CORE: ") + std::strerror(errno));
  return failed;
}

}  // namespace mh::app
