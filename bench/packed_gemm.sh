#!/usr/bin/env bash
# Builds and runs bench/packed_gemm.cpp: a single-threaded AVX2/FMA sgemm whose weight operand is
# packed once per step, against OpenBLAS on the base config's forward and dX products (issue 17
# point 2). "check": errors against a double-precision reference and whether row splits keep the
# bits; "step": the products at one thread and two at once ("step1", "step2": only one of them);
# "big": 2048^3. KC=... MC=... in the environment override the blocking.
# Usage: [KC=512 MC=72] bench/packed_gemm.sh check|step|step1|step2|big [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
lib=/usr/lib/x86_64-linux-gnu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
nice -n 19 g++ -std=c++20 -O2 -mavx2 -mfma -Wall -Wextra -Wshadow -fopenmp \
  -I/usr/include/x86_64-linux-gnu/openblas-openmp bench/packed_gemm.cpp -o "$out/packed_gemm" \
  -L$lib/openblas-openmp -Wl,-rpath,$lib/openblas-openmp -lopenblas
"$out/packed_gemm" "$@"
