#!/usr/bin/env bash
# Long sequences (issue 17 point 3): tokens/s and peak RSS of `seqgrad bench`'s toy config at
# lengths 63, 127, 255 and 511 with a constant 4096 tokens per batch (batch 64, 32, 16, 8), for
# one or more seqgrad binaries alternating run by run within each round; prints every run
# (bench's JSON and /usr/bin/time's maximum resident set size) and then the medians per binary
# and length, and each binary's tokens/s at 511 as a share of its tokens/s at 63.
# Usage: bench/long_sequences.sh [ROUNDS] [THREADS] [BINARY...]
#   (defaults: 3 rounds, 2 threads, build/seqgrad)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; threads=${2:-2}
shift $(($# < 2 ? $# : 2))
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(build/seqgrad)
model=(--d-model 128 --heads 4 --enc-layers 2 --dec-layers 2 --ff 512)
out=$(mktemp); rss=$(mktemp)
trap 'rm -f "$out" "$rss"' EXIT
for ((i = 0; i < rounds; i++)); do
  for len in 63 127 255 511; do
    batch=$((4096 / (len + 1)))
    steps=$((len < 200 ? 20 : 10))
    for bin in "${bins[@]}"; do
      json=$(/usr/bin/time -f %M -o "$rss" "$bin" bench "${model[@]}" --batch "$batch" \
        --length "$len" --steps "$steps" --threads "$threads" --json)
      echo "$bin $len $(cat "$rss") $json" | tee -a "$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    binary, length, rss_kb, js = line.split(" ", 3)
    r = json.loads(js)
    runs[binary, int(length)].append((r["tokens_per_s"], r["ms_per_step"], int(rss_kb) / 1024))
print(f"{'binary':40s} {'length':>6s} {'tokens/s':>9s} {'ms/step':>8s} {'peak RSS MB':>11s}  (medians)")
med = {}
for (binary, length), rs in sorted(runs.items()):
    med[binary, length] = [statistics.median(x) for x in zip(*rs)]
    tps, ms, mb = med[binary, length]
    print(f"{binary:40s} {length:6d} {tps:9.0f} {ms:8.1f} {mb:11.1f}")
for binary in sorted({b for b, _ in runs}):
    if (binary, 63) in med and (binary, 511) in med:
        print(f"{binary}: tokens/s at 511 / at 63 = {med[binary, 511][0] / med[binary, 63][0]:.2f}")
PY
