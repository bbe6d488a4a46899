#!/usr/bin/env bash
# Fuzzes the readers of untrusted files with libFuzzer (clang, AddressSanitizer + UBSan):
#   tsv         TsvReader (datasets/tsv.h) on TSV corpora
#   config      the `--config FILE` INI parser (train/cli/options.h parse_config)
#   checkpoint  read_checkpoint + load_model + load_optimizer on mutated real checkpoints
# Usage: ./scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# Builds into build-fuzz/, starts from the committed seeds (fuzz/corpus/<target>/) and the
# inputs of past crashes (fuzz/regressions/<target>/), and keeps what it learns in
# build-fuzz/corpus/<target>/. A crash stops with the input saved under build-fuzz/artifacts/:
# fix it, then commit the input under fuzz/regressions/<target>/ (the test suite replays it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tsv config checkpoint)

./scripts/install_packages.sh clang
# libFuzzer and the sanitizer runtimes, and OpenMP, for the installed clang's version.
llvm=$(clang -dumpversion | cut -d. -f1)
./scripts/install_packages.sh "libclang-rt-$llvm-dev" "libomp-$llvm-dev"

if [ ! -f build-fuzz/CMakeCache.txt ] || [ ! -f build-fuzz/Makefile ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
    -DSEQGRAD_SANITIZE=address,undefined -DSEQGRAD_FUZZ=ON -DSEQGRAD_TESTS=OFF >/dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# Each target runs in libFuzzer's fork mode, which goes on after a crash, a leak, a timeout or
# an out-of-memory, so that one run collects every failure of its budget. Each collected input
# is then replayed and classified by the first stack frame that is not the sanitizer, libFuzzer
# or libc: inside libhdf5 is a known limitation (README "Hardening": libhdf5 1.10.8 crashes on
# some corrupt files and this cannot be validated away from outside), anywhere else fails.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
limits=(-timeout=10 -rss_limit_mb=2048)

# Prints "hdf5|seqgrad|none <first frame>" for one input.
classify() {
  local out
  # A higher RSS limit than the run's, so that a single huge malloc is reported with its stack
  # (by -malloc_limit_mb) before the RSS watchdog cuts the report short.
  if out=$("build-fuzz/fuzz_$1" -timeout=10 -rss_limit_mb=8192 -malloc_limit_mb=1024 -runs=1 \
    "$2" 2>&1); then
    echo "none (does not reproduce alone)"
    return
  fi
  echo "$out" | awk '
    /^ *#[0-9]+ 0x/ {
      line = $0
      if (line ~ /__sanitizer|__asan|__lsan|__ubsan|__interceptor|fuzzer::|in (malloc|calloc|realloc|free|memcpy|memmove|memset|operator new)|__mem(cpy|move|set)|libc\.so|sysdeps\/|sigaction/) next
      if (line ~ /libhdf5/) { sub(/ *\(BuildId.*/, "", line); print "hdf5 " line } else print "seqgrad " line
      found = 1; exit
    }
    END { if (!found) print "seqgrad (no stack: " summary ")" }
    /SUMMARY|ERROR:/ { if (summary == "") summary = $0 }'
}

status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "fuzz/regressions/$t"
  rm -rf "build-fuzz/artifacts/$t" && mkdir -p "build-fuzz/artifacts/$t"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
  echo "fuzz: $t for ${seconds}s"
  "build-fuzz/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$seconds" "${limits[@]}" "${dict[@]}" \
    -artifact_prefix="build-fuzz/artifacts/$t/" \
    "build-fuzz/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"build-fuzz/$t.log" 2>&1 || true
  grep -E "^#[0-9]+: cov" "build-fuzz/$t.log" | tail -1
  known=0
  failed=0
  for a in "build-fuzz/artifacts/$t"/*; do
    [ -e "$a" ] || continue
    verdict=$(classify "$t" "$a")
    case "$verdict" in
      hdf5*) known=$((known + 1)); echo "  inside libhdf5: $(basename "$a"): ${verdict#hdf5 }" | cut -c1-200 ;;
      none*) echo "  $(basename "$a"): ${verdict#none }" ;;
      *) failed=$((failed + 1)); echo "  FAILURE: $(basename "$a"): ${verdict#seqgrad }" | cut -c1-200 ;;
    esac
  done
  if [ "$failed" -gt 0 ]; then
    status=1
    echo "fuzz: $t FAILED: $failed input(s) crash seqgrad (replay: build-fuzz/fuzz_$t INPUT)" >&2
  else
    echo "fuzz: $t clean"
    [ "$known" -eq 0 ] || echo "fuzz: $known input(s) stopped inside libhdf5 (README \"Hardening\")"
  fi
done
exit $status
