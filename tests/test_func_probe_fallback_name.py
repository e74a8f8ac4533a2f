"""The warning of ``vmap``'s per-example fallback names the op that read a batched value:
``index_put`` of a plain tensor by a batched index was reported as "the batching rule for
run" (the name of the wrapper that routes CUDA tensors through the host)."""

import numpy as np
import pytest

import tapegrad as tg

A = np.random.default_rng(0).standard_normal((3, 5))
IDX = np.array([[0, 1, 1, 3, 2], [2, 2, 0, 0, 1], [3, 3, 3, 0, 0]])


def _put(a, i):
    return tg.zeros(4, dtype=tg.float64).index_put((i,), a, accumulate=True)


def test_fallback_warning_names_index_put():
    with pytest.warns(UserWarning, match=r"the batching rule for index_put\. tapegrad runs the "
                                         r"function once per example"):
        out = tg.func.vmap(_put)(tg.tensor(A), tg.tensor(IDX))
    want = np.zeros((3, 4))
    for b in range(3):
        np.add.at(want[b], IDX[b], A[b])
    np.testing.assert_allclose(out.numpy(), want, rtol=0, atol=1e-15)
