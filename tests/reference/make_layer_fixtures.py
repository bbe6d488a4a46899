#!/usr/bin/env python3
"""Write the PyTorch parity fixtures for seqgrad's layers (issue 3, point 5).

Run by hand from the repo root with Debian's PyTorch 1.13:
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 tests/reference/make_layer_fixtures.py
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 tests/reference/make_layer_fixtures.py --check

The first form (re)writes the .h5 files next to this script; --check regenerates everything in
memory and compares it bit for bit with the committed files (exit 1 on any difference). The file
layout is documented in README.md next to this script. The C++ tests only read the .h5 files.

Every fixture runs in train() mode with dropout 0.0 (train mode keeps PyTorch off its eval fast
paths), in float32, on one thread, from fixed seeds. The files are written without timestamps
(libver='earliest', track_times=False), so two runs give byte-identical files.
"""
import argparse
import hashlib
import os
import sys

# PyTorch picks its vectorized (AVX2/AVX512) kernels at start-up; they change the last bits of
# randn and of reductions. Fix the plain kernels before torch is imported, by re-executing.
if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    os.environ["ATEN_CPU_CAPABILITY"] = "default"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
from seqgrad_torch import Seq2Seq  # noqa: E402

PAD, BOS, EOS, UNK, FIRST = 0, 1, 2, 3, 4
D_MODEL, HEADS, BATCH = 16, 4, 3  # attention fixtures
# The Seq2Seq fixtures are smaller: one dataset per parameter and per gradient costs ~0.5 KB of
# HDF5 headers each, and at d_model 16 the raw float32 data alone would be ~96 KB a file.
S2S_D_MODEL, S2S_HEADS, S2S_FF, S2S_LAYERS = 8, 2, 16, 2  # head dim 4, as in the attention fixtures
VOCAB = 13
LABEL_SMOOTHING = 0.1
# Attributes that record provenance only; --check does not compare them.
PROVENANCE_ATTRS = {"torch_version"}


def perturb_vectors(module, g):
    """Move every 1-D parameter (biases, LayerNorm weight and bias) off its 0/1 init, so that a
    bias or a LayerNorm affine applied in the wrong place changes the outputs."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() == 1:
                base = 1.0 if name.endswith("weight") else 0.0  # the only 1-D weights are LayerNorm's
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))


def np32(t):
    return t.detach().cpu().numpy().astype(np.float32, copy=True)


def np64i(t):
    return t.detach().cpu().numpy().astype(np.int64, copy=True)


def mha_params(mha):
    return {name: np32(p) for name, p in mha.named_parameters()}


def mha_grads(mha):
    return {name: np32(p.grad) for name, p in mha.named_parameters()}


def check_finite(name, data):
    for path, arr in data.items():
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise RuntimeError(f"make_layer_fixtures: {name}:{path} has non-finite values")


def self_attention_causal():
    """(a) self-attention, causal mask: out = MHA(x, x, x, attn_mask=triu(1))."""
    torch.manual_seed(101)
    g = torch.Generator().manual_seed(1101)
    T = 5
    mha = nn.MultiheadAttention(D_MODEL, HEADS, dropout=0.0, batch_first=True)
    perturb_vectors(mha, g)
    mha.train()
    x = torch.randn(BATCH, T, D_MODEL, generator=g).requires_grad_()
    upstream = torch.randn(BATCH, T, D_MODEL, generator=g)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)  # (T, T), True = masked
    out, weights = mha(x, x, x, attn_mask=causal, need_weights=True, average_attn_weights=False)
    (out * upstream).sum().backward()

    data = {"input/x": np32(x), "input/causal": np64i(causal), "output/out": np32(out),
            "output/attn_weights": np32(weights), "upstream": np32(upstream),
            "grad/input/x": np32(x.grad)}
    data.update({f"params/{k}": v for k, v in mha_params(mha).items()})
    data.update({f"grad/params/{k}": v for k, v in mha_grads(mha).items()})
    attrs = {"d_model": D_MODEL, "heads": HEADS, "batch": BATCH, "seq_len": T}
    return data, attrs


def cross_attention_padded():
    """(b) cross-attention: out = MHA(query, memory, memory, key_padding_mask), Tq != Tk."""
    torch.manual_seed(202)
    g = torch.Generator().manual_seed(2202)
    Tq, Tk = 4, 6
    pads = [0, 2, 5]  # pad keys per batch row: none, some, all but one
    mha = nn.MultiheadAttention(D_MODEL, HEADS, dropout=0.0, batch_first=True)
    perturb_vectors(mha, g)
    mha.train()
    query = torch.randn(BATCH, Tq, D_MODEL, generator=g).requires_grad_()
    memory = torch.randn(BATCH, Tk, D_MODEL, generator=g).requires_grad_()
    upstream = torch.randn(BATCH, Tq, D_MODEL, generator=g)
    kpm = torch.zeros(BATCH, Tk, dtype=torch.bool)  # (B, Tk), True = padding
    for b, n in enumerate(pads):
        kpm[b, Tk - n:] = n > 0
    out, weights = mha(query, memory, memory, key_padding_mask=kpm, need_weights=True,
                       average_attn_weights=False)
    (out * upstream).sum().backward()

    data = {"input/query": np32(query), "input/memory": np32(memory),
            "input/key_padding_mask": np64i(kpm), "output/out": np32(out),
            "output/attn_weights": np32(weights), "upstream": np32(upstream),
            "grad/input/query": np32(query.grad), "grad/input/memory": np32(memory.grad)}
    data.update({f"params/{k}": v for k, v in mha_params(mha).items()})
    data.update({f"grad/params/{k}": v for k, v in mha_grads(mha).items()})
    attrs = {"d_model": D_MODEL, "heads": HEADS, "batch": BATCH, "query_len": Tq, "key_len": Tk}
    return data, attrs


def attention_long(cross):
    """(d) lengths that cross the blocked attention's default tiles (64 query rows, 128 keys),
    d_model 8 and 2 heads to keep the files small, no attention weights stored. Self-attention:
    T = 150, causal plus key padding (the mask is not stored: attribute causal = 1). Cross-attention:
    Tq = 70, Tk = 200, key padding."""
    torch.manual_seed(404 + cross)
    g = torch.Generator().manual_seed(4404 + cross)
    d, h, B = S2S_D_MODEL, S2S_HEADS, 2
    Tq, Tk = (70, 200) if cross else (150, 150)
    pads = [0, 61] if cross else [0, 37]  # padded keys per batch row, at the end
    mha = nn.MultiheadAttention(d, h, dropout=0.0, batch_first=True)
    perturb_vectors(mha, g)
    mha.train()
    query = torch.randn(B, Tq, d, generator=g).requires_grad_()
    memory = torch.randn(B, Tk, d, generator=g).requires_grad_() if cross else query
    upstream = torch.randn(B, Tq, d, generator=g)
    kpm = torch.zeros(B, Tk, dtype=torch.bool)
    for b, n in enumerate(pads):
        kpm[b, Tk - n:] = n > 0
    causal = None if cross else torch.triu(torch.ones(Tq, Tk, dtype=torch.bool), 1)
    out, _ = mha(query, memory, memory, key_padding_mask=kpm, attn_mask=causal, need_weights=False)
    (out * upstream).sum().backward()

    data = {"input/key_padding_mask": np64i(kpm), "output/out": np32(out), "upstream": np32(upstream)}
    if cross:
        data.update({"input/query": np32(query), "input/memory": np32(memory),
                     "grad/input/query": np32(query.grad), "grad/input/memory": np32(memory.grad)})
    else:
        data.update({"input/x": np32(query), "grad/input/x": np32(query.grad)})
    data.update({f"params/{k}": v for k, v in mha_params(mha).items()})
    data.update({f"grad/params/{k}": v for k, v in mha_grads(mha).items()})
    attrs = {"d_model": d, "heads": h, "batch": B, "query_len": Tq, "key_len": Tk,
             "causal": int(not cross)}
    return data, attrs


def padded_batch(g, lengths, width):
    """Rows of `lengths[b]` random real tokens, padded with PAD to `width`: (B, width) int64."""
    rows = torch.full((len(lengths), width), PAD, dtype=torch.int64)
    for b, n in enumerate(lengths):
        rows[b, :n] = torch.randint(FIRST, VOCAB, (n,), generator=g)
    return rows


def seq2seq_batch(g):
    """src = tokens + EOS (padded); tgt_in = BOS + target; tgt_out = target + EOS (both padded)."""
    src_tokens = [5, 3, 1]  # real tokens per row before EOS
    tgt_tokens = [2, 5, 4]
    S, T = max(src_tokens) + 1, max(tgt_tokens) + 1
    src = padded_batch(g, src_tokens, S)
    target = padded_batch(g, tgt_tokens, T)
    tgt_in = torch.full((BATCH, T), PAD, dtype=torch.int64)
    tgt_out = torch.full((BATCH, T), PAD, dtype=torch.int64)
    for b in range(BATCH):
        src[b, src_tokens[b]] = EOS
        n = tgt_tokens[b]
        tgt_in[b, 0] = BOS
        tgt_in[b, 1:n + 1] = target[b, :n]
        tgt_out[b, :n] = target[b, :n]
        tgt_out[b, n] = EOS
    return src, tgt_in, tgt_out


def seq2seq(norm_first, share_embeddings=False):
    """(c) the whole model (python/seqgrad_torch's Seq2Seq): logits, token-mean cross-entropy (ignore PAD), backward.
    With share_embeddings (seqgrad's --share-embeddings, fairseq's --share-all-embeddings),
    tgt_embed.weight and generator.weight are src_embed.weight, the same Parameter: state_dict()
    still lists all three names, and the gradient stored under each is the sum of the three uses."""
    torch.manual_seed(303)
    g = torch.Generator().manual_seed(3303)
    d, h, ff, le, ld = S2S_D_MODEL, S2S_HEADS, S2S_FF, S2S_LAYERS, S2S_LAYERS
    model = Seq2Seq(VOCAB, VOCAB, d, h, le, ld, ff, 0.0, norm_first=norm_first)
    if share_embeddings:
        model.tgt_embed.weight = model.src_embed.weight
        model.generator.weight = model.src_embed.weight
    perturb_vectors(model, g)
    model.train()
    src, tgt_in, tgt_out = seq2seq_batch(g)
    logits = model(src, tgt_in)  # (B, T, vt)
    flat_logits, flat_out = logits.reshape(-1, VOCAB), tgt_out.reshape(-1)
    loss = nn.CrossEntropyLoss(ignore_index=PAD)(flat_logits, flat_out)
    smoothed = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=LABEL_SMOOTHING)(flat_logits, flat_out)
    loss.backward()

    data = {"input/src": np64i(src), "input/tgt_in": np64i(tgt_in), "input/tgt_out": np64i(tgt_out),
            "output/logits": np32(logits), "output/loss": np32(loss),
            "output/loss_smoothed": np32(smoothed)}
    for k, p in model.state_dict(keep_vars=True).items():
        data[f"params/{k}"] = np32(p)
        data[f"grad/{k}"] = np32(p.grad)
    attrs = {"d_model": d, "heads": h, "enc_layers": le, "dec_layers": ld, "ff": ff,
             "src_vocab": VOCAB, "tgt_vocab": VOCAB, "norm_first": int(norm_first), "pad_id": PAD,
             "bos_id": BOS, "eos_id": EOS, "label_smoothing": LABEL_SMOOTHING}
    if share_embeddings:
        attrs["share_embeddings"] = 1
    return data, attrs


def build_all():
    fixtures = {
        "self_attention_causal.h5": self_attention_causal(),
        "cross_attention_padded.h5": cross_attention_padded(),
        "self_attention_long.h5": attention_long(False),
        "cross_attention_long.h5": attention_long(True),
        "seq2seq_post_ln.h5": seq2seq(False),
        "seq2seq_pre_ln.h5": seq2seq(True),
        "seq2seq_shared_embeddings.h5": seq2seq(False, share_embeddings=True),
    }
    for name, (data, attrs) in fixtures.items():
        check_finite(name, data)
        attrs["torch_version"] = str(torch.__version__)
    return fixtures


def write_h5(path, data, attrs):
    """Datasets at their '/'-separated paths (dots stay inside names), no timestamps."""
    with h5py.File(path, "w", libver="earliest", track_order=False) as f:
        for key in sorted(attrs):
            v = attrs[key]
            f.attrs[key] = str(v) if isinstance(v, str) else np.int64(v) if isinstance(v, int) else np.float64(v)
        for key in sorted(data):
            f.create_dataset(key, data=data[key], track_times=False)


def read_h5(path):
    data, attrs = {}, {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, obj: data.__setitem__(k, obj[()]) if isinstance(obj, h5py.Dataset) else None)
        for k, v in f.attrs.items():
            attrs[k] = v.item() if isinstance(v, np.generic) else v
    return data, attrs


def data_digest(data):
    h = hashlib.sha256()
    for key in sorted(data):
        arr = np.ascontiguousarray(data[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def compare(name, want, got):
    """List the differences between regenerated (want) and stored (got) data and attributes."""
    (wd, wa), (gd, ga) = want, got
    problems = []
    for key in sorted(set(wd) | set(gd)):
        if key not in gd or key not in wd:
            problems.append(f"{name}: dataset {key} only in {'regenerated' if key in wd else 'file'}")
            continue
        a, b = np.asarray(wd[key]), np.asarray(gd[key])
        if a.dtype != b.dtype or a.shape != b.shape:
            problems.append(f"{name}: {key} is {b.dtype}{b.shape} in the file, {a.dtype}{a.shape} regenerated")
        elif a.tobytes() != b.tobytes():
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max()
            problems.append(f"{name}: {key} differs (max abs diff {diff:.3g})")
    for key in sorted((set(wa) | set(ga)) - PROVENANCE_ATTRS):
        if wa.get(key) != ga.get(key):
            problems.append(f"{name}: attribute {key} is {ga.get(key)!r} in the file, {wa.get(key)!r} regenerated")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare regenerated data with the files, write nothing")
    ap.add_argument("--out", default=HERE, help="directory for the .h5 files (default: next to this script)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    fixtures = build_all()

    problems = []
    for name, (data, attrs) in fixtures.items():
        path = os.path.join(a.out, name)
        if a.check:
            found = compare(name, (data, attrs), read_h5(path)) if os.path.exists(path) else [f"{name}: missing"]
            problems += found[:6] + ([f"{name}: ... and {len(found) - 6} more"] if len(found) > 6 else [])
        else:
            write_h5(path, data, attrs)
        print(f"{name}: {len(data)} datasets, data sha256 {data_digest(data)[:16]}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    if a.check:
        print("make_layer_fixtures: all fixtures match the committed files")


if __name__ == "__main__":
    main()
