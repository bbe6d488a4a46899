#!/usr/bin/env bash
# The current PyTorch release from PyPI in a virtual environment, for bench/compare.sh's "PyTorch
# at its best" (Debian's python3-torch is the other candidate). Benchmarks only: no test needs it.
# Usage: bench/torch_venv.sh [VENV]   (default bench/.venv-torch; about 5 GB with CUDA's wheels)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_packages.sh python3-venv  # python3 -m venv, when the machine lacks it
venv=${1:-bench/.venv-torch}
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet torch numpy h5py sentencepiece  # sentencepiece: real_corpus*.sh
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "in", "'"$venv"'")'
