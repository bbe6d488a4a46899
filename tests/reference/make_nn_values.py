#!/usr/bin/python3
"""PyTorch reference values for seqgrad's neural-network ops (tests/autograd/test_ops_nn.cpp).

For every case it records the inputs (float64, exact), an upstream gradient g, and, computed by
PyTorch in float64 and again in float32 from the same inputs, the op's output and the gradients of
sum(output * g) with respect to every differentiable input. The tests read the JSON and never need
PyTorch.

Run with Debian's PyTorch:
    /usr/bin/python3 tests/reference/make_nn_values.py > tests/reference/nn_values.json
"""
import json
import math

import torch
import torch.nn.functional as F


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def tensor_json(t):
    return {"shape": list(t.shape), "data": flat(t)}


def ints_json(t):
    return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}


def special(v):
    """JSON has no infinities: they are written as strings."""
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def make_case(name, op, params, inputs, ints, fn, gen):
    """inputs: name -> float64 tensor (differentiable); ints: name -> int64 tensor."""
    with torch.no_grad():
        out_shape = fn({k: v.clone() for k, v in inputs.items()}, ints).shape
    upstream = torch.randn(out_shape, generator=gen, dtype=torch.float64)
    case = {
        "name": name,
        "op": op,
        "params": {k: special(v) if isinstance(v, float) else v for k, v in params.items()},
        "inputs": {k: tensor_json(v) for k, v in inputs.items()},
        "ints": {k: ints_json(v) for k, v in ints.items()},
        "upstream": tensor_json(upstream),
    }
    for key, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        leaves = {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in inputs.items()}
        out = fn(leaves, ints)
        (out * upstream.to(dtype)).sum().backward()
        case[key] = {
            "out": flat(out.double()),
            "grads": {k: flat(v.grad.double()) for k, v in leaves.items()},
        }
    return case


def main():
    gen = torch.Generator().manual_seed(20240607)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale

    cases = []

    def add(name, op, params, inputs, ints, fn):
        cases.append(make_case(name, op, params, inputs, ints, fn, gen))

    add("softmax_last", "softmax", {"dim": -1}, {"x": randn(3, 5, scale=2)}, {},
        lambda t, i: torch.softmax(t["x"], -1))
    add("softmax_dim1", "softmax", {"dim": 1}, {"x": randn(2, 4, 3, scale=2)}, {},
        lambda t, i: torch.softmax(t["x"], 1))
    add("softmax_long_rows", "softmax", {"dim": -1}, {"x": randn(2, 300, scale=3)}, {},
        lambda t, i: torch.softmax(t["x"], -1))
    add("log_softmax_last", "log_softmax", {"dim": -1}, {"x": randn(3, 5, scale=2)}, {},
        lambda t, i: torch.log_softmax(t["x"], -1))
    add("log_softmax_dim0", "log_softmax", {"dim": 0}, {"x": randn(4, 3, scale=2)}, {},
        lambda t, i: torch.log_softmax(t["x"], 0))

    add("layer_norm_affine", "layer_norm", {"eps": 1e-5},
        {"x": randn(2, 3, 6, scale=2) + 0.5, "w": 1 + randn(6, scale=0.3), "b": randn(6)}, {},
        lambda t, i: F.layer_norm(t["x"], (6,), t["w"], t["b"], 1e-5))
    add("layer_norm_no_affine", "layer_norm", {"eps": 1e-5}, {"x": randn(4, 7, scale=3)}, {},
        lambda t, i: F.layer_norm(t["x"], (7,), None, None, 1e-5))
    add("layer_norm_wide", "layer_norm", {"eps": 1e-5},
        {"x": randn(3, 64), "w": 1 + randn(64, scale=0.3), "b": randn(64, scale=0.5)}, {},
        lambda t, i: F.layer_norm(t["x"], (64,), t["w"], t["b"], 1e-5))

    add("embedding", "embedding", {},
        {"w": randn(7, 4)}, {"ids": torch.tensor([[1, 6, 1], [0, 6, 1]])},
        lambda t, i: F.embedding(i["ids"], t["w"]))

    key_pad = torch.tensor([0, 0, 1, 1, 0, 1, 0, 0]).reshape(2, 1, 1, 4)
    add("masked_fill_broadcast", "masked_fill", {"value": -2.5}, {"x": randn(2, 2, 3, 4)},
        {"mask": key_pad}, lambda t, i: t["x"].masked_fill(i["mask"].bool(), -2.5))
    partial = torch.tensor([0, 1, 0, 1, 1, 1, 0, 0, 0, 1]).reshape(2, 1, 5)
    add("masked_fill_softmax", "masked_fill_softmax", {"value": -math.inf},
        {"x": randn(2, 3, 5)}, {"mask": partial},
        lambda t, i: torch.softmax(t["x"].masked_fill(i["mask"].bool(), -math.inf), -1))

    targets = torch.tensor([2, 0, 4, 1, 3, 0])
    for name, ignore, smoothing in (("cross_entropy_plain", -100, 0.0),
                                    ("cross_entropy_ignore", 0, 0.0),
                                    ("cross_entropy_smooth", -100, 0.1),
                                    ("cross_entropy_smooth_ignore", 0, 0.2)):
        add(name, "cross_entropy", {"ignore_index": ignore, "label_smoothing": smoothing},
            {"x": randn(6, 5, scale=2)}, {"targets": targets},
            lambda t, i, ignore=ignore, smoothing=smoothing: F.cross_entropy(
                t["x"], i["targets"], ignore_index=ignore, label_smoothing=smoothing))

    print(json.dumps({"generator": "tests/reference/make_nn_values.py",
                      "torch": torch.__version__, "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
