#!/usr/bin/env bash
# Installs a built seqgrad into a fresh temporary prefix, then configures, builds and runs every
# example of examples/ against that installation alone, as an outside project would
# (find_package(seqgrad) with CMAKE_PREFIX_PATH = the prefix), with warnings as errors. Also
# compiles one file that includes every installed header, so a public header that needs an
# uninstalled one fails here. The ctest test `install_examples` runs it; by hand:
#   ./scripts/test_examples.sh [BUILD_DIR]          (default: build)
# Environment: CXX and CMAKE_CXX_COMPILER_LAUNCHER as for any CMake project;
# SEQGRAD_EXAMPLE_FLAGS, extra compile and link flags for the examples (the sanitizer build's
# libraries need its -fsanitize=... there).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/seqgrad-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
flags="-Wall -Wextra -Wshadow -Werror ${SEQGRAD_EXAMPLE_FLAGS:-}"

cmake --install "$build" --prefix "$prefix" >/dev/null
echo "installed into $prefix: $(find "$prefix/include" -name '*.h' | wc -l) headers," \
  "$(find "$prefix" -name '*.a' | wc -l) libraries, $("$prefix/bin/seqgrad" --version)"

# Configures and builds the project in $1 into $work/$2.
build_project() {
  cmake -S "$1" -B "$work/$2" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="${SEQGRAD_EXAMPLE_FLAGS:-}" >/dev/null
  cmake --build "$work/$2" >/dev/null
}

# Every installed header, in one file, in a project of its own.
mkdir -p "$work/headers"
(cd "$prefix/include/seqgrad" && find . -name '*.h' | sort | sed 's|^\./\(.*\)|#include "\1"|') \
  >"$work/headers/all.cpp"
echo 'int main() { return 0; }' >>"$work/headers/all.cpp"
cat >"$work/headers/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(all_headers LANGUAGES CXX)
find_package(seqgrad REQUIRED)
add_executable(all_headers all.cpp)
target_link_libraries(all_headers PRIVATE seqgrad::seqgrad)
CMAKE
build_project "$work/headers" build-headers
"$work/build-headers/all_headers"
echo "all installed headers compile together"

for example in custom_op char_lm cross_attention; do
  build_project "$repo/examples/$example" "build-$example"
done
set -x
"$work/build-custom_op/custom_op"
"$work/build-char_lm/char_lm" "$repo/examples/char_lm/text.txt" "$work/char_lm"
"$work/build-cross_attention/cross_attention"
