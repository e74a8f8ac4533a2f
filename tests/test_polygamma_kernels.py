"""The compiled polygamma functions (digamma's derivatives): errors in ulps against mpmath over
the whole line, SciPy's values at the poles and infinities, PyTorch's gradients for digamma
and polygamma, finite differences to second order, and no SciPy needed for them."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import _polygamma_kernels as K
from tapegrad.torch_names import elementwise
from tests.op_checks import check_op

_RNG = np.random.default_rng(11)
RANGES = {
    "tiny": 10 ** _RNG.uniform(-300, -1, 60),
    "(0, 2)": _RNG.uniform(0, 2, 120),
    "(2, 30)": _RNG.uniform(2, 30, 120),
    "large": 10 ** _RNG.uniform(1.5, 300, 60),
    "(-10, 0)": _RNG.uniform(-10, 0, 120),
    "large negative": -(10 ** _RNG.uniform(1, 15, 60)),
    "half-integers": -np.arange(60) - 0.5,
}
MAX_ULPS = {1: 4, 2: 8, 3: 10}  # (measured: 4, 6, 8 over 400 arguments a range)


def _reference(n, x):
    mpmath = pytest.importorskip("mpmath")
    if x <= 0 and x == math.floor(x):
        return math.inf if n % 2 else -math.inf
    with mpmath.workprec(300):
        t = mpmath.mpf(float(x))
        if x < 0:  # (mpmath's own is slow far out) the reflection, in 300 bits
            v = (-1) ** n * mpmath.polygamma(n, 1 - t) - mpmath.pi * mpmath.diff(
                lambda u: mpmath.cot(mpmath.pi * u), t, n)
        else:
            v = mpmath.polygamma(n, t)
        return float(v)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("where", list(RANGES))
def test_ulps_against_mpmath(n, where):
    xs = RANGES[where]
    got = K.values(n, xs)
    want = np.array([_reference(n, x) for x in xs])
    fin = np.isfinite(want)
    np.testing.assert_array_equal(got[~fin], want[~fin])
    err = np.abs(got[fin] - want[fin]) / np.maximum(np.spacing(np.abs(want[fin])), 5e-324)
    assert err.max() <= MAX_ULPS[n], (where, err.max())


def test_poles_are_scipys_and_infinities_pytorchs():
    """SciPy's signed infinities at the poles; at -inf and +inf PyTorch's values (trigamma:
    NaN and 0; higher orders: the pole's infinity and NaN)."""
    x = np.array([0.0, -0.0, -1.0, -7.0, -2.0 ** 60, -np.inf, np.inf, np.nan, 1e-300])
    for n, pole in ((1, np.inf), (2, -np.inf), (3, np.inf), (4, -np.inf)):
        got = K.values(n, x)
        np.testing.assert_array_equal(got[:5], pole)
        if n == 1:
            assert np.isnan(got[5]) and got[6] == 0.0 and math.copysign(1.0, got[6]) == 1.0
        else:
            assert got[5] == pole and np.isnan(got[6])
        assert np.isnan(got[7]) and got[8] == pole  # (psi^(n)(1e-300) overflows)
    sp = pytest.importorskip("scipy.special")
    xs = np.concatenate([x[:5], x[7:], np.linspace(-4.9, 5.1, 101)])
    for n in (1, 2, 3):
        np.testing.assert_allclose(K.values(n, xs), sp.polygamma(n, xs), rtol=1e-13)


def test_vectorised_loop_agrees_with_the_scalar_one():
    """trigamma's branch-free loop (with the reflection pass) and the general loop at n = 1."""
    x = np.concatenate([_RNG.uniform(-50, 50, 5000), 10 ** _RNG.uniform(-5, 20, 5000)])
    fast = K.values(1, x)
    slow = np.empty_like(x)
    K.polygamma(1, x, slow, *K._params(1))
    np.testing.assert_allclose(fast, slow, rtol=4e-15)  # (each within 4 ulps of mpmath)


def test_float32_and_shapes():
    x = _RNG.uniform(-3.0, 6.0, (4, 5)).astype(np.float32)
    sp = pytest.importorskip("scipy.special")
    got = tg.polygamma(1, tg.tensor(x))
    assert got.dtype == np.float32 and got.shape == (4, 5)
    np.testing.assert_allclose(got.numpy(), sp.polygamma(1, x.astype(np.float64)), rtol=2e-6)
    assert tg.polygamma(2, tg.tensor(2.5)).shape == ()
    assert tg.polygamma(1, tg.zeros(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_digamma_and_polygamma_gradients_match_pytorch(dtype):
    torch = pytest.importorskip("torch")
    x = np.concatenate([_RNG.uniform(0.05, 20.0, 40), _RNG.uniform(-6.0, 0.0, 24)])
    x = x.reshape(8, 8).astype(dtype)
    rtol = 1e-7 if dtype == np.float64 else 1e-4  # (PyTorch's trigamma: ~1e-8 relative)
    for f in (lambda L, t: L.digamma(t), lambda L, t: L.polygamma(1, t),
              lambda L, t: L.polygamma(2, t)):
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = _RNG.standard_normal(x.shape).astype(dtype)
        ya, yb = f(tg, a), f(torch, b)
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=rtol)
        ya.backward(tg.tensor(g))
        yb.backward(torch.tensor(g))
        assert a.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_finite_differences_to_second_order(n):
    x = np.array([0.3, 1.7, 4.2, 25.0, -0.4, -2.6])
    check_op(lambda t: tg.polygamma(n, t), [x], order=2)


def test_orders_from_one_need_no_scipy(monkeypatch):
    def missing(name):
        raise ImportError(f"tapegrad needs SciPy for {name}")

    sp = pytest.importorskip("scipy.special")  # (the reference only, imported before the patch)
    monkeypatch.setattr(elementwise, "_scipy", missing)
    x = tg.tensor([0.5, 3.0, -1.5], requires_grad=True)
    y = tg.polygamma(1, x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), sp.polygamma(2, x.detach().numpy()), rtol=1e-13)
    with pytest.raises(ImportError, match="psi"):
        tg.digamma(x)
