// Process-wide hardening done first thing in main: no core dump and no ptrace
// attach by the same user, so the API key and the control token held in memory
// never land in a core file.
#pragma once

#include <string>
#include <vector>

namespace mh::app {

// PR_SET_DUMPABLE 0 and RLIMIT_CORE 0. Returns what could not be applied (a
// sandbox may refuse setrlimit; systemd's LimitCORE=0 covers that case); empty when all was.
std::vector<std::string> harden_process();

}  // namespace mh::app
