"""The PyTorch counterpart of a `seqgrad train --task tsv --tokenize spm --max-tokens N` run, for
the side-by-side comparison of bench/real_corpus.sh.

It starts from a seqgrad checkpoint of that run (`--steps 0` writes one: ckpt-0.h5) and takes
everything from it: the configuration (model, optimizer, schedule, --max-tokens, label smoothing,
clipping, seed), the initial parameters, and the SentencePiece model and vocabulary (/vocab/spm,
/vocab/src), so both sides train the same model from the same starting point on the same token
ids. The training file is encoded with the Python SentencePiece module (python3-sentencepiece)
and each piece mapped to its id in the checkpoint's vocabulary, as seqgrad does. Batches are
formed by docs/data.md's token-based rule (per epoch: shuffle, stable sort by width, then target
and source length, cut while r x widest <= N, shuffle the batches): the same rule and the same
batch sizes, drawn with Python's generator rather than seqgrad's, so the order differs.

It trains for --seconds of wall-clock time (or --steps updates), then writes the trained
parameters into a copy of the starting checkpoint (--out), so that `seqgrad eval` and
`seqgrad translate` decode and score both models alike. Prints one JSON line per --log-every
steps and one at the end. Run with Debian's python3-torch:

    PYTHONPATH=python /usr/bin/python3 -m seqgrad_torch.corpus --init runs/fr/ckpt-0.h5 \\
        --train fr/train.tsv --seconds 600 --threads 1 --out runs/fr-torch.h5
"""
import argparse
import json
import math
import random
import shutil
import time
import warnings

import h5py
import torch

from .checkpoint import model_from_config
from .data import EOS, PAD, UNK, pad_batch

warnings.filterwarnings("ignore", message=".*nested tensors.*")  # torch 1.13's encoder fast path


def read_run(path):
    """(config dict, vocabulary token list, serialized SentencePiece model) of a checkpoint."""
    with h5py.File(path, "r") as f:
        config = json.loads(f["config"].attrs["json"])
        vocab = list(f["vocab/src"].asstr()[()])
        if list(f["vocab/tgt"].asstr()[()]) != vocab or "vocab/spm" not in f:
            raise SystemExit(f"{path}: not a --tokenize spm run with one shared vocabulary")
        spm = bytes(f["vocab/spm"][()])
    return config, vocab, spm


def encode_tsv(path, spm_bytes, vocab):
    """(source ids + <eos>, target ids) of every line of a TSV file."""
    import sentencepiece  # python3-sentencepiece: only this mode needs it

    sp = sentencepiece.SentencePieceProcessor()
    sp.LoadFromSerializedProto(spm_bytes)
    ids = {t: i for i, t in enumerate(vocab)}

    def enc(text):
        return [ids.get(p, UNK) for p in sp.EncodeAsPieces(text)]

    pairs = []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if line:
                src, tgt = line.split("\t")
                pairs.append((enc(src) + [EOS], enc(tgt)))
    return pairs


def token_batches(pairs, max_tokens, rng):
    """One epoch of token-based batches (docs/data.md), as lists of pair indices."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    width = [max(len(s) - 1, len(t)) + 1 for s, t in pairs]
    order.sort(key=lambda i: (width[i], len(pairs[i][1]), len(pairs[i][0])))
    batches, cur, widest = [], [], 0
    for i in order:
        w = max(widest, width[i])
        if cur and (len(cur) + 1) * w > max_tokens:
            batches.append(cur)
            cur, w = [], width[i]
        cur.append(i)
        widest = w
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def lr_factor(config, s):
    """The schedule's factor of the 1-based update s (docs/cli.md)."""
    kind, w = config["schedule"], config["warmup"]
    if kind == "constant":
        return 1.0
    if kind == "inverse_sqrt":
        return min(s / w, math.sqrt(w / s))
    if kind == "noam":
        return config["d_model"] ** -0.5 * min(s ** -0.5, s * w ** -1.5)
    if kind == "cosine":
        if s <= w:
            return s / w
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - w) / (config["steps"] - w))))
    raise SystemExit(f"unknown schedule {kind}")


def make_model(config, vocab, init):
    model = model_from_config(config, len(vocab), len(vocab))
    if config.get("share_embeddings"):
        model.tgt_embed.weight = model.src_embed.weight
        model.generator.weight = model.src_embed.weight
    with h5py.File(init, "r") as f:
        model.load_state_dict({k: torch.from_numpy(v[()]) for k, v in f["model"].items()})
    return model


def make_optimizer(config, model):
    params = list(model.parameters())  # a tied matrix once
    if config["optim"] == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=config["momentum"],
                               nesterov=config["nesterov"], weight_decay=config["weight_decay"])
    kind = torch.optim.AdamW if config["optim"] == "adamw" else torch.optim.Adam
    return kind(params, lr=config["lr"], betas=(config["beta1"], config["beta2"]), eps=config["eps"],
                weight_decay=config["weight_decay"])


def save(model, init, out):
    """A copy of the starting checkpoint holding the trained parameters under every name."""
    shutil.copyfile(init, out)
    state = model.state_dict()
    with h5py.File(out, "r+") as f:
        for k, ds in f["model"].items():
            ds[...] = state[k].detach().numpy()


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m seqgrad_torch.corpus",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--init", required=True, help="seqgrad checkpoint to start from (ckpt-0.h5)")
    ap.add_argument("--train", help="training TSV (default: the run's --train)")
    ap.add_argument("--seconds", type=float, default=0, help="wall-clock training time (0: --steps)")
    ap.add_argument("--steps", type=int, default=0, help="updates (0: the run's --steps)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--out", required=True, help="checkpoint to write the trained model to")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    config, vocab, spm = read_run(a.init)
    if not config.get("max_tokens"):
        raise SystemExit(f"{a.init}: the run has no --max-tokens")
    torch.manual_seed(config["seed"])  # dropout
    rng = random.Random(config["seed"])
    t0 = time.perf_counter()
    pairs = encode_tsv(a.train or config["train_file"], spm, vocab)
    model = make_model(config, vocab, a.init)
    model.train()
    opt = make_optimizer(config, model)
    steps = a.steps or (0 if a.seconds else config["steps"])
    print(json.dumps({"event": "ready", "pairs": len(pairs), "vocab": len(vocab),
                      "setup_s": round(time.perf_counter() - t0, 2)}), flush=True)

    start = time.perf_counter()
    step, epoch, tokens, loss_sum, n_loss = 0, 0, 0, 0.0, 0
    last_t, last_tokens = start, 0
    done = False
    while not done:
        for batch in token_batches(pairs, config["max_tokens"], rng):
            step += 1
            for g in opt.param_groups:
                g["lr"] = config["lr"] * lr_factor(config, step)
            src, tgt_in, tgt_out = pad_batch([pairs[i] for i in batch])
            loss = model.loss(src, tgt_in, tgt_out, config["label_smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config["clip_norm"])
            opt.step()
            tokens += int((tgt_out != PAD).sum())
            loss_sum += loss.item()
            n_loss += 1
            now = time.perf_counter()
            if step % a.log_every == 0:
                print(json.dumps({"event": "train", "step": step, "epoch": epoch,
                                  "loss": round(loss_sum / n_loss, 4),
                                  "tokens_per_s": round((tokens - last_tokens) / (now - last_t), 1),
                                  "elapsed_s": round(now - start, 1)}), flush=True)
                loss_sum, n_loss, last_t, last_tokens = 0.0, 0, now, tokens
            if (steps and step >= steps) or (a.seconds and now - start >= a.seconds):
                done = True
                break
        else:
            epoch += 1
    elapsed = time.perf_counter() - start
    model.eval()
    save(model, a.init, a.out)
    print(json.dumps({"event": "done", "impl": "pytorch-" + torch.__version__, "step": step,
                      "epoch": epoch, "train_s": round(elapsed, 1),
                      "tokens_per_s": round(tokens / elapsed, 1), "checkpoint": a.out}), flush=True)


if __name__ == "__main__":
    main()
