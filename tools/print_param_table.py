#!/usr/bin/env python3
"""Print the state_dict keys and shapes of seqgrad_torch.Seq2Seq for one configuration.

seqgrad names its parameters exactly like these keys (docs/model.md, "Parameters"), so this
table is the list to check the C++ names and shapes against. Run with Debian's PyTorch:
    /usr/bin/python3 tools/print_param_table.py --d-model 16 --heads 4 --ff 32
"""
import argparse
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
from seqgrad_torch import Seq2Seq  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src-vocab", type=int, default=13)
    ap.add_argument("--tgt-vocab", type=int, default=13)
    ap.add_argument("--d-model", type=int, default=16)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--enc-layers", type=int, default=2)
    ap.add_argument("--dec-layers", type=int, default=2)
    ap.add_argument("--ff", type=int, default=32)
    ap.add_argument("--norm-first", action="store_true", help="pre-LN (the names do not change)")
    ap.add_argument("--json", action="store_true", help="print {key: shape} as JSON")
    a = ap.parse_args()
    model = Seq2Seq(a.src_vocab, a.tgt_vocab, a.d_model, a.heads, a.enc_layers, a.dec_layers, a.ff,
                    0.0, norm_first=a.norm_first)
    table = {k: list(v.shape) for k, v in model.state_dict().items()}
    if a.json:
        print(json.dumps(table))
        return
    width = max(len(k) for k in table)
    for k, shape in table.items():
        print(f"{k:<{width}}  {shape}")
    numel = sum(p.numel() for p in model.state_dict().values())
    print(f"{len(table)} tensors, {numel} parameters")


if __name__ == "__main__":
    main()
