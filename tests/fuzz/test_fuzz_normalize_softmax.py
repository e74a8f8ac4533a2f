"""Seeded differential fuzz: F.normalize, softmax/log_softmax alone (dims, dtype=) and
F.layer_norm against PyTorch (values, first and second gradients, errors)."""

import numpy as np
import pytest

from tests.fuzz_harness import Arg, arr, maybe_transposed, run_program, seeds

N = 240


def _shape(rng):
    return tuple(int(s) for s in rng.integers(0 if rng.random() < 0.05 else 1, 5,
                                              int(rng.integers(0, 4))))


def _dim(rng, nd):
    n = max(nd, 1)
    return int(rng.integers(-n - (rng.random() < 0.05), n))


def gen_normalize(rng):
    shape = _shape(rng)
    x = arr(rng, shape)
    if rng.random() < 0.15 and x.value.size:
        x.value.flat[:] = 0.0 if rng.random() < 0.5 else x.value.flat[:] * 1e-14
    p = float(rng.choice([2.0, 1.0, 3.0, 0.5, np.inf]))
    dim = _dim(rng, len(shape))
    eps = float(rng.choice([1e-12, 1e-3, 0.5]))

    def fn(lib, F, x):
        return F.normalize(x, p=p, dim=dim, eps=eps)
    return [x], fn


def gen_softmax(rng):
    shape = _shape(rng)
    x = arr(rng, shape)
    if rng.random() < 0.1 and x.value.size:
        x.value.flat[0] = -np.inf
    elif rng.random() < 0.05 and x.value.size:  # a whole row of -inf (NaN out)
        x.value[...] = -np.inf
    dim = _dim(rng, len(shape))
    dtype = [None, None, "float64", "float32"][int(rng.integers(0, 4))]
    if rng.random() < 0.3:  # a float32 input
        x = Arg(x.value.astype(np.float32), x.requires_grad)
    name = "log_softmax" if rng.random() < 0.5 else "softmax"
    method = rng.random() < 0.3

    def fn(lib, F, x):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        if method:
            return getattr(x, name)(dim, **kw)
        return getattr(F, name)(x, dim, **kw)
    return [x], fn


def gen_layer_norm(rng):
    shape = _shape(rng) + (int(rng.integers(1, 4)),)
    k = int(rng.integers(1, len(shape) + 1))
    normalized = shape[-k:]
    if rng.random() < 0.05:
        normalized = normalized[:-1] + (normalized[-1] + 1,)
    eps = float(rng.choice([1e-5, 1e-2]))
    inputs = [arr(rng, shape)]
    kind = int(rng.integers(0, 3))  # no affine, weight only, weight and bias
    if kind >= 1:
        inputs.append(arr(rng, normalized, rng.random() < 0.8))
    if kind == 2:
        inputs.append(arr(rng, normalized, rng.random() < 0.8))

    def fn(lib, F, x, *wb):
        w = wb[0] if wb else None
        b = wb[1] if len(wb) > 1 else None
        return F.layer_norm(x, normalized, w, b, eps)
    return inputs, fn


GENS = [gen_normalize, gen_softmax, gen_layer_norm]


_R0 = ("normalize of a zero vector: PyTorch's double backward is NaN (the norm's second derivative"
       " at 0), tapegrad's 0 (x / eps there)")
XFAILS = {
    **dict.fromkeys([30, 96, 144, 156], _R0),
}


@pytest.mark.parametrize("seed", seeds(N, XFAILS))
def test_normalize_softmax(seed):
    rng = np.random.default_rng(seed)
    inputs, fn = GENS[seed % len(GENS)](rng)
    inputs, fn = maybe_transposed(seed, inputs, fn)
    run_program(inputs, fn, order=2)
