#!/usr/bin/env bash
# Training speed on the real corpus (issue 16, point 6): non-pad target tokens per second of
# seqgrad and of PyTorch (python/seqgrad_torch/corpus.py) on the same model, from the same
# starting checkpoint, with the same --max-tokens batch rule, STEPS updates each, alternating the
# programs ROUNDS times. PyTorch at its best: in each round every PyTorch build (Debian's
# /usr/bin/python3, and the PyPI release in TORCH_VENV when it exists: bench/torch_venv.sh) runs
# at the four thread settings of bench/compare.sh and the round's fastest counts, named.
# INIT is a ckpt-0.h5 of a `--tokenize spm --max-tokens N` run: bench/real_corpus.sh writes one
# (runs/real-corpus/init.h5).
# Usage: bench/real_corpus_speed.sh [ROUNDS] [STEPS] [THREADS] [INIT]   (defaults 3, 40, 2)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_packages.sh python3-torch python3-h5py python3-numpy python3-sentencepiece  # Debian's PyTorch side, when the machine lacks it
rounds=${1:-3}; steps=${2:-40}; threads=${3:-2}; init=${4:-runs/real-corpus/init.h5}
[ -f "$init" ] || { echo "$0: no $init (bench/real_corpus.sh writes it)" >&2; exit 2; }
venv=${TORCH_VENV:-bench/.venv-torch}
pythons=${TORCH_PYTHONS:-/usr/bin/python3}
[ -n "${TORCH_PYTHONS:-}" ] || [ ! -x "$venv/bin/python" ] || pythons+=" $venv/bin/python"
settings=("blas2-threads1|OPENBLAS_NUM_THREADS=2|1" "threads2||2" "blas2-threads2|OPENBLAS_NUM_THREADS=2|2"
          "threads1||1")
out=$(mktemp); run=$(mktemp -d)
trap 'rm -rf "$out" "$run"' EXIT
for ((i = 0; i < rounds; i++)); do
  rm -rf "$run/seqgrad"
  # One log line covering all STEPS updates; --out a scratch folder, so INIT's run is untouched.
  build/seqgrad train --resume "$init" --out "$run/seqgrad" --steps "$steps" --eval-every 0 \
    --save-every 0 --log-every "$steps" --threads "$threads" --json 2>/dev/null \
    | grep '"event":"train"' | sed "s/^/seqgrad $i /" | tee -a "$out"
  for py in $pythons; do
    for s in "${settings[@]}"; do
      IFS='|' read -r name envs t <<<"$s"
      # shellcheck disable=SC2086
      env $envs PYTHONPATH=python "$py" -m seqgrad_torch.corpus --init "$init" --steps "$steps" \
        --threads "$t" --log-every "$steps" --out "$run/torch.h5" 2>/dev/null \
        | grep '"event": "done"' | sed "s/^/pytorch $i $name /" | tee -a "$out"
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import collections, json, statistics, sys
seq, best = {}, {}
for line in open(sys.argv[1]):
    impl, rnd, rest = line.split(" ", 2)
    if impl == "pytorch":
        name, js = rest.split(" ", 1)
        r = json.loads(js)
        r["setting"] = f"{r['impl']} {name}"
        if rnd not in best or r["tokens_per_s"] > best[rnd]["tokens_per_s"]:
            best[rnd] = r
    else:
        seq[rnd] = json.loads(rest)
rounds = sorted(seq)
ratios = [seq[r]["tokens_per_s"] / best[r]["tokens_per_s"] for r in rounds]
print(f"median seqgrad {statistics.median(seq[r]['tokens_per_s'] for r in rounds):8.0f} target tokens/s")
print(f"median pytorch {statistics.median(best[r]['tokens_per_s'] for r in rounds):8.0f} target tokens/s (each round's best)")
wins = collections.Counter(best[r]["setting"] for r in rounds)
print("pytorch's best setting, rounds won: " + ", ".join(f"{s} ({n})" for s, n in wins.most_common()))
print("seqgrad / pytorch by round: " + " ".join(f"{x:.2f}" for x in ratios)
      + f"; median {statistics.median(ratios):.2f}x")
PY
