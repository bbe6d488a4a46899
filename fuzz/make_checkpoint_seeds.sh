#!/usr/bin/env bash
# Writes the seed checkpoints of the checkpoint fuzz target into fuzz/corpus/checkpoint/: real
# checkpoints of tiny models (d_model 8) in the current format, after 0 and 1 steps of the copy
# task with Adam, and after 1 step of a character-level TSV corpus with SGD and momentum. The
# v1-*.h5 seeds next to them are the same in checkpoint format version 1 (no checksums), which
# seqgrad still loads; truncated.h5 is the first 8 KB of one.
# Usage: fuzz/make_checkpoint_seeds.sh [SEQGRAD_BINARY, default build/seqgrad]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/seqgrad}")
out=$PWD/fuzz/corpus/checkpoint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
tiny=(--d-model 8 --heads 2 --ff 16 --enc-layers 1 --dec-layers 1 --threads 1 --valid-size 4
  --eval-every 0)
"$bin" train "${tiny[@]}" --steps 0 --out a0 >/dev/null
"$bin" train "${tiny[@]}" --steps 1 --out a1 >/dev/null
printf 'ab c\tc ba\nhello\tolleh\nxyz\tzyx\n' >p.tsv
"$bin" train "${tiny[@]}" --task tsv --train p.tsv --tokenize char --batch 2 --optim sgd \
  --momentum 0.9 --steps 1 --out s1 >/dev/null
cp a0/ckpt-0.h5 "$out/adam-step0.h5"
cp a1/ckpt-1.h5 "$out/adam-step1.h5"
cp s1/ckpt-1.h5 "$out/sgd-tsv-step1.h5"
ls -l "$out"
