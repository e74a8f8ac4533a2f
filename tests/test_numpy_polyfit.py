"""``np.polyfit`` on tensors: NumPy's coefficients (and ``full``/``cov`` results), the
gradient in the data, the abscissae and the weights against finite differences to the second
order, NumPy's errors and its RankWarning."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

R = np.random.default_rng(11)
X = np.linspace(-1.0, 2.0, 12)
Y = np.cos(X) + 0.1 * R.standard_normal(12)
Y2 = np.stack([Y, Y ** 2], 1)
W = R.uniform(0.5, 1.5, 12)


def _rg(a):
    return tg.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a


def _np(v):
    return v.detach().numpy() if isinstance(v, tg.Tensor) else v


@pytest.mark.parametrize("y, deg, kw", [
    (Y, 3, {}), (Y2, 2, {}), (Y, 3, {"w": W}), (Y2, 2, {"w": W, "cov": True}),
    (Y, 3, {"cov": "unscaled"}), (Y, 2, {"full": True}), (Y, 0, {}), (Y, 2, {"rcond": 1e-3}),
])
def test_values_as_numpys(y, deg, kw):
    ref = np.polyfit(X, y, deg, **kw)
    got = np.polyfit(_rg(X), _rg(y), deg, **{k: _rg(v) for k, v in kw.items()})
    for r, g in zip(ref if isinstance(ref, tuple) else (ref,),
                    got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(_np(g), r, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("y", [Y, Y2])
def test_gradients_first_and_second_order(y):
    def f(x, yy, w):
        c, v = np.polyfit(x, yy, 3, w=w, cov=True)
        return c, v
    inputs = tuple(tg.tensor(a, requires_grad=True) for a in (X, y, W))
    assert tg.autograd.gradcheck(f, inputs)
    assert tg.autograd.gradgradcheck(f, inputs)


def test_gradient_through_zero_abscissa():
    x = tg.tensor(np.array([0.0, 1.0, 2.0, 3.0]), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: np.polyfit(t, np.array([1.0, 2.0, 0.5, 3.0]), 2), (x,))


def test_numpy_errors_and_rank_warning():
    x = tg.tensor(X, requires_grad=True)
    with pytest.raises(ValueError, match="expected deg >= 0"):
        np.polyfit(x, Y, -1)
    with pytest.raises(TypeError, match="expected x and y to have same length"):
        np.polyfit(x, Y[:5], 2)
    with pytest.raises(TypeError, match="expected w and y to have the same length"):
        np.polyfit(x, Y, 2, w=W[:3])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        np.polyfit(x[:3], Y[:3], 5)
    assert [r.category for r in rec] == [np.exceptions.RankWarning]
    assert rec[0].filename == __file__


def test_forward_mode_tangent():
    _, t = tg.func.jvp(lambda y: np.polyfit(X, y, 2), (tg.tensor(Y),), (tg.tensor(Y2[:, 1]),))
    np.testing.assert_allclose(t.numpy(), np.polyfit(X, Y2[:, 1], 2), rtol=1e-10, atol=1e-13)


XC = X + 0.25j * X[::-1]
YC = Y + 1j * np.sin(2 * X)


@pytest.mark.parametrize("x, y, kw", [
    (X, YC, {}), (XC, Y, {}), (XC, YC, {"w": W}), (X, np.stack([YC, 2 * YC], 1), {}),
    (XC, YC, {"cov": True}), (XC, YC, {"full": True}),
])
def test_complex_fit_as_numpys(x, y, kw):
    want = np.polyfit(x, y, 2, **kw)
    got = np.polyfit(_rg(x), _rg(y), 2, **kw)
    for w, g in zip(want if isinstance(want, tuple) else (want,),
                    got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(_np(g), w, rtol=1e-10, atol=1e-12)
        assert np.asarray(_np(g)).dtype.kind == np.asarray(w).dtype.kind


def test_complex_fit_gradients():
    def f(xr, xi, yr, yi):
        c = np.polyfit(xr + 1j * xi, yr + 1j * yi, 2)
        return (c.abs() ** 2).sum() + c.real.prod()

    args = tuple(_rg(a) for a in (X, 0.25 * X[::-1], Y, np.sin(2 * X)))
    assert tg.autograd.gradcheck(f, args)
    assert tg.autograd.gradgradcheck(f, args)
