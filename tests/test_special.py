"""``tg.special``: PyTorch's ``torch.special`` names for tapegrad's special functions; values
and derivatives to the second order against PyTorch, the compositions (``ndtr``,
``multigammaln``) against ``math`` and finite differences."""

import math

import numpy as np
import pytest

import tapegrad as tg

X = np.array([-40.0, -3.0, -0.5, 0.0, 0.7, 2.5, 6.0])
POSITIVE = np.abs(X) + 0.1
UNIT = np.array([0.1, 0.3, 0.5, 0.9])
ONE_ARG = {"ndtr": X, "expit": X, "gammaln": POSITIVE, "psi": POSITIVE, "digamma": POSITIVE,
           "erf": X, "erfc": X, "erfinv": UNIT, "exp2": X, "log1p": POSITIVE, "expm1": X,
           "logit": UNIT, "sinc": X[X != 0.0]}


def _derivatives(L, name, x0):
    x = L.tensor(x0, requires_grad=True)
    y = getattr(L.special, name)(x)
    (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = L.autograd.grad(g.sum(), x)
    return [t.detach().numpy() for t in (y, g, h)]


@pytest.mark.parametrize("name", sorted(ONE_ARG))
def test_functions_of_one_argument_as_pytorchs(name):
    ours = _derivatives(tg, name, ONE_ARG[name])
    assert all(np.isfinite(a).all() for a in ours)
    torch = pytest.importorskip("torch")
    # (PyTorch's trigamma is off by up to ~5e-10 where tapegrad's is within 1e-15: below)
    rtol = 1e-9 if name in ("gammaln", "psi", "digamma") else 1e-12
    for a, b in zip(ours, _derivatives(torch, name, ONE_ARG[name])):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-300)


def test_trigamma_to_the_last_bits():
    mpmath = pytest.importorskip("mpmath")
    got = tg.special.polygamma(1, tg.tensor(POSITIVE)).numpy()
    np.testing.assert_allclose(got, [float(mpmath.psi(1, v)) for v in POSITIVE], rtol=1e-15)


def test_ndtr_and_multigammaln():
    want = [0.5 * math.erfc(-v / math.sqrt(2.0)) for v in X]
    np.testing.assert_allclose(tg.special.ndtr(tg.tensor(X)).numpy(), want, rtol=4e-15)
    x = tg.tensor(X[1:], requires_grad=True)
    tg.special.ndtr(x).sum().backward()  # the normal density
    np.testing.assert_allclose(x.grad.numpy(), np.exp(-X[1:] ** 2 / 2) / math.sqrt(2 * math.pi),
                               rtol=1e-14)
    a = np.array([2.5, 3.0, 4.2])
    got = tg.special.multigammaln(tg.tensor(a), 3).numpy()
    want = [3 * 2 / 4 * math.log(math.pi) + sum(math.lgamma(v - j / 2) for j in range(3))
            for v in a]
    np.testing.assert_allclose(got, want, rtol=1e-14)
    for f in (tg.special.ndtr, lambda t: tg.special.multigammaln(t, 4)):
        t = tg.tensor(a, requires_grad=True)
        assert tg.autograd.gradcheck(f, (t,)) and tg.autograd.gradgradcheck(f, (t,))
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        tg.special.multigammaln(tg.tensor(a), 0)


def test_softmax_family_and_aliases():
    x = tg.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(tg.special.softmax(x, 1).numpy(), tg.softmax(x, 1).numpy())
    assert tg.special.softmax(x, 1, dtype=tg.float32).dtype == tg.float32
    np.testing.assert_allclose(tg.special.log_softmax(x, dim=-1).numpy(),
                               tg.log_softmax(x, -1).numpy())
    np.testing.assert_allclose(tg.special.logsumexp(x, 1).numpy(), [3.40760596444438], rtol=1e-14)
    assert tg.special.round(tg.tensor([1.26]), decimals=1).item() == 1.3
    assert tg.special.polygamma(1, tg.tensor([1.0])).item() == pytest.approx(math.pi ** 2 / 6,
                                                                            rel=1e-14)
    assert tg.special.xlogy(tg.tensor([0.0, 2.0]), tg.tensor([0.0, 3.0])).tolist() == \
        [0.0, 2.0 * math.log(3.0)]


def test_sinc_derivatives_at_zero():
    """sinc at 0: 1, and its derivatives 0, -pi²/3, 0, pi⁴/5 (PyTorch: nan from the second)."""
    x = tg.tensor([0.0, 0.5], requires_grad=True)
    d = tg.special.sinc(x)
    got = [d.detach().numpy()[0]]
    for _ in range(4):
        (d,) = tg.autograd.grad(d.sum(), x, create_graph=True)
        got.append(d.detach().numpy()[0])
    np.testing.assert_allclose(got, [1.0, 0.0, -math.pi ** 2 / 3, 0.0, math.pi ** 4 / 5],
                               rtol=1e-14, atol=1e-15)
    assert tg.autograd.gradgradcheck(tg.special.sinc, (tg.tensor([0.3, -1.2], requires_grad=True),))


SCIPY_VALUED = {"ndtri": lambda r: r.random(6) * 0.9 + 0.05,
                "log_ndtr": lambda r: r.standard_normal(6) * 3,
                "erfcx": lambda r: r.standard_normal(6) * 2,
                "i0": lambda r: r.standard_normal(6) * 3, "i0e": lambda r: r.standard_normal(6) * 3,
                "i1": lambda r: r.standard_normal(6) * 3, "i1e": lambda r: r.standard_normal(6) * 3,
                "entr": lambda r: r.random(6) + 0.1}


@pytest.mark.parametrize("name", sorted(SCIPY_VALUED))
def test_scipy_valued_special_functions(name):
    pytest.importorskip("scipy")
    from tests.op_checks import check_op

    x = SCIPY_VALUED[name](np.random.default_rng(0))
    check_op(getattr(tg.special, name), [x], order=2)
    torch = pytest.importorskip("torch")
    edges = {"i1": [0.0, 5.0], "i1e": [0.0, -7.0], "log_ndtr": [-30.0, 40.0], "entr": [0.0, -1.0]}
    v = np.r_[x, edges.get(name, [])]
    xt, xg = torch.tensor(v, requires_grad=True), tg.tensor(v, requires_grad=True)
    a, b = getattr(torch.special, name)(xt), getattr(tg.special, name)(xg)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-13, atol=1e-300)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_xlog1py():
    torch = pytest.importorskip("torch")
    x, y = np.array([0.0, 0.0, 1.0, 2.0, 0.0]), np.array([2.0, -1.0, 3.0, -0.5, -2.0])
    ts = [torch.tensor(a, requires_grad=True) for a in (x, y)]
    gs = [tg.tensor(a, requires_grad=True) for a in (x, y)]
    a, b = torch.special.xlog1py(*ts), tg.special.xlog1py(*gs)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-14)
    a.sum().backward()
    b.sum().backward()
    for t, g in zip(ts, gs):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def test_bessel_derivatives_near_zero():
    """i1's derivative i0(x) - i1(x)/x differentiated again: the quotient is its series for
    |x| < 1 (i1'' came out 2e284 at x = 1e-300 and 24576 at 1e-20, i1e'' inf). Near 0+:
    i1'' = 3x/8, i1''' = 3/8, i1e'' = -1, i1e''' = 15/8, i0e''' = -5/2 (PyTorch: 0 or nan)."""
    x0 = np.array([1e-300, 1e-20, 1e-8, -1e-200])
    expect = {"i1": (3 * x0 / 8, np.full(4, 3 / 8)),
              "i1e": (-np.sign(x0), np.full(4, 15 / 8)),
              "i0": (np.full(4, 0.5), 3 * x0 / 8),
              "i0e": (np.full(4, 1.5), -2.5 * np.sign(x0))}
    for name, (second, third) in expect.items():
        x = tg.tensor(x0, requires_grad=True)
        d = getattr(tg.special, name)(x)
        got = []
        for _ in range(3):
            (d,) = tg.autograd.grad(d.sum(), x, create_graph=True)
            got.append(d.detach().numpy())
        np.testing.assert_allclose(got[1], second, rtol=1e-7, atol=0, err_msg=name)
        np.testing.assert_allclose(got[2], third, rtol=1e-7, atol=0, err_msg=name)
    for name in ("i1", "i1e"):  # on both sides of the switch to the series at |x| = 1
        x = tg.tensor([0.999, 1.0, 1.001, -0.9995, 1e-3], requires_grad=True)
        assert tg.autograd.gradgradcheck(getattr(tg.special, name), (x,), atol=1e-7, rtol=1e-6)


def test_zeta_differentiable_in_q():
    """Hurwitz's zeta: SciPy's values, d/dq = -x zeta(x + 1, q) to every order; in x,
    PyTorch's NotImplementedError at backward."""
    pytest.importorskip("scipy")
    x, q = np.array([2.0, 3.5, 1.5, 4.0]), np.array([0.5, 1.0, 2.5, 3.0])
    qt = tg.tensor(q, requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda b: tg.special.zeta(tg.tensor(x), b), (qt,))
    np.testing.assert_allclose(tg.special.zeta(2.0, tg.tensor([1.0])).numpy(), [math.pi ** 2 / 6],
                               rtol=1e-15)
    assert tg.special.zeta(tg.tensor([2.0], dtype=tg.float32), 2.0).dtype == tg.float32
    xt = tg.tensor(x, requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
        tg.special.zeta(xt, tg.tensor(q)).sum().backward()
    with pytest.raises(NotImplementedError, match="\"zeta_cpu\" not implemented for 'ComplexFloat'"):
        tg.special.zeta(2.0, tg.tensor([1.0 + 1j], dtype=tg.complex64))
    torch = pytest.importorskip("torch")
    got, want = [], []
    for L, out in ((tg, got), (torch, want)):
        b = L.tensor(q, requires_grad=True)
        y = L.special.zeta(L.tensor(x), b)
        (g,) = L.autograd.grad(y.sum(), b, create_graph=True)
        (h,) = L.autograd.grad(g.sum(), b)
        out.extend(t.detach().numpy() for t in (y, g, h))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
