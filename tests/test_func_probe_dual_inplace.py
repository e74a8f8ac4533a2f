"""An in-place op on a view of a dual tensor changes the dual's tangent as PyTorch's does
(against torch 2.13 and finite differences); the tangent tensor given to ``make_dual`` is left
as it was (PyTorch's make_dual keeps that tensor and writes into it: a documented
difference)."""

import numpy as np
import pytest

import tapegrad as tg

X = np.array([0.5, -1.0, 2.0, 0.25])
T = np.array([1.0, -2.0, 0.5, 3.0])


def _run(lib):
    fw = lib.autograd.forward_ad
    x, t = lib.tensor(X), lib.tensor(T)
    with fw.dual_level():
        d = fw.make_dual(x.clone(), t)
        d[1:3].mul_(3)
        y = d.clone()
        y[0] = d[3] ** 2
        out = (fw.unpack_dual(d).tangent.numpy().copy(), fw.unpack_dual(y).tangent.numpy())
    return out, t.numpy()


def _f(x):
    x = x.copy()
    x[1:3] *= 3
    y = x.copy()
    y[0] = x[3] ** 2
    return x, y


def test_tangents_against_finite_differences():
    (dt, yt), t_after = _run(tg)
    e = 1e-6
    (xp, yp), (xm, ym) = _f(X + e * T), _f(X - e * T)
    np.testing.assert_allclose(dt, (xp - xm) / (2 * e), rtol=1e-7)
    np.testing.assert_allclose(yt, (yp - ym) / (2 * e), rtol=1e-7)
    np.testing.assert_array_equal(t_after, T)  # (the tangent passed in is not written)


def test_tangents_against_torch():
    torch = pytest.importorskip("torch")
    (dt, yt), _ = _run(tg)
    (want_d, want_y), torch_t = _run(torch)
    np.testing.assert_allclose(dt, want_d, rtol=1e-15)
    np.testing.assert_allclose(yt, want_y, rtol=1e-15)
    assert not np.array_equal(torch_t, T)  # (PyTorch's make_dual wrote into it)
