"""Matmul FLOPs of the real-corpus training steps (issue 16, point 6), to put a ceiling on tokens/s.

Replays the batches bench/real_corpus_speed.sh trains on (the --max-tokens rule of docs/data.md,
through python/seqgrad_torch/corpus.py's token_batches, which seqgrad's batches equal) and counts
the matrix products of a training step on each padded batch: 2 FLOPs per multiply-add, a step 3x
its forward (forward, input gradient, weight gradient), as `seqgrad bench` counts them. Prints the
FLOPs per non-pad target token and, given GFLOP/s rates, the target tokens/s each rate allows.
Usage: PYTHONPATH=python /usr/bin/python3 bench/real_corpus_flops.py INIT STEPS [GFLOPS ...]
"""
import random
import sys

from seqgrad_torch.corpus import encode_tsv, read_run, token_batches
from seqgrad_torch.data import pad_batch


def forward_flops(c, B, S, T, V):
    """Matmul FLOPs of one forward pass on a (B, S) source and a (B, T) target."""
    d, f = c["d_model"], c["ff"]
    enc = 2 * B * S * d * 4 * d + 2 * 2 * B * S * S * d + 2 * 2 * B * S * d * f
    dec = (2 * B * T * d * 4 * d + 2 * 2 * B * T * T * d  # self-attention
           + 2 * B * T * d * 2 * d + 2 * B * S * d * 2 * d + 2 * 2 * B * T * S * d  # cross
           + 2 * 2 * B * T * d * f)
    return c["enc_layers"] * enc + c["dec_layers"] * dec + 2 * B * T * d * V


def main():
    init, steps, rates = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3:]]
    c, vocab, spm = read_run(init)
    pairs = encode_tsv(c["train_file"], spm, vocab)
    rng = random.Random(c["seed"])
    flops = tokens = padded = 0
    for step, batch in enumerate(token_batches(pairs, c["max_tokens"], rng)):
        if step == steps:
            break
        src, _, tgt_out = pad_batch([pairs[i] for i in batch])
        (B, S), T = src.shape, tgt_out.shape[1]
        flops += 3 * forward_flops(c, B, S, T, len(vocab))
        tokens += int((tgt_out != 0).sum())
        padded += B * T
    per_token = flops / tokens
    print(f"{steps} steps: {tokens} non-pad target tokens ({padded} with padding), "
          f"{flops / 1e9:.1f} GFLOP, {per_token / 1e6:.1f} MFLOP per target token")
    for r in rates:
        print(f"at {r:.1f} GFLOP/s: {r * 1e9 / per_token:,.0f} target tokens/s")


if __name__ == "__main__":
    main()
