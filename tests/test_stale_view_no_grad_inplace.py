"""A view whose base changed in place is still regathered after an in-place op on it under
no_grad: that op records nothing, so it must not mark the view's stale history as current."""

import numpy as np
import pytest

import tapegrad as tg

X = np.array([[1.0, 2.0], [3.0, 4.0], [-0.5, 1.5]])
W = np.array([[2.0, -1.0], [0.5, 3.0], [1.5, -2.0]])
KINDS = ["add_", "zero_", "mul_"]


def _change(v, kind):
    if kind == "add_":
        v.add_(1)
    elif kind == "zero_":
        v.zero_()
    else:
        v.mul_(3)


def _run(L, kind):
    x = L.tensor(X, requires_grad=True)
    w = L.tensor(W, requires_grad=True)
    b = x * 1
    v = b[1:]  # made before b changes
    b[:, 0].mul_(w[0, 0])  # b changes through another view: v's history is now stale
    with L.no_grad():
        _change(v, kind)
    out = (v * v * w[1:]).sum() + v.sum()
    return [g.detach().numpy() for g in L.autograd.grad(out, (x, w))]


@pytest.mark.parametrize("kind", KINDS)
def test_matches_the_regathered_view(kind):
    gx, gw = _run(tg, kind)
    # reference: v's history read from b after the recorded change; the no_grad op only moved
    # v's value (held by the saved v of v * v)
    x = tg.tensor(X, requires_grad=True)
    w = tg.tensor(W, requires_grad=True)
    v_hist = tg.stack([x[:, 0] * w[0, 0], x[:, 1]], 1)[1:]
    now = tg.tensor(v_hist.detach().numpy().copy())
    _change(now, kind)
    v = v_hist + (now - v_hist.detach())
    out = (v * v * w[1:]).sum() + v.sum()
    rx, rw = (g.numpy() for g in tg.autograd.grad(out, (x, w)))
    np.testing.assert_allclose(gx, rx, rtol=1e-12)
    np.testing.assert_allclose(gw, rw, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    for a, b in zip(_run(tg, kind), _run(torch, kind)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
