"""The PyTorch side of seqgrad's benchmarks (bench/README.md): the reference recipe on the copy
task, the same work per step as `seqgrad bench` and `seqgrad train`.

    throughput  train steps on 8 random copy batches of fixed length, cycled; prints tokens/s
    converge    train on fresh copy batches until greedy exact match on 1000 held-out copies
                reaches --target; prints the steps and seconds it took

A step: forward, mean cross-entropy over non-pad targets, backward, clipping at global norm 1.0,
Adam(lr, betas 0.9/0.98, eps 1e-9), then the schedule (constant, or with --warmup W a linear
warm-up to lr and 1/sqrt(step) decay). Tokens per step = batch x (length + 1). Prints one JSON
line. Run with Debian's python3-torch:
    PYTHONPATH=python /usr/bin/python3 -m seqgrad_torch throughput --d-model 128 --steps 30
On a 2-core machine PyTorch is fastest with OPENBLAS_NUM_THREADS=2 and --threads 1 (its own
intra-op pool); --threads 2 on top of OpenBLAS's two threads oversubscribes the cores.
"""
import argparse
import json
import resource
import time

import torch

from .data import FIRST, PAD, copy_batch
from .model import Seq2Seq


def greedy_exact(model, src, tgt):
    """Share of rows whose greedy decoding (tgt.size(1) - 1 steps from <bos>) equals tgt."""
    model.eval()
    ys = model.greedy(src, tgt.size(1) - 1)
    model.train()
    return (ys == tgt).all(1).float().mean().item()


def inverse_sqrt(warmup):
    """LambdaLR factor of the update with 0-based index s: min((s+1)/w, sqrt(w/(s+1)))."""
    return lambda s: min((s + 1) / warmup, (warmup / (s + 1)) ** 0.5)


class Trainer:
    """One model, Adam and the schedule; step(src, tgt) trains on one copy batch."""

    def __init__(self, a):
        self.vocab = FIRST + a.symbols
        self.model = Seq2Seq(self.vocab, self.vocab, a.d_model, a.heads, a.enc_layers, a.dec_layers,
                             a.ff, a.dropout, norm_first=a.norm_first)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=a.lr, betas=(0.9, 0.98), eps=1e-9)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, inverse_sqrt(a.warmup)) if a.warmup else None

    def step(self, src, tgt):
        logits = self.model(src, tgt[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), tgt[:, 1:].reshape(-1),
                                                 ignore_index=PAD)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        if self.sched:
            self.sched.step()
        return loss.item()


def throughput(a, trainer, g):
    batches = [copy_batch(g, a.batch, a.length, a.symbols) for _ in range(8)]
    for i in range(a.warmup_steps):
        trainer.step(*batches[i % 8])
    t = time.perf_counter()
    for i in range(a.steps):
        loss = trainer.step(*batches[i % 8])
    dt = time.perf_counter() - t
    tokens = a.steps * a.batch * (a.length + 1)
    return dict(mode="throughput", tokens_per_s=tokens / dt, ms_per_step=1000 * dt / a.steps, loss=loss,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def converge(a, trainer, g):
    held_src, held_tgt = copy_batch(torch.Generator().manual_seed(12345), 1000, a.length, a.symbols)
    t = time.perf_counter()
    acc, steps, loss = 0.0, 0, float("nan")
    while steps < a.max_steps:
        for _ in range(a.eval_every):
            loss = trainer.step(*copy_batch(g, a.batch, a.length, a.symbols))
            steps += 1
        acc = greedy_exact(trainer.model, held_src, held_tgt)
        if acc >= a.target:
            break
    return dict(mode="converge", steps=steps, seconds=time.perf_counter() - t, exact_match=acc, loss=loss)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m seqgrad_torch", description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["throughput", "converge"])
    for name, default in (("d-model", 128), ("heads", 4), ("enc-layers", 2), ("dec-layers", 2),
                          ("ff", 512), ("batch", 64), ("length", 10), ("symbols", 10)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--norm-first", action="store_true", help="pre-LN layers")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=0,
                    help="linear warm-up steps, then inverse-sqrt decay (0: constant lr)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=30, help="throughput: timed steps")
    ap.add_argument("--warmup-steps", type=int, default=3, help="throughput: untimed steps first")
    ap.add_argument("--target", type=float, default=0.99, help="converge: exact match to reach")
    ap.add_argument("--max-steps", type=int, default=5000, help="converge: give up after this many")
    ap.add_argument("--eval-every", type=int, default=50, help="converge: steps between evaluations")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    trainer = Trainer(a)
    g = torch.Generator().manual_seed(a.seed + 1)
    out = dict(impl="pytorch-" + torch.__version__)
    out.update((throughput if a.mode == "throughput" else converge)(a, trainer, g))
    out.update(config={k: v for k, v in vars(a).items() if k != "mode"})
    print(json.dumps(out))
