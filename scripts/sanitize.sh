#!/usr/bin/env bash
# Builds seqgrad and its test suite with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (g++, -O1 -g: much faster than -O0 and still exact line numbers) and runs the
# whole suite there. Any sanitizer report (a memory error, a leak, undefined behaviour) aborts
# the process that hit it, so the test fails and this script exits non-zero.
#   ./scripts/sanitize.sh            build and run every test
#   ./scripts/sanitize.sh -R Tsv     extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian packages of scripts/setup.sh (g++ brings libasan and libubsan with it).
./scripts/install_packages.sh

if [ ! -f build-asan/CMakeCache.txt ] || [ ! -f build-asan/Makefile ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DSEQGRAD_SANITIZE=address,undefined >/dev/null
fi
cmake --build build-asan -j "$(nproc)"

# exitcode 86: a sanitizer report is never mistaken for seqgrad's own exit codes 1 and 2 (the
# hostile-input test checks those). Leak checking is on; OpenMP and OpenBLAS report no leaks,
# and libhdf5 only on its error path for damaged files (scripts/lsan.supp).
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1"
# libhdf5's own leaks on damaged files (scripts/lsan.supp says why); nothing else is suppressed.
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=86:print_stacktrace=1"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" "$@"
