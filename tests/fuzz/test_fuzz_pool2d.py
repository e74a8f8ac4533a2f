"""Seeded differential fuzz: max_pool2d/avg_pool2d (kernel, stride, padding, ceil_mode,
count_include_pad, divisor_override, return_indices) against PyTorch."""

import numpy as np
import pytest

from tests.fuzz_harness import maybe_transposed, arr, run_program, seeds

N = 200


def _pair(rng, lo, hi):
    a, b = (int(v) for v in rng.integers(lo, hi + 1, 2))
    return a if rng.random() < 0.4 else (a, b)


def _half(p, k):
    ps = (p, p) if isinstance(p, int) else p
    ks = (k, k) if isinstance(k, int) else k
    return all(pp <= kk // 2 for pp, kk in zip(ps, ks))


def _two(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _stray_index(size, kernel, stride, padding, dilation, ceil_mode):
    """Whether a window of padding only gets an index past its plane: PyTorch's backward then
    writes into the next plane's gradient, or past the buffer for the last plane."""
    firsts, empties = [], []
    for n, k, s, p, d in zip(size, _two(kernel), _two(stride or kernel), _two(padding),
                             _two(dilation)):
        span = d * (k - 1) + 1
        out = -(-(n + 2 * p - span) // s) + 1 if ceil_mode else (n + 2 * p - span) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        starts = np.arange(max(out, 0)) * s - p
        first = np.where(starts < 0, starts + (-starts + d - 1) // d * d, starts)
        firsts.append(first)
        empties.append(first >= np.minimum(starts + span, n))
    flat = firsts[0][:, None] * size[1] + firsts[1][None, :]
    empty = empties[0][:, None] | empties[1][None, :]
    return bool((empty & (flat >= size[0] * size[1])).any())


def gen_pool(rng):
    kernel = _pair(rng, 1, 3)
    stride = None if rng.random() < 0.3 else _pair(rng, 1, 3)
    padding = _pair(rng, 0, 1)
    if not _half(padding, kernel) and rng.random() < 0.85:
        padding = 0
    ceil_mode = bool(rng.random() < 0.4)
    batch = () if rng.random() < 0.25 else (int(rng.integers(0 if rng.random() < 0.1 else 1, 3)),)
    shape = batch + (int(rng.integers(1, 3)),) + tuple(int(v) for v in rng.integers(1, 7, 2))
    if rng.random() < 0.03:
        shape = shape[-2:]  # 2-D input: PyTorch's 3-D or 4-D error
    x = arr(rng, shape)
    if rng.random() < 0.5:
        dilation = _pair(rng, 1, 2)
        if _stray_index(shape[-2:], kernel, stride, padding, dilation, ceil_mode):
            dilation = 1
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
    inputs, fn = maybe_transposed(seed, inputs, fn)
    run_program(inputs, fn, order=2)
