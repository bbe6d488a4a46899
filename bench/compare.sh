#!/usr/bin/env bash
# Side by side: seqgrad bench and PyTorch's throughput mode (python/seqgrad_torch) on the same config,
# alternating the two programs, ROUNDS times each, plus `seqgrad bench --sgemm` (the plain sgemm
# rate at the same thread count) in every round; prints every run and the medians.
# Usage: bench/compare.sh toy|base [ROUNDS] [SEQGRAD_THREADS]
# PyTorch runs at its best setting on 2 cores: OPENBLAS_NUM_THREADS=2, --threads 1.
set -euo pipefail
cd "$(dirname "$0")/.."
cfg=${1:-toy}; rounds=${2:-5}; threads=${3:-2}
case "$cfg" in
  toy)  args=(--d-model 128 --heads 4 --enc-layers 2 --dec-layers 2 --ff 512 --batch 64 --length 10 --steps 30) ;;
  base) args=(--d-model 512 --heads 8 --enc-layers 3 --dec-layers 3 --ff 2048 --batch 32 --length 31 --steps 10) ;;
  *) echo "usage: $0 toy|base [ROUNDS] [SEQGRAD_THREADS]" >&2; exit 2 ;;
esac
out=$(mktemp)
for ((i = 0; i < rounds; i++)); do
  build/seqgrad bench "${args[@]}" --threads "$threads" --json | sed 's/^/seqgrad /' | tee -a "$out"
  PYTHONPATH=python OPENBLAS_NUM_THREADS=2 /usr/bin/python3 -m seqgrad_torch throughput "${args[@]}" --threads 1 2>/dev/null |
    sed 's/^/pytorch /' | tee -a "$out"
  build/seqgrad bench "${args[@]}" --sgemm --threads "$threads" --json | sed 's/^/sgemm /' | tee -a "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
runs = {"seqgrad": [], "pytorch": [], "sgemm": []}
for line in open(sys.argv[1]):
    impl, js = line.split(" ", 1)
    runs[impl].append(json.loads(js))
med = {k: {f: statistics.median(r[f] for r in runs[k]) for f in ("tokens_per_s", "ms_per_step", "peak_rss_mb")}
       for k in ("seqgrad", "pytorch")}
for k, m in med.items():
    print(f"median {k:8s} {m['tokens_per_s']:9.0f} tokens/s {m['ms_per_step']:8.1f} ms/step {m['peak_rss_mb']:7.1f} MB peak RSS")
print(f"speedup seqgrad/pytorch: {med['seqgrad']['tokens_per_s'] / med['pytorch']['tokens_per_s']:.2f}x")
gf = statistics.median(r["gflops"] for r in runs["seqgrad"])
for i, shape in enumerate(r["shape"] for r in runs["sgemm"][0]["sgemm"]):
    peak = statistics.median(r["sgemm"][i]["gflops"] for r in runs["sgemm"])
    print(f"seqgrad {gf:.1f} GFLOP/s = {100 * gf / peak:.0f}% of sgemm {shape} {peak:.1f} GFLOP/s")
PY
rm -f "$out"
