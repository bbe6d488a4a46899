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

# Fails the test with a message and the program's output.
fail() {
  echo "FAIL: $1" >&2
  [ -n "${2:-}" ] && cat "$2" >&2
  exit 1
}
# A gradcheck table row: name, kind, two errors, ok.
row='^[a-z0-9_]+ +(op|layer) +[0-9.e+-]+ +[0-9.e+-]+  ok$'

# custom_op: every row passes, in the table `seqgrad gradcheck` prints (same header, same row
# layout, same count line).
"$work/build-custom_op/custom_op" >"$work/custom_op.out" || fail "custom_op exited $?" "$work/custom_op.out"
cat "$work/custom_op.out"
"$prefix/bin/seqgrad" gradcheck --only add >"$work/gradcheck.out"
[ "$(head -n 1 "$work/custom_op.out")" = "$(head -n 1 "$work/gradcheck.out")" ] ||
  fail "custom_op's header differs from seqgrad gradcheck's" "$work/gradcheck.out"
rows=$(sed '1d;$d' "$work/custom_op.out")
[ "$(grep -cE "$row" <<<"$rows")" -eq 7 ] && ! grep -vqE "$row" <<<"$rows" ||
  fail "custom_op: not 7 rows that pass"
sed '1d;$d' "$work/gradcheck.out" | grep -qE "$row" || fail "seqgrad gradcheck's row layout changed"
[ "$(tail -n 1 "$work/custom_op.out")" = "7 cases, 7 passed, 0 failed" ] || fail "custom_op's count"

# char_lm: a short run (40 steps, resumed from step 20) must resume bit for bit, and its
# checkpoints must be files the installed seqgrad command reads.
"$work/build-char_lm/char_lm" "$repo/examples/char_lm/text.txt" "$work/char_lm" 40 \
  >"$work/char_lm.out" || fail "char_lm exited $?" "$work/char_lm.out"
cat "$work/char_lm.out"
grep -q '^resumed run equals the straight run bit for bit at step 40 ' "$work/char_lm.out" ||
  fail "char_lm did not report a bit-exact resume"
[ -s "$work/char_lm/half.h5" ] && [ -s "$work/char_lm/final.h5" ] || fail "char_lm saved no checkpoints"
"$prefix/bin/seqgrad" inspect "$work/char_lm/final.h5" >"$work/inspect.out" ||
  fail "seqgrad inspect cannot read char_lm's checkpoint" "$work/inspect.out"

# cross_attention: it learned to retrieve (it exits 1 otherwise) and printed the weights.
"$work/build-cross_attention/cross_attention" >"$work/cross_attention.out" ||
  fail "cross_attention exited $?" "$work/cross_attention.out"
cat "$work/cross_attention.out"
grep -q '^attention weights of memory 0' "$work/cross_attention.out" ||
  fail "cross_attention printed no weights"
echo "every example passed"
