"""tg.distributions beyond the first set: Gamma, Chi2, Beta, Dirichlet, Poisson, Binomial,
Geometric, OneHotCategorical, Cauchy, StudentT, LogNormal, HalfNormal, HalfCauchy, Gumbel and
the transforms. Values, moments and gradients against PyTorch (with broadcast batches); finite
differences (first and second order) without it; sample shapes and moments; the implicit
reparameterisation gradient of gamma draws against the quantile function; validation errors in
PyTorch's words."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tests.distribution_checks import (as_np as _np, assert_same_error,
                                       assert_shapes_support_and_expand_match,
                                       assert_values_and_gradients_match)
from tests.op_checks import check_op, needs_torch, torch

D = tg.distributions
rng = np.random.default_rng(7)
C = rng.random((3, 1)) * 2 + 0.5  # a positive parameter over a (3, 1) batch
R = rng.random(2) + 0.5  # one over (2,): the two broadcast to (3, 2)
POS = rng.random((4, 3, 2)) * 3 + 0.1
UNIT = rng.random((4, 3, 2)) * 0.9 + 0.05
REAL = rng.standard_normal((4, 3, 2)) * 2
DF = np.array([[0.5], [1.5], [3.0]])  # StudentT's three mean/variance regimes

# name -> (parameters (arrays are differentiated; keyword ones by name), value)
CASES = {
    "Gamma": ((C, R), POS),
    "Gamma-small": ((np.array([0.05, 0.3, 7.0]), 2.0), POS[..., :1]),
    "Chi2": ((C * 2,), POS),
    "Beta": ((C, R), UNIT),
    "Dirichlet": ((rng.random((3, 4)) + 0.3,), rng.dirichlet(np.ones(4), (2, 3))),
    "Poisson": ((C,), rng.integers(0, 6, (4, 3, 2)) * 1.0),
    "LogNormal": ((C - 1, R), POS),
    "StudentT": ((DF, R, 0.7), REAL),
    "Cauchy": ((C - 1, R), REAL),
    "HalfNormal": ((C,), POS),
    "HalfCauchy": ((C,), POS),
    "Gumbel": ((C - 1, R), REAL),
    "Binomial": ((5.0, {"probs": UNIT[0]}), rng.integers(0, 6, (4, 3, 2)) * 1.0),
    "Binomial-logits": ((np.full((3, 1), 4.0), {"logits": REAL[0]}),
                        rng.integers(0, 5, (4, 3, 2)) * 1.0),
    "Geometric": (({"probs": UNIT[0]},), rng.integers(0, 6, (4, 3, 2)) * 1.0),
    "Geometric-logits": (({"logits": REAL[0]},), rng.integers(0, 6, (4, 3, 2)) * 1.0),
    "OneHotCategorical": (({"logits": rng.standard_normal((3, 4))},),
                          np.eye(4)[rng.integers(0, 4, (2, 3))]),
}
NO_GRAD = {"Binomial": 0, "Binomial-logits": 0}  # total_count: not a differentiable parameter


def _make(lib, name, params, grad=True):
    """The distribution ``name`` of ``lib`` and its differentiable leaves."""
    leaves, args, kwargs = [], [], {}
    skip = NO_GRAD.get(name)
    for i, p in enumerate(params):
        for key, v in (p.items() if isinstance(p, dict) else [(None, p)]):
            if isinstance(v, np.ndarray):
                v = lib.tensor(v, requires_grad=grad and i != skip)
                if i != skip:
                    leaves.append(v)
            elif key is None and name.startswith("Binomial"):
                v = lib.tensor(v)
            if key is None:
                args.append(v)
            else:
                kwargs[key] = v
    dist = getattr(lib.distributions, name.split("-")[0])
    return dist(*args, **kwargs), leaves


# PyTorch's trigamma, in entropy's gradients, differs by ~1e-9: gradients to 1e-8
@needs_torch
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_pytorch(name):
    params, value = CASES[name]
    assert_values_and_gradients_match(lambda lib: _make(lib, name, params), value, value,
                                      rtol=1e-10, atol=1e-13, grad_rtol=1e-8, grad_atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", CASES)
def test_shapes_support_constraints_and_expand_match_pytorch(name):
    params, _ = CASES[name]
    assert_shapes_support_and_expand_match(_make(torch, name, params, grad=False)[0],
                                           _make(tg, name, params, grad=False)[0], np.float64,
                                           rtol=1e-10)


FD = {  # torch-free finite-difference checks: (distribution of the arrays, its value)
    "Gamma": (lambda c, r: D.Gamma(c, r), [C, R], POS),
    "Chi2": (lambda df: D.Chi2(df), [C * 2], POS),
    "Beta": (lambda a, b: D.Beta(a, b), [C, R], UNIT),
    "Dirichlet": (lambda c: D.Dirichlet(c), [CASES["Dirichlet"][0][0]],
                  CASES["Dirichlet"][1]),
    "Poisson": (lambda r: D.Poisson(r), [C], CASES["Poisson"][1]),
    "LogNormal": (lambda m, s: D.LogNormal(m, s), [C - 1, R], POS),
    "StudentT": (lambda df, m, s: D.StudentT(df, m, s), [DF + 0.2, R, C], REAL),
    "Cauchy": (lambda m, s: D.Cauchy(m, s), [C - 1, R], REAL),
    "HalfNormal": (lambda s: D.HalfNormal(s), [C], POS),
    "HalfCauchy": (lambda s: D.HalfCauchy(s), [C], POS),
    "Gumbel": (lambda m, s: D.Gumbel(m, s), [C - 1, R], REAL),
    "Binomial": (lambda lg: D.Binomial(tg.tensor(5.0), logits=lg), [REAL[0]],
                 CASES["Binomial"][1]),
    "Geometric": (lambda p: D.Geometric(probs=p), [UNIT[0]], CASES["Geometric"][1]),
    "OneHotCategorical": (lambda lg: D.OneHotCategorical(logits=lg),
                          [CASES["OneHotCategorical"][0][0]["logits"]],
                          CASES["OneHotCategorical"][1]),
}


@pytest.mark.parametrize("name", FD)
def test_finite_differences(name):
    make, arrays, value = FD[name]
    v = tg.tensor(value)
    check_op(lambda *ps: make(*ps).log_prob(v), arrays, order=2)
    if name not in ("Poisson",):
        check_op(lambda *ps: make(*ps).entropy(), arrays, order=2)
    if name in ("Gamma", "Chi2", "LogNormal", "Cauchy", "HalfNormal", "Gumbel"):
        check_op(lambda *ps: make(*ps).cdf(v), arrays, order=2)


def test_gamma_cdf_differentiates_in_concentration_and_value():
    # P(a, x): d/da by the Richardson-extrapolated difference, d/dx exactly; both twice
    a, x = rng.random((3, 1)) * 3 + 0.2, rng.random((3, 4)) * 4 + 0.05
    check_op(lambda a, x: D.incgamma.gammainc(a, x), [a, x], order=2)


@pytest.mark.parametrize("a", [0.01, 0.3, 1.0, 4.0, 60.0, 3000.0])
def test_standard_gamma_grad_is_the_quantile_derivative(a):
    sp = pytest.importorskip("scipy.special")
    # x(a) = P^-1(a, u) at a fixed quantile u: dx/da = x d(log x)/da, the latter a central
    # difference of log gammaincinv (smooth where x itself varies over decades, small a)
    u = np.array([0.01, 0.2, 0.5, 0.8, 0.99])
    x = sp.gammaincinv(a, u)
    h = 1e-4 * min(a, 1.0)
    fd = x * (np.log(sp.gammaincinv(a + h, u)) - np.log(sp.gammaincinv(a - h, u))) / (2 * h)
    got = _np(D.incgamma.standard_gamma_grad(tg.tensor(np.full(5, a)), tg.tensor(x)))
    np.testing.assert_allclose(got, fd, rtol=1e-6)


def test_standard_gamma_grad_matches_pytorchs_approximation():
    torch = pytest.importorskip("torch")
    a = np.repeat([0.1, 0.7, 2.0, 9.0, 150.0], 200)
    x = np.maximum(np.random.default_rng(1).gamma(a), 1e-300)
    got = _np(D.incgamma.standard_gamma_grad(tg.tensor(a), tg.tensor(x)))
    ref = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, rtol=2e-3)  # (PyTorch's is a fitted approximation)


def test_gamma_rsample_second_order():
    # d²x/da² of a draw held at its quantile: the derivative of dx/da along the draw
    tg.manual_seed(4)
    a = tg.tensor([0.4, 2.0, 11.0], requires_grad=True)
    x = D.Gamma(a, 1.0).rsample()
    (g,) = tg.autograd.grad(x.sum(), a, create_graph=True)
    (gg,) = tg.autograd.grad(g.sum(), a)
    sp = pytest.importorskip("scipy.special")
    av, xv = a.detach().numpy(), x.detach().numpy()
    u = sp.gammainc(av, xv)
    h = 1e-3 * np.minimum(av, 1.0)
    q = [sp.gammaincinv(av + k * h, u) for k in (-1, 0, 1)]
    np.testing.assert_allclose(g.detach().numpy(), (q[2] - q[0]) / (2 * h), rtol=1e-5)
    np.testing.assert_allclose(gg.numpy(), (q[2] - 2 * q[1] + q[0]) / h ** 2, rtol=1e-3)


RSAMPLE = {  # distributions with a finite mean: (make from the arrays, arrays)
    "Gamma": (lambda c, r: D.Gamma(c, r), [C, R]),
    "Chi2": (lambda df: D.Chi2(df), [C * 2]),
    "Beta": (lambda a, b: D.Beta(a, b), [C, R]),
    "Dirichlet": (lambda c: D.Dirichlet(c), [CASES["Dirichlet"][0][0]]),
    "LogNormal": (lambda m, s: D.LogNormal(m, s * 0.5), [C - 1, R]),
    "StudentT": (lambda df, m, s: D.StudentT(df, m, s), [DF + 3, R, C]),
    "HalfNormal": (lambda s: D.HalfNormal(s), [C]),
    "Gumbel": (lambda m, s: D.Gumbel(m, s), [C - 1, R]),
}


@pytest.mark.parametrize("name", RSAMPLE)
def test_rsample_moments_and_pathwise_gradient(name):
    make, arrays = RSAMPLE[name]
    tg.manual_seed(11)
    ps = [tg.tensor(a, requires_grad=True) for a in arrays]
    d = make(*ps)
    n = 40000
    s = d.rsample((n,))
    assert s.shape == (n,) + d.batch_shape + d.event_shape
    assert d.sample().shape == d.batch_shape + d.event_shape and not d.sample().requires_grad
    sd = np.sqrt(_np(d.variance) / n)
    np.testing.assert_allclose(_np(s).mean(0), _np(d.mean), atol=6 * sd.max())
    # d E[x] / d params, the sample mean's pathwise gradient, is the derivative of the mean
    s.mean(0).sum().backward()
    expect = tg.autograd.grad(make(*ps).mean.sum(), ps, allow_unused=True,
                              materialize_grads=True)
    for p, e in zip(ps, expect):
        np.testing.assert_allclose(_np(p.grad), _np(e), atol=0.04 * max(1, np.abs(_np(e)).max()))


@pytest.mark.parametrize("name,make,support", [
    ("Poisson", lambda: D.Poisson(tg.tensor(C)), None),
    ("Binomial", lambda: D.Binomial(tg.tensor(np.full((3, 1), 6.0)), tg.tensor(UNIT[0])), 6),
    ("Geometric", lambda: D.Geometric(tg.tensor(UNIT[0] * 0.5 + 0.3)), None),
    ("OneHotCategorical", lambda: D.OneHotCategorical(logits=tg.tensor(REAL[0, :, :1] *
                                                                       np.arange(4))), None),
    ("Cauchy", lambda: D.Cauchy(tg.tensor(C - 1), tg.tensor(R)), None),
    ("HalfCauchy", lambda: D.HalfCauchy(tg.tensor(C)), None),
])
def test_sample_shapes_and_statistics(name, make, support):
    tg.manual_seed(5)
    d = make()
    n = 40000
    s = d.sample((n,))
    assert s.shape == (n,) + d.batch_shape + d.event_shape and s.dtype == np.float64
    assert np.all(d.support.check(s))
    if name in ("Cauchy", "HalfCauchy"):  # (no mean: the median instead)
        med = _np(d.icdf(tg.full(d.batch_shape, 0.5, dtype=tg.float64)))
        np.testing.assert_allclose(np.median(_np(s), 0), med, atol=0.05 * med.max() + 0.05)
        return
    sd = np.sqrt(_np(d.variance) / n)
    np.testing.assert_allclose(_np(s).mean(0), _np(d.mean), atol=6 * sd.max())
    if support is not None:
        assert _np(s).max() <= support


def test_transforms_invert_and_log_det():
    torch = pytest.importorskip("torch")
    T = D.transforms
    x = rng.standard_normal((3, 2))
    loc, scale = rng.standard_normal(2), rng.random(2) + 0.5
    pairs = [(T.ExpTransform(), torch.distributions.ExpTransform()),
             (T.SigmoidTransform(), torch.distributions.SigmoidTransform()),
             (T.TanhTransform(), torch.distributions.TanhTransform()),
             (T.AffineTransform(tg.tensor(loc), tg.tensor(-scale)),
              torch.distributions.AffineTransform(torch.tensor(loc), torch.tensor(-scale))),
             (T.AffineTransform(1.5, 2.0), torch.distributions.AffineTransform(1.5, 2.0)),
             (T.ComposeTransform([T.AffineTransform(0.5, 0.3), T.TanhTransform()]),
              torch.distributions.ComposeTransform([torch.distributions.AffineTransform(
                  0.5, 0.3), torch.distributions.TanhTransform()]))]
    for tgt, tt in pairs:
        y, yt = tgt(tg.tensor(x)), tt(torch.tensor(x))
        np.testing.assert_allclose(_np(y), yt.numpy(), rtol=1e-12)
        np.testing.assert_allclose(_np(tgt.inv(y)), tt.inv(yt).numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(tgt.log_abs_det_jacobian(tg.tensor(x), y)),
                                   tt.log_abs_det_jacobian(torch.tensor(x), yt).numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(tgt.inv.log_abs_det_jacobian(y, tg.tensor(x))),
                                   tt.inv.log_abs_det_jacobian(yt, torch.tensor(x)).numpy(),
                                   rtol=1e-10, atol=1e-12)
        assert tgt.inv.inv is tgt and repr(tgt.codomain) == repr(tt.codomain)
        assert tgt.bijective == tt.bijective
    check_op(lambda a: T.TanhTransform().log_abs_det_jacobian(a, a.tanh()), [x * 5])
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.TanhTransform()
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_transformed_distribution_logistic_matches_pytorch():
    torch = pytest.importorskip("torch")
    T, TT = D.transforms, torch.distributions
    a, b = rng.standard_normal(3), rng.random(3) + 0.5
    v = rng.standard_normal((5, 3))
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ag, bg = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    dt = TT.TransformedDistribution(TT.Uniform(torch.zeros(3, dtype=torch.float64), 1.0),
                                    [TT.SigmoidTransform().inv, TT.AffineTransform(at, bt)])
    dg = D.TransformedDistribution(D.Uniform(tg.zeros(3), 1.0),
                                   [T.SigmoidTransform().inv, T.AffineTransform(ag, bg)])
    lt, lg = dt.log_prob(torch.tensor(v)), dg.log_prob(tg.tensor(v))
    np.testing.assert_allclose(_np(lg), lt.detach().numpy(), rtol=1e-10)
    for what in ("cdf", "icdf"):
        q = np.clip(np.abs(v) / 3, 0.01, 0.99) if what == "icdf" else v
        np.testing.assert_allclose(_np(getattr(dg, what)(tg.tensor(q))),
                                   getattr(dt, what)(torch.tensor(q)).detach().numpy(),
                                   rtol=1e-10)
    lt.sum().backward()
    lg.sum().backward()
    np.testing.assert_allclose(_np(ag.grad), at.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(bg.grad), bt.grad.numpy(), rtol=1e-10)
    assert dg.has_rsample and dg.rsample((7,)).shape == (7, 3)
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")


def test_kl_divergences_match_pytorch():
    torch = pytest.importorskip("torch")
    cn = CASES["Dirichlet"][0][0]
    pairs = [("Gamma", (C, R), (R, C)), ("Chi2", (C,), (R,)), ("Beta", (C, R), (R * 2, C)),
             ("Dirichlet", (cn,), (cn[::-1].copy(),)), ("Poisson", (C,), (R,)),
             ("Cauchy", (C - 1, R), (R, C)), ("Gumbel", (C - 1, R), (R, C)),
             ("HalfNormal", (C,), (R,)), ("LogNormal", (C - 1, R), (R, C)),
             ("Geometric", (UNIT[0],), (UNIT[1],)),
             ("Binomial", (5.0, UNIT[0]), (5.0, UNIT[1])),
             ("OneHotCategorical", (cn,), (cn[::-1].copy(),))]
    for name, a, b in pairs:
        grads = []
        for lib in (torch, tg):
            def make(ps):
                leaves = [lib.tensor(p, requires_grad=True) if isinstance(p, np.ndarray)
                          else lib.tensor(p) for p in ps]
                return getattr(lib.distributions, name)(*leaves), leaves
            (p, lp), (q, lq) = make(a), make(b)
            kl = lib.distributions.kl_divergence(p, q)
            kl.sum().backward()
            grads.append((kl.detach().numpy(), [t.grad.numpy() for t in lp + lq
                                                if t.grad is not None]))
        (kt, gt), (kg, gg) = grads
        np.testing.assert_allclose(kg, kt, rtol=1e-10, atol=1e-13, err_msg=name)
        for x, y in zip(gg, gt):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12, err_msg=name)
    check_op(lambda a, b: D.kl_divergence(D.Gamma(a, b), D.Gamma(b, a)), [C, R], order=2)
    check_op(lambda c: D.kl_divergence(D.Dirichlet(c), D.Dirichlet(c.flip(-1))), [cn], order=2)


INVALID = [
    ("Gamma", lambda lib: lib.distributions.Gamma(lib.tensor([1.0]), lib.tensor([-1.0]))),
    ("Chi2", lambda lib: lib.distributions.Chi2(lib.tensor([-1.0]))),
    ("Beta", lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([-1.0]))),
    ("Dirichlet", lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, -1.0]))),
    ("Dirichlet-0d", lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0))),
    ("Poisson", lambda lib: lib.distributions.Poisson(lib.tensor([-1.0]))),
    ("LogNormal", lambda lib: lib.distributions.LogNormal(lib.tensor([0.0]),
                                                          lib.tensor([-1.0]))),
    ("StudentT", lambda lib: lib.distributions.StudentT(lib.tensor([-1.0]))),
    ("StudentT-scale", lambda lib: lib.distributions.StudentT(lib.tensor([1.0]), 0.0,
                                                              lib.tensor([-1.0]))),
    ("Cauchy", lambda lib: lib.distributions.Cauchy(lib.tensor(0.0), lib.tensor(-1.0))),
    ("HalfNormal", lambda lib: lib.distributions.HalfNormal(lib.tensor([-1.0]))),
    ("HalfCauchy", lambda lib: lib.distributions.HalfCauchy(lib.tensor([-1.0]))),
    ("Gumbel", lambda lib: lib.distributions.Gumbel(lib.tensor([0.0]), lib.tensor([-1.0]))),
    ("Binomial", lambda lib: lib.distributions.Binomial(lib.tensor([2.5]),
                                                        probs=lib.tensor([0.5]))),
    ("Binomial-both", lambda lib: lib.distributions.Binomial(2, lib.tensor([0.5]),
                                                             lib.tensor([0.5]))),
    ("Geometric-0", lambda lib: lib.distributions.Geometric(probs=lib.tensor([0.0, 0.5]))),
    ("Geometric-big", lambda lib: lib.distributions.Geometric(probs=lib.tensor([1.5]))),
    ("OneHot", lambda lib: lib.distributions.OneHotCategorical(probs=lib.tensor([0.5, -0.2]))),
    ("MVN-not-pd", lambda lib: lib.distributions.MultivariateNormal(
        lib.tensor([0.0, 0.0]), lib.tensor([[1.0, 2.0], [2.0, 1.0]]))),
    ("value-shape", lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]), 1.0)
     .log_prob(lib.tensor([1.0, 1.0, 1.0]))),
    ("value-event-shape", lambda lib: lib.distributions.MultivariateNormal(
        lib.tensor([0.0, 0.0]), lib.eye(2)).log_prob(lib.tensor([1.0, 1.0, 1.0]))),
    ("Independent-value", lambda lib: lib.distributions.Independent(
        lib.distributions.Exponential(lib.tensor([1.0, 1.0])), 1).log_prob(lib.tensor([-1.0, 1.0]))),
    ("Binomial-0d-value", lambda lib: lib.distributions.Binomial(5, lib.tensor(0.5))
     .log_prob(lib.tensor(6.0))),
    ("Binomial-value", lambda lib: lib.distributions.Binomial(
        lib.tensor([3.0, 4.0]), probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([5.0, 1.0]))),
    ("Poisson-value", lambda lib: lib.distributions.Poisson(lib.tensor([1.0])).log_prob(
        lib.tensor([0.5]))),
    ("Beta-value", lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([1.0]))
     .log_prob(lib.tensor([1.5]))),
    ("Dirichlet-value", lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, 1.0]))
     .log_prob(lib.tensor([0.6, 0.6]))),
    ("LogNormal-value", lambda lib: lib.distributions.LogNormal(lib.tensor(0.0),
                                                                lib.tensor(1.0))
     .log_prob(lib.tensor(-1.0))),
    ("Gumbel-value", lambda lib: lib.distributions.Gumbel(lib.tensor(0.0), lib.tensor(1.0))
     .log_prob(lib.tensor(float("nan")))),
    ("OneHot-value", lambda lib: lib.distributions.OneHotCategorical(
        probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([1.0, 1.0]))),
    ("Gamma-value", lambda lib: lib.distributions.Gamma(1.0, 1.0).log_prob(lib.tensor(-1.0))),
    ("HalfNormal-value", lambda lib: lib.distributions.HalfNormal(lib.tensor(1.0))
     .log_prob(lib.tensor(-1.0))),
    ("Binomial-entropy", lambda lib: lib.distributions.Binomial(
        lib.tensor([3.0, 4.0]), probs=lib.tensor([0.5, 0.5])).entropy()),
    ("Poisson-entropy", lambda lib: lib.distributions.Poisson(lib.tensor(1.0)).entropy()),
    ("Gamma-icdf", lambda lib: lib.distributions.Gamma(lib.tensor(1.0), 1.0)
     .icdf(lib.tensor(0.5))),
]


@needs_torch
@pytest.mark.parametrize("name,make", INVALID, ids=[i[0] for i in INVALID])
def test_validation_errors_are_pytorchs(name, make):
    assert_same_error(make)


def test_validation_can_be_turned_off():
    D.Gamma(tg.tensor([1.0]), tg.tensor([-1.0]), validate_args=False)
    D.Beta(tg.tensor([1.0]), tg.tensor([-1.0]), validate_args=False)
    assert np.isnan(_np(D.StudentT(tg.tensor(0.5)).mean))  # (df <= 1: no mean)
    b = D.Binomial(tg.tensor([3.0]), probs=tg.tensor([0.4]))
    assert b.enumerate_support().tolist() == [[0.0], [1.0], [2.0], [3.0]]
    oh = D.OneHotCategorical(logits=tg.zeros((2, 3)))
    assert oh.enumerate_support().shape == (3, 2, 3)
    assert oh.enumerate_support(expand=False).shape == (3, 1, 3)


def test_scalar_parameters_sample_and_moments():
    """0-d parameters given as numbers: draws of shape (), moments of 0-d tensors."""
    for d in (D.Poisson(2.0), D.Binomial(5, probs=0.3), D.Geometric(probs=0.3)):
        assert d.sample().shape == () and d.sample((2, 3)).shape == (2, 3)
    rate = tg.tensor(1.3, requires_grad=True)
    var = D.Exponential(rate).variance  # (a 0-d x ** -2)
    assert float(var.detach()) == pytest.approx(1.3 ** -2, rel=1e-15)
    check_op(lambda r: D.Exponential(r).variance, [np.array(1.3)], order=2)


def test_uniform_support_is_closed():
    # (PyTorch's: log_prob at ``high`` is -inf, not a validation error)
    d = D.Uniform(tg.tensor(0.0), tg.tensor(1.0))
    assert float(d.log_prob(tg.tensor(1.0))) == -np.inf
    assert repr(d.support) == "Interval(lower_bound=0.0, upper_bound=1.0)"


def test_unimplemented_moments_raise_not_implemented():
    d = D.TransformedDistribution(D.Normal(tg.tensor(0.0), 1.0), [D.transforms.ExpTransform()])
    for what in ("mean", "variance", "stddev"):
        with pytest.raises(NotImplementedError):
            getattr(d, what)
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        d.mode
    with pytest.raises(NotImplementedError):
        D.Bernoulli(tg.tensor(0.3)).rsample()


@needs_torch
def test_independent_support_and_integer_bounds_reprs_are_pytorchs():
    cases = [lambda lib: lib.distributions.Independent(lib.distributions.Beta(
                 lib.tensor([1.0, 2.0]), lib.tensor([1.0, 1.0])), 1).support,
             lambda lib: lib.distributions.Binomial(5, lib.tensor(0.5)).support,
             lambda lib: lib.distributions.Binomial(lib.tensor([5.0, 4.0]),
                                                    lib.tensor([0.5, 0.5])).support]
    for make in cases:
        assert repr(make(tg)) == repr(make(torch))


MIX_LOGITS, MIX_LOC, MIX_SCALE = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), \
    rng.random((2, 3)) + 0.5


def _gmm(lib, logits, loc, scale):
    return lib.distributions.MixtureSameFamily(lib.distributions.Categorical(logits=logits),
                                               lib.distributions.Normal(loc, scale))


def test_mixture_same_family_log_prob_finite_differences():
    x = tg.tensor(rng.standard_normal((4, 2)))
    check_op(lambda lg, m, s: _gmm(tg, lg, m, s).log_prob(x), [MIX_LOGITS, MIX_LOC, MIX_SCALE],
             order=2)
    check_op(lambda lg, m, s: _gmm(tg, lg, m, s).variance, [MIX_LOGITS, MIX_LOC, MIX_SCALE],
             order=1)


@needs_torch
@pytest.mark.parametrize("mix_batch", [(2,), ()])
def test_mixture_same_family_matches_pytorch(mix_batch):
    logits = MIX_LOGITS if mix_batch else MIX_LOGITS[0]
    params = [logits, MIX_LOC, MIX_SCALE]
    x = rng.standard_normal((4, 2))
    for what in ("log_prob", "cdf", "mean", "variance"):
        pt = [torch.tensor(p, requires_grad=True) for p in params]
        pg = [tg.tensor(p, requires_grad=True) for p in params]
        dt, dg = _gmm(torch, *pt), _gmm(tg, *pg)
        a, b = ((dt.log_prob(torch.tensor(x)), dg.log_prob(tg.tensor(x))) if what == "log_prob"
                else (dt.cdf(torch.tensor(x)), dg.cdf(tg.tensor(x))) if what == "cdf"
                else (getattr(dt, what), getattr(dg, what)))
        np.testing.assert_allclose(_np(b), a.detach().numpy(), rtol=1e-12, err_msg=what)
        for u, v in zip(tg.autograd.grad(b.sum(), pg, allow_unused=True),
                        torch.autograd.grad(a.sum(), pt, allow_unused=True)):
            assert (u is None) == (v is None)  # (the mean does not depend on the scales)
            if v is not None:
                np.testing.assert_allclose(_np(u), v.numpy(), rtol=1e-10, atol=1e-13,
                                           err_msg=what)
    assert dg.batch_shape == (2,) and dg.event_shape == ()
    assert repr(dg.support) == repr(dt.support) == "MixtureSameFamilyConstraint(Real())"
    big = dg.expand((5, 2))
    assert big.batch_shape == (5, 2) and big.sample((3,)).shape == (3, 5, 2)
    np.testing.assert_allclose(_np(big.log_prob(tg.tensor(x[0]))),
                               np.broadcast_to(_np(dg.log_prob(tg.tensor(x[0]))), (5, 2)))


def test_mixture_same_family_samples_and_events():
    tg.manual_seed(0)
    d = _gmm(tg, tg.tensor(MIX_LOGITS), tg.tensor(MIX_LOC), tg.tensor(MIX_SCALE))
    s = d.sample((40000,))
    assert s.shape == (40000, 2) and not s.requires_grad
    np.testing.assert_allclose(_np(s).mean(0), _np(d.mean), atol=0.03)
    np.testing.assert_allclose(_np(s).var(0), _np(d.variance), rtol=0.05)
    mvn = D.MixtureSameFamily(D.Categorical(logits=tg.zeros(3)),
                              D.MultivariateNormal(tg.tensor(rng.standard_normal((3, 2))),
                                                   tg.eye(2)))
    assert mvn.batch_shape == () and mvn.event_shape == (2,)
    assert mvn.sample((4,)).shape == (4, 2) and mvn.log_prob(tg.zeros((5, 2))).shape == (5,)
    with pytest.raises(ValueError, match="needs to be an  instance of"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(tg.zeros(3), 1.0))
    with pytest.raises(ValueError, match=re.escape("`mixture_distribution component` (2) does "
                                                   "not equal `component_distribution.batch_"
                                                   "shape[-1]` (3)")):
        D.MixtureSameFamily(D.Categorical(logits=tg.zeros(2)), D.Normal(tg.zeros(3), 1.0))


def _more_transforms(lib):
    T = lib.distributions.transforms
    return {"power": (T.PowerTransform(lib.tensor(np.array([0.5, 2.0, -1.5]))), "positive"),
            "softplus": (T.SoftplusTransform(), "real"),
            "softmax": (T.SoftmaxTransform(), "real"),
            "stick": (T.StickBreakingTransform(), "real")}


def _transform_input(kind):
    x = np.random.default_rng(3).standard_normal((4, 3))
    return np.exp(x) if kind == "positive" else x


@needs_torch
@pytest.mark.parametrize("name", ["power", "softplus", "softmax", "stick"])
def test_power_softplus_softmax_stick_breaking_transforms_match_pytorch(name):
    tgt, kind = _more_transforms(tg)[name]
    tt, _ = _more_transforms(torch)[name]
    x = _transform_input(kind)
    xg, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = tgt(xg), tt(xt)
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_np(tgt.inv(y)), tt.inv(yt).detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    assert tgt.forward_shape((4, 3)) == tuple(tt.forward_shape((4, 3)))
    assert tgt.inverse_shape((4, 3)) == tuple(tt.inverse_shape((4, 3)))
    assert repr(tgt.domain) == repr(tt.domain) and repr(tgt.codomain) == repr(tt.codomain)
    assert tgt.bijective == tt.bijective
    outs = [(y, yt)]
    if tt.bijective:
        outs.append((tgt.log_abs_det_jacobian(xg, y), tt.log_abs_det_jacobian(xt, yt)))
        np.testing.assert_allclose(_np(outs[-1][0]), outs[-1][1].detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(4).standard_normal(y.shape)
    for a, b in outs:
        wa = w if a.shape == y.shape else w[..., 0]
        (ga,) = tg.autograd.grad((a * tg.tensor(wa)).sum(), [xg], retain_graph=True)
        (gb,) = torch.autograd.grad((b * torch.tensor(wa)).sum(), [xt], retain_graph=True)
        np.testing.assert_allclose(_np(ga), gb.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["power", "softplus", "stick"])
def test_bijective_transforms_log_det_finite_differences(name):
    t, kind = _more_transforms(tg)[name]
    x = _transform_input(kind)
    check_op(lambda a: t.log_abs_det_jacobian(a, t(a)), [x], order=2)
    check_op(lambda a: t.inv(t(a)), [x], order=1)
    if name != "stick":  # (elementwise: the log-det is the log of the derivative)
        xs = tg.tensor(x, requires_grad=True)
        (dy,) = tg.autograd.grad(t(xs).sum(), [xs])
        np.testing.assert_allclose(_np(t.log_abs_det_jacobian(xs, t(xs))), np.log(abs(_np(dy))),
                                   rtol=1e-12)


@needs_torch
def test_logistic_normal_by_stick_breaking_matches_pytorch():
    loc, scale = rng.standard_normal(3), rng.random(3) + 0.5
    v = rng.dirichlet(np.ones(4), 5)

    def make(lib):
        pl, ps = lib.tensor(loc, requires_grad=True), lib.tensor(scale, requires_grad=True)
        base = lib.distributions.Independent(lib.distributions.Normal(pl, ps), 1)
        d = lib.distributions.TransformedDistribution(
            base, [lib.distributions.transforms.StickBreakingTransform()])
        return d, d.log_prob(lib.tensor(v)), [pl, ps]

    dg, a, pg = make(tg)
    dt, b, pt = make(torch)
    assert dg.event_shape == tuple(dt.event_shape) == (4,)
    assert dg.rsample((2,)).shape == (2, 4)
    np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-10)
    for u, w in zip(tg.autograd.grad(a.sum(), pg), torch.autograd.grad(b.sum(), pt)):
        np.testing.assert_allclose(_np(u), w.numpy(), rtol=1e-10)
