"""The gradient of an operand broadcast along long innermost axes (x (4, 200000) + b (4, 1))
is NumPy's pairwise sum along the contiguous rows: ``np.einsum('ab->a')`` added them one
after another in float32, ~7e-7 relative off where PyTorch's is ~5e-8."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("xs,bs,op", [((4, 200000), (4, 1), "add"), ((4, 200000), (4, 1), "sub"),
                                      ((3, 50, 2000), (3, 1, 1), "add"),
                                      ((6, 1000), (6, 1), "add")])
def test_innermost_broadcast_gradient_is_pairwise(xs, bs, op):
    r = np.random.default_rng(3)
    x = (r.standard_normal(xs) + 1).astype(np.float32)
    b = (r.standard_normal(bs) + 1).astype(np.float32)
    g = (r.standard_normal(xs) + 1).astype(np.float32)
    out = {}
    for T in (tg, torch):
        X, B = T.tensor(x, requires_grad=True), T.tensor(b, requires_grad=True)
        (X + B if op == "add" else X - B).backward(T.tensor(g))
        out[T] = B.grad.numpy()
    axes = tuple(i for i in range(len(xs)) if bs[i] == 1)
    terms = g.astype(np.float64) * (1 if op == "add" else -1)
    want, scale = terms.sum(axes).reshape(bs), np.abs(terms).sum(axes).reshape(bs)
    err = float(np.max(np.abs(out[tg] - want) / scale))
    ref = float(np.max(np.abs(out[torch] - want) / scale))
    assert out[tg].dtype == np.float32 and out[tg].shape == bs
    assert err < max(1e-7, 2 * ref), (err, ref)


def test_innermost_broadcast_gradient_keeps_inf_and_nan():
    x = np.ones((4, 1000), np.float32)
    g = np.ones((4, 1000), np.float32)
    g[0, 3], g[1, 5], g[2, 7], g[2, 9] = np.inf, np.nan, np.inf, -np.inf
    got = []
    for T in (tg, torch):
        X, B = T.tensor(x, requires_grad=True), T.tensor(np.zeros((4, 1), np.float32),
                                                         requires_grad=True)
        (X + B).backward(T.tensor(g))
        got.append(B.grad.numpy())
    np.testing.assert_array_equal(got[0], got[1])
