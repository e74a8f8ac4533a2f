"""Seeded differential fuzz: F.embedding (padding_idx, index shapes, errors) against PyTorch."""

import numpy as np
import pytest

from tests.fuzz_harness import arr, index, run_program, seeds

N = 120


def gen_embedding(rng):
    n, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    ishape = tuple(int(v) for v in rng.integers(0 if rng.random() < 0.05 else 1, 4,
                                                int(rng.integers(0, 3))))
    idx = rng.integers(0, n, ishape)
    if rng.random() < 0.05 and idx.size:
        idx.flat[0] = n if rng.random() < 0.5 else -1
    u = rng.random()
    dtype = np.int32 if u < 0.1 else np.float64 if u < 0.13 else np.int64
    pad = None if rng.random() < 0.4 else int(rng.integers(-n - (rng.random() < 0.05), n))
    wshape = (n, d) if rng.random() > 0.03 else (n,)
    w = arr(rng, wshape)

    def fn(lib, F, i, w):
        return F.embedding(i, w, padding_idx=pad)
    return [index(idx, dtype), w], fn


GENS = [gen_embedding]


@pytest.mark.parametrize("seed", seeds(N))
def test_embedding(seed):
    rng = np.random.default_rng(seed)
    inputs, fn = GENS[seed % len(GENS)](rng)
    run_program(inputs, fn, order=2)
