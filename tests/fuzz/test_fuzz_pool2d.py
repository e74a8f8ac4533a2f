"""Seeded differential fuzz: max_pool2d/avg_pool2d (kernel, stride, padding, ceil_mode,
count_include_pad, divisor_override, return_indices) against PyTorch."""

import numpy as np
import pytest

from tests.fuzz_harness import arr, run_program, seeds

N = 200


def _pair(rng, lo, hi):
    a, b = (int(v) for v in rng.integers(lo, hi + 1, 2))
    return a if rng.random() < 0.4 else (a, b)


def _half(p, k):
    ps = (p, p) if isinstance(p, int) else p
    ks = (k, k) if isinstance(k, int) else k
    return all(pp <= kk // 2 for pp, kk in zip(ps, ks))


def gen_pool(rng):
    kernel = _pair(rng, 1, 3)
    stride = None if rng.random() < 0.3 else _pair(rng, 1, 3)
    padding = _pair(rng, 0, 1)
    if not _half(padding, kernel) and rng.random() < 0.85:
        padding = 0
    ceil_mode = bool(rng.random() < 0.4)
    batch = () if rng.random() < 0.25 else (int(rng.integers(1, 3)),)
    shape = batch + (int(rng.integers(1, 3)),) + tuple(int(v) for v in rng.integers(1, 7, 2))
    if rng.random() < 0.03:
        shape = shape[-2:]  # 2-D input: PyTorch's 3-D or 4-D error
    x = arr(rng, shape)
    if rng.random() < 0.5:
        dilation = _pair(rng, 1, 2)
        ret = bool(rng.random() < 0.4)
        kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                  ceil_mode=ceil_mode, return_indices=ret)

        def fn(lib, F, x):
            return F.max_pool2d(x, **kw)
        return [x], fn
    cip = bool(rng.random() < 0.5)
    div = None if rng.random() < 0.8 else int(rng.integers(1, 5))
    kw = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
              count_include_pad=cip, divisor_override=div)

    def fn(lib, F, x):
        return F.avg_pool2d(x, **kw)
    return [x], fn


GENS = [gen_pool]


@pytest.mark.parametrize("seed", seeds(N))
def test_pool2d(seed):
    rng = np.random.default_rng(seed)
    inputs, fn = GENS[seed % len(GENS)](rng)
    run_program(inputs, fn, order=2)
