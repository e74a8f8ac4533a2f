"""Seeded differential fuzz: F.cross_entropy/F.nll_loss (weight, ignore_index, reduction,
label_smoothing, class-probability targets, K-d inputs) against PyTorch."""

import numpy as np
import pytest

from tests.fuzz_harness import maybe_transposed, Arg, arr, index, run_program, seeds

N = 240


def gen_loss(rng):
    C = int(rng.integers(1, 5))
    batch = () if rng.random() < 0.15 else (int(rng.integers(0 if rng.random() < 0.05 else 1,
                                                              4)),)
    extra = tuple(int(v) for v in rng.integers(1, 3, int(rng.integers(0, 3)))) if batch else ()
    x = arr(rng, batch + (C,) + extra)
    tshape = batch + extra
    nll = rng.random() < 0.35
    probs = not nll and rng.random() < 0.25
    ignore = int(rng.choice([-100, -100, 0, 1, C - 1]))
    reduction = str(rng.choice(["mean", "sum", "none"]))
    smoothing = 0.0 if nll or rng.random() < 0.5 else float(rng.choice([0.1, 0.5, 1.0]))
    inputs = [x]
    if probs:
        p = rng.random(batch + (C,) + extra)
        t = Arg(p / p.sum(axis=len(batch), keepdims=True), rng.random() < 0.3)
    else:
        tv = rng.integers(0, C, tshape)
        if ignore != -100 and tv.size and rng.random() < 0.6:
            tv.flat[0] = ignore
            if rng.random() < 0.2:  # every target ignored: a mean over nothing
                tv[...] = ignore
        bad = rng.random()
        if bad < 0.04 and tv.size:
            tv.flat[-1] = C
        elif bad < 0.06 and batch:  # (an unbatched input's (1,) target meets PyTorch's
            tv = tv.reshape(tshape + (1,))  # own broadcast bugs: a (1,) output for a 0-d one)
        t = index(tv, np.int32 if rng.random() < 0.03 else np.int64)
    inputs.append(t)
    wkind = rng.random()
    if wkind < 0.35:
        w = Arg(rng.random(C + (wkind < 0.02)) + 0.1, rng.random() < 0.3)
        inputs.append(w)
    kw = dict(ignore_index=ignore, reduction=reduction)
    if not nll:
        kw["label_smoothing"] = smoothing

    def fn(lib, F, x, t, *w):
        weight = w[0] if w else None
        if nll:
            return F.nll_loss(F.log_softmax(x, 1 if x.ndim > 1 else 0), t, weight, **kw)
        return F.cross_entropy(x, t, weight, **kw)
    return inputs, fn


GENS = [gen_loss]


@pytest.mark.parametrize("seed", seeds(N))
def test_losses(seed):
    rng = np.random.default_rng(seed)
    inputs, fn = GENS[seed % len(GENS)](rng)
    inputs, fn = maybe_transposed(seed, inputs, fn)
    run_program(inputs, fn, order=2)
