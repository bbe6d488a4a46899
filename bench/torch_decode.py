#!/usr/bin/env python3
"""Times shared/bench/torch_ref.py's greedy_exact loop: N random copy sequences, one batch, the
same sizes as `seqgrad bench --decode N`. Run with Debian's python3-torch (/usr/bin/python3).
Usage: bench/torch_decode.py [N] [--d-model 128 --heads 4 --length 10 ...]"""
import argparse, json, os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
import torch
import torch_ref

ap = argparse.ArgumentParser()
ap.add_argument("n", type=int, nargs="?", default=1000)
for k, v in (("d-model", 128), ("heads", 4), ("enc-layers", 2), ("dec-layers", 2), ("ff", 512),
             ("length", 10), ("symbols", 10), ("threads", 1)):
    ap.add_argument("--" + k, type=int, default=v)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
V = torch_ref.FIRST + a.symbols
model = torch_ref.Seq2Seq(V, V, a.d_model, a.heads, a.enc_layers, a.dec_layers, a.ff, 0.0)
src, tgt = torch_ref.copy_batch(torch.Generator().manual_seed(12345), a.n, a.length, a.symbols)
torch_ref.greedy_exact(model, src, tgt)  # warm-up
t = time.perf_counter()
torch_ref.greedy_exact(model, src, tgt)
dt = time.perf_counter() - t
print(json.dumps(dict(impl="pytorch-" + torch.__version__, mode="decode", sequences=a.n,
                      seconds=dt, sequences_per_s=a.n / dt)))
