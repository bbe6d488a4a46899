#!/usr/bin/python3
"""Writes tests/reference/optim_fixtures.h5: torch.optim, clip_grad_norm_ and LambdaLR reference
values that tests/optim/test_optim_parity.cpp must reproduce bit for bit.

Run by hand with Debian's PyTorch 1.13 and no SIMD kernels (so torch uses no fused multiply-add
and its float32 reductions use the portable 8-lane kernel):

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 tests/reference/make_optim_fixtures.py

Layout (every float32 unless noted):
  /params/<name>                     initial parameter values
  /grads/<name>                      [STEPS, *shape] the gradient given at each step
  /cases/<case>                      attrs: optimizer, its hyper-parameters (sgd: lr, momentum,
                                     dampening, nesterov, weight_decay; adam/adamw: lr, beta1,
                                     beta2, eps, weight_decay, amsgrad), schedule (+ d_model,
                                     warmup, total_steps when not "none")
  /cases/<case>/params/<name>        [STEPS, *shape] parameters after each step
  /cases/<case>/grad_present/<name>  [STEPS] int64, 0 where the parameter had no gradient
                                     (only in the *_missing_grads cases)
  /clip/<case>                       attrs: max_norm
  /clip/<case>/grads/<name>          gradients before clipping
  /clip/<case>/clipped/<name>        gradients after clip_grad_norm_ (finite cases)
  /clip/<case>/total_norm            scalar, the returned total norm
  /schedule/<case>                   attrs: kind, base_lr, d_model, warmup, total_steps
  /schedule/<case>/lr                [1000] float64, lr of optimizer updates 1..1000
"""
import math
import os
import sys

import h5py
import numpy as np
import torch

STEPS = 20
SCHEDULE_STEPS = 1000
PARAMS = [("encoder.weight", (7, 5)), ("encoder.bias", (5,)), ("block.0.kernel", (3, 4, 2))]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_fixtures.h5")


# ---- schedules: factor(s) for the 1-based update index s, the exact double expressions that
# optim/schedule.cpp evaluates. LambdaLR passes last_epoch e = s - 1 (0 for the first update).
def noam_factor(s, d_model, warmup):
    return d_model ** -0.5 * min(s ** -0.5, s * warmup ** -1.5)


def cosine_factor(s, warmup, total):
    if s <= warmup:
        return s / warmup
    progress = min(1.0, (s - warmup) / (total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def make_lambda(kind, d_model=0, warmup=0, total=0):
    if kind == "constant":
        return lambda e: 1.0
    if kind == "noam":
        return lambda e: noam_factor(e + 1, d_model, warmup)
    if kind == "cosine":
        return lambda e: cosine_factor(e + 1, warmup, total)
    if kind == "inverse_sqrt":  # seqgrad_torch's bench lambda, verbatim
        return lambda s: min((s + 1) / warmup, (warmup / (s + 1)) ** 0.5)
    raise ValueError(kind)


def make_optimizer(params, spec):
    kind = spec["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=spec["lr"], momentum=spec["momentum"],
                               dampening=spec["dampening"], nesterov=bool(spec["nesterov"]),
                               weight_decay=spec["weight_decay"], foreach=False)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    return cls(params, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"],
               weight_decay=spec["weight_decay"], amsgrad=bool(spec["amsgrad"]), foreach=False)


def case(optimizer, **kw):
    spec = dict(optimizer=optimizer, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=0,
                weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=0, schedule="none",
                d_model=0, warmup=0, total_steps=0, missing=())
    spec.update(kw)
    return spec


# missing: (step, parameter index) pairs whose gradient is None at that step.
MISSING = tuple([(s, 2) for s in range(3)] + [(10, 0), (11, 1)])
CASES = {
    "sgd_plain": case("sgd", lr=0.1),
    "sgd_momentum_dampening": case("sgd", lr=0.05, momentum=0.9, dampening=0.3),
    "sgd_nesterov_weight_decay": case("sgd", lr=0.05, momentum=0.9, nesterov=1,
                                      weight_decay=0.01),
    "sgd_momentum_missing_grads": case("sgd", lr=0.05, momentum=0.8, weight_decay=1e-3,
                                       missing=MISSING),
    "adam": case("adam"),
    "adam_weight_decay": case("adam", lr=2e-3, beta2=0.98, eps=1e-9, weight_decay=0.1),
    "adam_amsgrad": case("adam", lr=1e-2, amsgrad=1, weight_decay=0.01),
    "adam_missing_grads": case("adam", lr=3e-3, missing=MISSING),
    "adam_noam": case("adam", lr=1.0, beta2=0.98, eps=1e-9, schedule="noam", d_model=64,
                      warmup=6),
    "adamw": case("adamw", weight_decay=0.01),
    "adamw_amsgrad": case("adamw", lr=3e-3, beta1=0.8, beta2=0.99, weight_decay=0.05,
                          amsgrad=1),
    "adamw_cosine": case("adamw", lr=5e-3, weight_decay=0.1, schedule="cosine", warmup=5,
                         total_steps=15),
}


def write_case(f, name, spec, init, grads):
    params = [torch.tensor(v).requires_grad_() for v in init]
    opt = make_optimizer(params, spec)
    sched = None
    if spec["schedule"] != "none":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, make_lambda(spec["schedule"], spec["d_model"], spec["warmup"],
                             spec["total_steps"]))
    after = [np.zeros((STEPS,) + v.shape, np.float32) for v in init]
    present = np.ones((len(init), STEPS), np.int64)
    for s in range(STEPS):
        for i, p in enumerate(params):
            if (s, i) in spec["missing"]:
                p.grad = None
                present[i, s] = 0
            else:
                p.grad = torch.tensor(grads[i][s])
        opt.step()
        if sched is not None:
            sched.step()
        for i, p in enumerate(params):
            after[i][s] = p.detach().numpy()
    g = f.create_group("cases/" + name)
    keys = (["lr", "momentum", "dampening", "nesterov", "weight_decay"] if spec["optimizer"] == "sgd"
            else ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"])
    keys = ["optimizer"] + keys + ["schedule"]
    if spec["schedule"] != "none":
        keys += ["d_model", "warmup", "total_steps"]
    for k in keys:
        v = spec[k]
        g.attrs[k] = v if isinstance(v, str) else (np.int64(v) if isinstance(v, int) else
                                                    np.float64(v))
    for i, (pname, _) in enumerate(PARAMS):
        g["params/" + pname] = after[i]
        if spec["missing"]:
            g["grad_present/" + pname] = present[i]


def write_clip(f, name, grads, max_norm, clipped_expected=True):
    params = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    c = f.create_group("clip/" + name)
    c.attrs["max_norm"] = np.float64(max_norm)
    c["total_norm"] = np.float32(total.item())
    for i, g in enumerate(grads):
        pname = "g%d" % i
        c["grads/" + pname] = g
        if clipped_expected:
            c["clipped/" + pname] = params[i].grad.numpy()


def write_schedule(f, name, kind, base_lr, d_model=0, warmup=0, total=0):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, make_lambda(kind, d_model, warmup, total))
    lrs = np.zeros(SCHEDULE_STEPS, np.float64)
    for s in range(SCHEDULE_STEPS):
        lrs[s] = opt.param_groups[0]["lr"]
        p.grad = torch.zeros(1)
        opt.step()
        sched.step()
    g = f.create_group("schedule/" + name)
    g.attrs.update(kind=kind, base_lr=np.float64(base_lr), d_model=np.int64(d_model),
                   warmup=np.int64(warmup), total_steps=np.int64(total))
    g["lr"] = lrs


def main():
    if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
        sys.exit("run with ATEN_CPU_CAPABILITY=default (no FMA, portable float32 kernels)")
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(20240613)
    init = [torch.randn(shape, generator=gen).numpy() for _, shape in PARAMS]
    # Gradient magnitudes vary by step over four decades so eps and the moments matter.
    scales = 10.0 ** torch.empty(STEPS).uniform_(-3.0, 1.0, generator=gen)
    grads = [np.stack([(torch.randn(shape, generator=gen) * scales[s]).numpy()
                       for s in range(STEPS)]).astype(np.float32) for _, shape in PARAMS]
    with h5py.File(OUT, "w", libver="latest") as f:
        for i, (pname, _) in enumerate(PARAMS):
            f["params/" + pname] = init[i]
            f["grads/" + pname] = grads[i]
        for name, spec in CASES.items():
            write_case(f, name, spec, init, grads)

        clip_shapes = [(7, 5), (5,), (3, 4, 2), (37, 29), (9,), (8,), (1,), (2, 3), (4,)]
        cg = [(torch.randn(s, generator=gen) * 3.0).numpy() for s in clip_shapes]
        write_clip(f, "active", cg, 1.0)
        write_clip(f, "inactive", cg[:3], 1e4)
        write_clip(f, "single", cg[5:6], 0.25)
        write_clip(f, "tiny_max_norm", cg[:3], 1e-7)
        inf_g = [g.copy() for g in cg[:3]]
        inf_g[1][2] = np.inf
        write_clip(f, "nonfinite_inf", inf_g, 1.0, clipped_expected=False)
        nan_g = [g.copy() for g in cg[:3]]
        nan_g[2][1, 2, 0] = np.nan
        write_clip(f, "nonfinite_nan", nan_g, 1.0, clipped_expected=False)

        write_schedule(f, "constant", "constant", 3e-4)
        write_schedule(f, "noam_short_warmup", "noam", 2.0, d_model=512, warmup=100)
        write_schedule(f, "noam_long_warmup", "noam", 1.0, d_model=128, warmup=4000)
        write_schedule(f, "cosine", "cosine", 1e-3, warmup=100, total=800)
        write_schedule(f, "cosine_no_warmup", "cosine", 5e-4, warmup=0, total=1000)
        write_schedule(f, "inverse_sqrt", "inverse_sqrt", 1e-3, warmup=400)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
