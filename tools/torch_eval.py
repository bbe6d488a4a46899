#!/usr/bin/env python3
"""Load a seqgrad checkpoint into PyTorch and compare its loss with `seqgrad eval`.

The checkpoint's /model goes into the repository's PyTorch module of the model
(python/seqgrad_torch, the same state_dict names) with h5py:
    model.load_state_dict({k: torch.from_numpy(v[()]) for k, v in h5py.File(p)["model"].items()})
Then the mean cross-entropy over the non-pad target tokens of a TSV file (encoded with the
checkpoint's /vocab and tokenization, unseen tokens as <unk>; a --tokenize spm checkpoint's
pieces through python3-sentencepiece) is computed by PyTorch and by
`seqgrad eval --checkpoint P --data FILE --json`, and the two are compared (relative tolerance
1e-4 by default). Prints one JSON line per comparison; exit code 1 if any disagrees.

Run with Debian's PyTorch and h5py (not the python3 first on PATH):
    /usr/bin/python3 tools/torch_eval.py --checkpoint runs/x/latest.h5 --data valid.tsv
    /usr/bin/python3 tools/torch_eval.py --demo    # trains post-LN, pre-LN and shared-embedding models
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import warnings

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
from seqgrad_torch import PAD, load_checkpoint, pad_batch, read_tsv  # noqa: E402

warnings.filterwarnings("ignore", message=".*nested tensors.*")  # torch 1.13's encoder fast path


@torch.no_grad()
def torch_loss(model, pairs, batch=200):
    """Mean cross-entropy over non-pad target tokens (the loss `seqgrad eval` reports)."""
    total, tokens = 0.0, 0
    for b in range(0, len(pairs), batch):
        src, tgt_in, tgt_out = pad_batch(pairs[b:b + batch])
        logits = model(src, tgt_in)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)).double(), tgt_out.reshape(-1),
                                 ignore_index=PAD, reduction="sum").item()
        tokens += int((tgt_out != PAD).sum())
    return total / tokens


def seqgrad_loss(seqgrad, checkpoint, data):
    out = subprocess.run([seqgrad, "eval", "--checkpoint", checkpoint, "--data", data, "--json",
                          "--threads", "1"], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(seqgrad, checkpoint, data, rtol):
    model, config, src_vocab, tgt_vocab = load_checkpoint(checkpoint)
    if config["tokenize"] == "spm":  # the checkpoint's SentencePiece pieces (python3-sentencepiece)
        from seqgrad_torch.corpus import encode_tsv, read_run
        pairs = encode_tsv(data, read_run(checkpoint)[2], src_vocab)
    else:
        pairs = read_tsv(data, config["tokenize"], src_vocab, tgt_vocab)
    theirs = torch_loss(model, pairs)
    ours = seqgrad_loss(seqgrad, checkpoint, data)
    rel = abs(ours["loss"] - theirs) / abs(theirs)
    result = {"checkpoint": checkpoint, "norm_first": config["norm_first"],
              "share_embeddings": config.get("share_embeddings", False), "n": len(pairs),
              "seqgrad_loss": ours["loss"], "torch_loss": theirs, "rel_diff": rel,
              "agrees": rel <= rtol}
    print(json.dumps(result), flush=True)
    return result["agrees"]


def write_reverse_tsv(path, lines, seed, words):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            src = [rng.choice(words) for _ in range(rng.randint(1, 8))]
            f.write(" ".join(src) + "\t" + " ".join(reversed(src)) + "\n")


def demo(seqgrad, rtol, steps):
    """Trains a post-LN, a pre-LN and a --share-embeddings model on a small reversal corpus and
    compares each (the shared one's /model loads into the untied module unchanged)."""
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
        train, valid = os.path.join(tmp, "train.tsv"), os.path.join(tmp, "valid.tsv")
        write_reverse_tsv(train, 400, 1, words)
        write_reverse_tsv(valid, 100, 2, words + ["omega"])  # "omega" is unseen: <unk>
        for norm_first, shared in ((False, False), (True, False), (False, True)):
            out = os.path.join(tmp, ("pre" if norm_first else "post") + ("-shared" if shared else ""))
            cmd = [seqgrad, "train", "--task", "tsv", "--train", train, "--valid", valid,
                   "--d-model", "32", "--heads", "4", "--ff", "64", "--dropout", "0.1",
                   "--batch", "32", "--steps", str(steps), "--warmup", "50", "--lr", "3e-3",
                   "--eval-every", "0", "--threads", "1", "--out", out, "--json"]
            if norm_first:
                cmd.append("--norm-first")
            if shared:  # one vocabulary; /model still holds all three names
                cmd.append("--share-embeddings")
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            ok &= compare(seqgrad, os.path.join(out, "latest.h5"), valid, rtol)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", help="a seqgrad checkpoint (.h5)")
    ap.add_argument("--data", help="TSV file to compute the loss on")
    ap.add_argument("--demo", action="store_true",
                    help="train post-LN, pre-LN and shared-embedding models on a generated TSV and "
                         "compare each")
    ap.add_argument("--steps", type=int, default=300, help="training steps of --demo")
    ap.add_argument("--seqgrad", default=os.path.join(REPO, "build", "seqgrad"))
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.demo:
        ok = demo(args.seqgrad, args.rtol, args.steps)
    elif args.checkpoint and args.data:
        ok = compare(args.seqgrad, args.checkpoint, args.data, args.rtol)
    else:
        ap.error("give --checkpoint and --data, or --demo")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
