#!/usr/bin/env bash
# Installs the Debian 12 packages seqgrad needs (only those missing), then configures and builds a
# Release build into build/. A second run installs nothing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install_packages.sh

if [ ! -f build/CMakeCache.txt ] || [ ! -f build/Makefile ]; then
  # A compiler cache, when the machine has one, makes a rebuild in another clone quick.
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build build -j "$(nproc)"
