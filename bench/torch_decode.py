#!/usr/bin/env python3
"""Times PyTorch's greedy decoding (seqgrad_torch.greedy_exact, the converge mode's evaluation):
N random copy sequences in one batch, the same sizes as `seqgrad bench --decode N`. Run with
Debian's python3-torch (/usr/bin/python3).
Usage: bench/torch_decode.py [N] [--d-model 128 --heads 4 --length 10 ...]"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
from seqgrad_torch import FIRST, Seq2Seq, copy_batch, greedy_exact  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int, nargs="?", default=1000)
for k, v in (("d-model", 128), ("heads", 4), ("enc-layers", 2), ("dec-layers", 2), ("ff", 512),
             ("length", 10), ("symbols", 10), ("threads", 1)):
    ap.add_argument("--" + k, type=int, default=v)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
V = FIRST + a.symbols
model = Seq2Seq(V, V, a.d_model, a.heads, a.enc_layers, a.dec_layers, a.ff, 0.0)
src, tgt = copy_batch(torch.Generator().manual_seed(12345), a.n, a.length, a.symbols)
greedy_exact(model, src, tgt)  # warm-up
t = time.perf_counter()
greedy_exact(model, src, tgt)
dt = time.perf_counter() - t
print(json.dumps(dict(impl="pytorch-" + torch.__version__, mode="decode", sequences=a.n,
                      seconds=dt, sequences_per_s=a.n / dt)))
