#!/usr/bin/env bash
# The README's worked example (English -> French software messages from the machine's gettext
# catalogs) side by side with PyTorch: the same recipe, the same starting parameters, the same
# SentencePiece vocabulary and batch rule, the same wall-clock training time; both models then
# decoded and scored by `seqgrad eval` (BLEU and chrF as sacreBLEU computes them) on the test
# split, and seqgrad's output by sacreBLEU itself when it is installed (SACREBLEU, or
# bench/.venv-sacrebleu:
#   python3 -m venv bench/.venv-sacrebleu && bench/.venv-sacrebleu/bin/pip install sacrebleu).
# Then issue 18's checks on seqgrad's run: beam 5 with the length penalty against greedy, and the
# average of the last five checkpoints against the last one.
# Run it on an idle machine; it takes about 2 x SECONDS plus some minutes of decoding.
# Usage: bench/real_corpus.sh [SECONDS] [THREADS] [DIR]   (defaults 600, 2, runs/real-corpus)
# TORCH_THREADS (default THREADS) and TORCH_ENV (e.g. OPENBLAS_NUM_THREADS=2) set PyTorch's side
# (bench/compare.sh finds PyTorch's fastest setting on a machine).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_packages.sh python3-torch python3-h5py python3-numpy python3-sentencepiece  # Debian's PyTorch side, when the machine lacks it
seconds=${1:-600}; threads=${2:-2}; dir=${3:-runs/real-corpus}
data=$dir/data
sacrebleu=${SACREBLEU:-bench/.venv-sacrebleu/bin/sacrebleu}

python3 tools/locale_corpus.py "$data"
# The recipe of README.md's worked example, minus its evaluations during training (they would
# take training time from seqgrad only).
recipe=(--task tsv --train "$data/train.tsv" --valid "$data/valid.tsv" --tokenize spm
        --vocab-size 8000 --share-embeddings --max-tokens 2500 --d-model 256 --heads 4
        --enc-layers 3 --dec-layers 3 --ff 1024 --dropout 0.1 --label-smoothing 0.1 --lr 0.001
        --warmup 400 --seed 1)

rm -rf "$dir/seqgrad"
build/seqgrad train "${recipe[@]}" --steps 0 --out "$dir/seqgrad" --threads "$threads"
init=$dir/init.h5
cp "$dir/seqgrad/ckpt-0.h5" "$init"

echo "== seqgrad: $seconds s of training from $init"
# SIGINT ends the step under way, saves a checkpoint and exits 1 (docs/cli.md, Stop signals).
# A checkpoint every 50 steps keeps the last five for averaging (issue 18's check, below).
timeout -s INT "$seconds" build/seqgrad train --resume "$dir/seqgrad/ckpt-0.h5" --steps 100000000 \
  --eval-every 0 --save-every 50 --keep 5 --log-every 50 --threads "$threads" --json \
  >"$dir/seqgrad.jsonl" || true
tail -n 1 "$dir/seqgrad.jsonl"

echo "== PyTorch: $seconds s of training from $init"
# shellcheck disable=SC2086
env ${TORCH_ENV:-} PYTHONPATH=python /usr/bin/python3 -m seqgrad_torch.corpus --init "$init" \
  --seconds "$seconds" --threads "${TORCH_THREADS:-$threads}" --log-every 100 \
  --out "$dir/torch.h5" | tee "$dir/torch.jsonl" | tail -n 1

last=$(readlink -f "$dir/seqgrad/latest.h5")
build/seqgrad average --out "$dir/average5.h5" --overwrite --last 5 "$dir/seqgrad"
for run in "seqgrad,$last," "torch,$dir/torch.h5," "seqgrad-beam5,$last,--beam 5 --length-penalty 1.0" \
           "seqgrad-average5,$dir/average5.h5,"; do
  IFS=, read -r name ck flags <<<"$run"
  printf '%s, %s on the test split: ' "$name" "$ck"
  # shellcheck disable=SC2086
  build/seqgrad eval --checkpoint "$ck" --data "$data/test.tsv" --threads "$threads" --json \
    $flags | tee "$dir/$name.eval.json"
done
if [ -x "$sacrebleu" ]; then
  build/seqgrad translate --checkpoint "$last" --threads "$threads" <"$data/test.src" \
    >"$dir/seqgrad.test.out"
  "$sacrebleu" "$data/test.ref" -i "$dir/seqgrad.test.out" -m bleu chrf -b | paste -sd ' ' \
    | sed "s/^/sacreBLEU on seqgrad's test output (BLEU chrF): /"
fi
