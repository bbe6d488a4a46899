#!/usr/bin/env python3
"""Write the PyTorch parity fixture of seqgrad's image model (issue 21): image_seq2seq.h5.

Run by hand from the repo root with Debian's PyTorch 1.13:
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 tests/reference/make_image_fixtures.py
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 tests/reference/make_image_fixtures.py --check

The model is python/seqgrad_torch's ImageSeq2Seq (the repository's PyTorch module), in train()
mode with dropout 0.0, float32, one thread, fixed seeds; 1-D parameters are moved off their 0/1
init as in make_layer_fixtures.py. The file holds the images, the targets, every parameter
(params/<state_dict key>), the logits, the loss with and without label smoothing, and the
gradient of the plain loss for every parameter (grad/<key>) and for the images (grad/images).
"""
import argparse
import os
import sys

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    os.environ["ATEN_CPU_CAPABILITY"] = "default"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
from seqgrad_torch.image import ImageSeq2Seq  # noqa: E402

PAD, BOS, EOS = 0, 1, 2
VOCAB, D, HEADS, FF, LAYERS = 9, 8, 2, 16, 1
HEIGHT, WIDTH, PATCH = 4, 6, 2  # a 2 x 3 grid of patches
LABEL_SMOOTHING = 0.1


def np32(t):
    return t.detach().cpu().numpy().astype(np.float32, copy=True)


def build():
    torch.set_num_threads(1)
    torch.manual_seed(2101)
    g = torch.Generator().manual_seed(3101)
    model = ImageSeq2Seq(VOCAB, HEIGHT, WIDTH, PATCH, d_model=D, heads=HEADS, enc_layers=LAYERS,
                         dec_layers=LAYERS + 1, ff=FF, dropout=0.0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                base = 1.0 if name.endswith("weight") else 0.0  # 1-D weights are LayerNorm's
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
    model.train()
    images = torch.rand(2, HEIGHT, WIDTH, generator=g).requires_grad_()
    tgt_in = torch.tensor([[BOS, 4, 5, 6], [BOS, 7, 0, 0]])
    tgt_out = torch.tensor([[4, 5, 6, EOS], [7, EOS, 0, 0]])
    logits = model(images, tgt_in)
    smoothed = model.loss(images, tgt_in, tgt_out, LABEL_SMOOTHING)
    loss = model.loss(images, tgt_in, tgt_out)
    loss.backward()
    data = {"input/images": np32(images), "input/tgt_in": tgt_in.numpy().astype(np.int64),
            "input/tgt_out": tgt_out.numpy().astype(np.int64), "output/logits": np32(logits),
            "output/loss": np32(loss), "output/loss_smoothed": np32(smoothed),
            "grad/images": np32(images.grad)}
    for k, p in model.state_dict(keep_vars=True).items():
        data[f"params/{k}"] = np32(p)
        data[f"grad/{k}"] = np32(p.grad)
    attrs = {"d_model": D, "heads": HEADS, "enc_layers": LAYERS, "dec_layers": LAYERS + 1,
             "ff": FF, "tgt_vocab": VOCAB, "image_height": HEIGHT, "image_width": WIDTH,
             "patch": PATCH, "label_smoothing": LABEL_SMOOTHING}
    for k, v in data.items():
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise RuntimeError(f"make_image_fixtures: {k} has non-finite values")
    return data, attrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the file, write nothing")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    path = os.path.join(args.out, "image_seq2seq.h5")
    data, attrs = build()
    if args.check:
        bad = []
        with h5py.File(path, "r") as f:
            have = set()
            f.visititems(lambda k, o: have.add(k) if isinstance(o, h5py.Dataset) else None)
            if have != set(data):
                bad.append(f"datasets differ: {sorted(have ^ set(data))}")
            for k in sorted(set(data) & have):
                if not np.array_equal(f[k][()], data[k]):
                    bad.append(k)
            for k, v in attrs.items():
                if f.attrs.get(k) != v:
                    bad.append(f"attribute {k}")
        for b in bad:
            print(f"image_seq2seq.h5: {b}", file=sys.stderr)
        sys.exit(1 if bad else 0)
    with h5py.File(path, "w", libver="earliest") as f:
        for k in sorted(attrs):
            v = attrs[k]
            f.attrs[k] = np.int64(v) if isinstance(v, int) else np.float64(v)
        f.attrs["torch_version"] = str(torch.__version__)
        for k in sorted(data):
            f.create_dataset(k, data=data[k], track_times=False)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
