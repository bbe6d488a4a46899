#!/usr/bin/env bash
# Side by side: `seqgrad bench` and PyTorch (python/seqgrad_torch's throughput mode) on the same
# config, alternating the programs, ROUNDS times, plus `seqgrad bench --sgemm` (the plain sgemm
# rate at the same thread count) in every round; prints every run and the medians.
# Usage: bench/compare.sh toy|base [ROUNDS] [SEQGRAD_THREADS]
#
# PyTorch at its best: in each round every PyTorch build of TORCH_PYTHONS (default: Debian's
# /usr/bin/python3 and, if present, the PyPI release in the venv that bench/torch_venv.sh makes)
# runs at each thread setting below, and the round's fastest counts, named. The settings cover
# both kinds of system BLAS PyTorch may load: with Debian's OpenMP OpenBLAS,
# torch.set_num_threads(1) also makes the GEMMs single-threaded, so OPENBLAS_NUM_THREADS alone
# does not decide; trying all of them makes the result independent of the installed build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_packages.sh python3-torch python3-h5py python3-numpy  # Debian's PyTorch side, when the machine lacks it
cfg=${1:-toy}; rounds=${2:-5}; threads=${3:-2}
case "$cfg" in
  toy)  args=(--d-model 128 --heads 4 --enc-layers 2 --dec-layers 2 --ff 512 --batch 64 --length 10 --steps 30) ;;
  base) args=(--d-model 512 --heads 8 --enc-layers 3 --dec-layers 3 --ff 2048 --batch 32 --length 31 --steps 10) ;;
  *) echo "usage: $0 toy|base [ROUNDS] [SEQGRAD_THREADS]" >&2; exit 2 ;;
esac
venv=${TORCH_VENV:-bench/.venv-torch}
pythons=${TORCH_PYTHONS:-/usr/bin/python3}
[ -n "${TORCH_PYTHONS:-}" ] || [ ! -x "$venv/bin/python" ] || pythons+=" $venv/bin/python"
# name|environment|--threads
settings=("blas2-threads1|OPENBLAS_NUM_THREADS=2|1" "threads2||2" "blas2-threads2|OPENBLAS_NUM_THREADS=2|2"
          "threads1||1")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 0; i < rounds; i++)); do
  build/seqgrad bench "${args[@]}" --threads "$threads" --json | sed "s/^/seqgrad $i /" | tee -a "$out"
  for py in $pythons; do
    for s in "${settings[@]}"; do
      IFS='|' read -r name envs t <<<"$s"
      # shellcheck disable=SC2086
      env $envs PYTHONPATH=python "$py" -m seqgrad_torch throughput "${args[@]}" --threads "$t" \
        2>/dev/null | sed "s/^/pytorch $i $name /" | tee -a "$out"
    done
  done
  build/seqgrad bench "${args[@]}" --sgemm --threads "$threads" --json | sed "s/^/sgemm $i /" | tee -a "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import collections, json, statistics, sys
seq, best, sgemm = [], {}, []
for line in open(sys.argv[1]):
    impl, rnd, rest = line.split(" ", 2)
    if impl == "pytorch":
        name, js = rest.split(" ", 1)
        r = json.loads(js)
        r["setting"] = f"{r['impl']} {name}"
        if rnd not in best or r["tokens_per_s"] > best[rnd]["tokens_per_s"]:
            best[rnd] = r
    else:
        (seq if impl == "seqgrad" else sgemm).append(json.loads(rest))
torch_runs = list(best.values())
for k, runs in (("seqgrad", seq), ("pytorch", torch_runs)):
    m = {f: statistics.median(r[f] for r in runs) for f in ("tokens_per_s", "ms_per_step", "peak_rss_mb")}
    print(f"median {k:8s} {m['tokens_per_s']:9.0f} tokens/s {m['ms_per_step']:8.1f} ms/step {m['peak_rss_mb']:7.1f} MB peak RSS")
wins = collections.Counter(r["setting"] for r in torch_runs)
print("pytorch's best setting, rounds won: " + ", ".join(f"{s} ({n})" for s, n in wins.most_common()))
ratios = [s["tokens_per_s"] / best[str(i)]["tokens_per_s"] for i, s in enumerate(seq)]
print(f"speedup seqgrad/pytorch-best: median {statistics.median(ratios):.2f}x, rounds " +
      " ".join(f"{x:.2f}" for x in ratios))
gf = statistics.median(r["gflops"] for r in seq)
for i, shape in enumerate(r["shape"] for r in sgemm[0]["sgemm"]):
    peak = statistics.median(r["sgemm"][i]["gflops"] for r in sgemm)
    print(f"seqgrad {gf:.1f} GFLOP/s = {100 * gf / peak:.0f}% of sgemm {shape} {peak:.1f} GFLOP/s")
PY
