#!/usr/bin/env bash
# A large TSV corpus with SentencePiece (issue 16, big files): writes LINES (default 1000000)
# generated sentence pairs, then times `seqgrad train --tokenize spm --steps 0` on them (the
# sample drawn, the model trained on --spm-sample lines, every line read, checked and encoded,
# the checkpoint written) and a few training steps, each with its wall time and peak RSS
# (GNU time's "Maximum resident set size").
# Usage: bench/big_tsv.sh [LINES] [SPM_SAMPLE] [THREADS] [VOCAB_SIZE]
# (the generated text holds about 2,000 SentencePiece pieces, so VOCAB_SIZE defaults to 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}; sample=${2:-100000}; threads=${3:-2}; vocab=${4:-2000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Pairs of 3-12 words from a 5000-word vocabulary on each side, fixed seed, about 90 bytes a line.
/usr/bin/python3 - "$lines" "$dir/big.tsv" <<'PY'
import random, sys
n, path = int(sys.argv[1]), sys.argv[2]
r = random.Random(16)
letters = "abcdefghijklmnopqrstuvwxyzäöüß"
src = ["".join(r.choice(letters[:26]) for _ in range(r.randint(2, 9))) for _ in range(5000)]
tgt = ["".join(r.choice(letters) for _ in range(r.randint(2, 10))) for _ in range(5000)]
with open(path, "w", encoding="utf-8") as f:
    for _ in range(n):
        k = r.randint(3, 12)
        ids = [min(int(r.paretovariate(1.1)), 4999) for _ in range(k)]
        f.write(" ".join(src[i] for i in ids) + ".\t" + " ".join(tgt[i] for i in ids) + ".\n")
PY
ls -l "$dir/big.tsv" | awk '{printf "corpus: %d lines, %.1f MB\n", '"$lines"', $5 / 1e6}'
common=(train --task tsv --train "$dir/big.tsv" --tokenize spm --vocab-size "$vocab"
        --spm-sample "$sample" --threads "$threads" --batch 64 --d-model 128 --heads 4
        --enc-layers 2 --dec-layers 2 --ff 512 --eval-every 0)
for steps in 0 20; do
  /usr/bin/time -f "steps $steps: %e s wall, peak RSS %M KB" \
    build/seqgrad "${common[@]}" --steps "$steps" --out "$dir/run$steps" > /dev/null
done
