#!/usr/bin/env bash
# Builds mhloader (Release) and its Debian package with CPack; the Dockerfile's build
# stage runs it too. The .deb lands in the build folder.
#   scripts/package.sh [BUILD_DIR]      default build/release
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"

bash scripts/install-deps.sh
# -O2 without debug info: the warning profile CI builds with, the fastest optimised build.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$build" -j"$(nproc)" --target mhloader magichour-sim
cpack --config "$build/CPackConfig.cmake" -B "$build" >&2
ls "$build"/mhloader_*.deb
