#!/usr/bin/env bash
# Builds and runs bench/gemm_libraries.cpp: OpenBLAS, BLIS, oneDNN and LIBXSMM sgemm on the
# products of one step of `seqgrad bench`'s toy and base configs, at one thread and two, and on
# 2048^3; "bits" checks which keep the same bits when the rows of C are split over threads.
# The candidate libraries are Debian packages that seqgrad itself does not use; they are installed
# here only. BLIS registers its libblas.so.3 as an alternative of lower priority (80) than
# OpenBLAS's (95), so the system BLAS that PyTorch loads stays OpenBLAS.
# Usage: bench/gemm_libraries.sh toy|base|big|bits [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_packages.sh libblis-openmp-dev libdnnl-dev libxsmm-dev
lib=/usr/lib/x86_64-linux-gnu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
nice -n 19 g++ -std=c++20 -O2 -Wall -Wextra -Wshadow -fopenmp -I/usr/include/x86_64-linux-gnu/openblas-openmp \
  -DBLIS_LIBRARY="\"$lib/blis-openmp/libblis.so.4\"" bench/gemm_libraries.cpp -o "$out/gemm_libraries" \
  -L$lib/openblas-openmp -Wl,-rpath,$lib/openblas-openmp -ldnnl /usr/lib/libxsmm.a -lopenblas -ldl
"$out/gemm_libraries" "$@"
