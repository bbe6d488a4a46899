#!/usr/bin/env bash
# Decoding speed (issue 18, point 6): the time to translate 1,000 held-out sentences with a small
# trained model by (a) the one-sentence beam search of an older build (OLD_SEQGRAD, a build from
# before batched beam search), (b) this build's batched beam search and (c) this build's greedy
# decoding, all with the same beam size. The programs alternate within each round and the medians
# are printed, with the speed-ups the issue asks for (old beam / new beam >= 5, new beam / greedy
# <= 3). The model is trained by the old build, whose checkpoint both builds read (a newer build
# reads every older format_version). CHECKPOINT=FILE skips the training and decodes with that
# checkpoint of an earlier run of this script (the data are the same on every run).
# Usage: [CHECKPOINT=FILE] bench/decode_speed.sh OLD_SEQGRAD [ROUNDS] [THREADS] [BEAM] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/decode_speed.sh OLD_SEQGRAD [ROUNDS] [THREADS] [BEAM] [STEPS]}
rounds=${2:-5}; threads=${3:-2}; beam=${4:-5}; steps=${5:-1500}
new=build/seqgrad
old=$(realpath "$old")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Word reversal over a 500-word vocabulary, 3-20 words a line, fixed seed: 50,000 training pairs,
# 1,000 held-out ones.
/usr/bin/python3 - "$dir" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(18)
words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 8)))
         for _ in range(500)]
def pair():
    s = [r.choice(words) for _ in range(r.randint(3, 20))]
    return " ".join(s) + "\t" + " ".join(reversed(s)) + "\n"
with open(d + "/train.tsv", "w") as f:
    f.writelines(pair() for _ in range(50000))
with open(d + "/valid.tsv", "w") as f, open(d + "/valid.src", "w") as g:
    for _ in range(1000):
        p = pair()
        f.write(p)
        g.write(p.split("\t")[0] + "\n")
PY
if [[ -n "${CHECKPOINT:-}" ]]; then
  ckpt=$(realpath "$CHECKPOINT")
else
  "$old" train --task tsv --train "$dir/train.tsv" --valid "$dir/valid.tsv" --steps "$steps" \
    --d-model 128 --heads 4 --enc-layers 2 --dec-layers 2 --ff 512 --dropout 0 --batch 64 \
    --eval-every 0 --log-every "$steps" --save-every "$steps" --threads "$threads" \
    --out "$dir/run" > /dev/null
  ckpt="$dir/run/ckpt-$steps.h5"
fi

run() {  # run NAME BINARY BEAM: prints NAME and the wall time of translating valid.src
  local t0 t1
  t0=$(date +%s.%N)
  "$2" translate --checkpoint "$ckpt" --beam "$3" --threads "$threads" \
    < "$dir/valid.src" > "$dir/$1.out"
  t1=$(date +%s.%N)
  echo "$1 $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
}
for ((i = 1; i <= rounds; ++i)); do
  run old_beam "$old" "$beam"
  run new_beam "$new" "$beam"
  run greedy "$new" 1
done | tee "$dir/times"
echo "lines where the old and the new beam search differ: $(diff "$dir/old_beam.out" \
  "$dir/new_beam.out" | grep -c '^<' || true) of 1000"
/usr/bin/python3 - "$dir/times" "$beam" "$threads" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    name, t = line.split()
    times.setdefault(name, []).append(float(t))
m = {k: statistics.median(v) for k, v in times.items()}
print(f"medians over {len(times['greedy'])} rounds, beam {sys.argv[2]}, {sys.argv[3]} threads:")
for k in ("old_beam", "new_beam", "greedy"):
    print(f"  {k:9s} {m[k]:8.3f} s")
print(f"  old beam / new beam: {m['old_beam'] / m['new_beam']:.2f}x (target >= 5)")
print(f"  new beam / greedy:   {m['new_beam'] / m['greedy']:.2f}x (target <= 3)")
PY
