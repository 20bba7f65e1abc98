#!/usr/bin/env bash
# Installs every Debian package mhloader needs to build, test and run locally.
# Idempotent: a second run with everything present only checks and returns.
# Used by the README commands, .ci/run and the Dockerfile's build stage.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config ccache openssl ca-certificates git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libpqxx-dev libyaml-cpp-dev prometheus-cpp-dev doctest-dev libsystemd-dev
  postgresql-15 postgresql-client-15 util-linux procps curl tzdata wrk bc
  # /usr/bin/time: peak RSS in scripts/bench-bulk.sh and the big-page test.
  time
  # Operations kit (systemd/, deploy/, the .deb): systemd-analyze, promtool (Debian ships
  # it in `prometheus`), dpkg-shlibdeps and file for CPack's DEB generator.
  systemd prometheus dpkg-dev file
  # libFuzzer targets (scripts/test.sh --fuzz): clang, and libclang_rt.fuzzer from
  # libclang-rt-14-dev (Debian 12's clang is 14).
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
