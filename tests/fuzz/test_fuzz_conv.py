"""Seeded differential fuzz: conv1d/conv2d (stride, padding with 'same'/'valid', dilation,
groups, bias None) against PyTorch (values, first and second gradients, errors)."""

import numpy as np
import pytest

from tests.fuzz_harness import maybe_transposed, arr, run_program, seeds

N = 160


def _per_dim(rng, nd, lo, hi):
    vals = tuple(int(v) for v in rng.integers(lo, hi + 1, nd))
    return vals[0] if nd == 1 or (rng.random() < 0.5 and len(set(vals)) == 1) else vals


def gen_conv(rng, nd):
    groups = int(rng.choice([1, 1, 2, 3]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    stride = _per_dim(rng, nd, 1, 3)
    dilation = _per_dim(rng, nd, 1, 2)
    u = rng.random()
    padding = "same" if u < 0.2 else "valid" if u < 0.3 else _per_dim(rng, nd, 0, 2)
    if padding == "same" and rng.random() < 0.8:
        stride = 1
    spatial = tuple(int(v) for v in rng.integers(1, 7, nd))
    batch = () if rng.random() < 0.2 else (int(rng.integers(0 if rng.random() < 0.1 else 1, 3)),)
    bad = rng.random()
    wcin = cin // groups
    if bad < 0.04:
        wcin += 1
    elif bad < 0.07:
        cin += 1  # not divisible by groups (or a channel mismatch)
    x = arr(rng, batch + (cin,) + spatial)
    w = arr(rng, (cout, wcin) + k, rng.random() < 0.85)
    bias = None if rng.random() < 0.3 else arr(rng, (cout + (bad > 0.97),), rng.random() < 0.8)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    name = f"conv{nd}d"
    if bias is None:
        def fn(lib, F, x, w):
            return getattr(F, name)(x, w, None, **kw)
        return [x, w], fn

    def fn(lib, F, x, w, b):
        return getattr(F, name)(x, w, b, **kw)
    return [x, w, bias], fn


def gen_conv1d(rng):
    return gen_conv(rng, 1)


def gen_conv2d(rng):
    return gen_conv(rng, 2)


GENS = [gen_conv1d, gen_conv2d]


@pytest.mark.parametrize("seed", seeds(N))
def test_conv(seed):
    rng = np.random.default_rng(seed)
    inputs, fn = GENS[seed % len(GENS)](rng)
    inputs, fn = maybe_transposed(seed, inputs, fn)
    run_program(inputs, fn, order=2)

