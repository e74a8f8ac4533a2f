"""tg.distributions' later additions (NegativeBinomial, Multinomial, Weibull, Pareto,
Kumaraswamy, LogisticNormal, InverseGamma, GeneralizedPareto, ContinuousBernoulli, the relaxed
distributions, VonMises, LKJCholesky, Wishart, LowRankMultivariateNormal, FisherSnedecor): values, moments and
parameter gradients against PyTorch on the same inputs; finite differences of log_prob (and of
rsample at a fixed seed) without it; sample shapes and support."""


import numpy as np
import pytest

import tapegrad as tg
from tests.distribution_checks import (as_np as _np, assert_same_error,
                                       assert_shapes_support_and_expand_match,
                                       assert_values_and_gradients_match)
from tests.op_checks import check_op, needs_torch, torch

D = tg.distributions
rng = np.random.default_rng(17)
C = rng.random((3, 1)) * 2 + 0.5  # a positive parameter over a (3, 1) batch
R = rng.random(2) + 0.5  # one over (2,): the two broadcast to (3, 2)
POS = rng.random((4, 3, 2)) * 3 + 0.1
UNIT = rng.random((4, 3, 2)) * 0.9 + 0.05
REAL = rng.standard_normal((4, 3, 2)) * 2
COUNTS = rng.integers(0, 6, (4, 3, 2)) * 1.0
LOGITS4 = rng.standard_normal((3, 4))
SIMPLEX4 = rng.dirichlet(np.ones(4), (2, 3))


def _corr_cholesky(shape, n):
    """Cholesky factors of random n x n correlation matrices."""
    a = rng.standard_normal(shape + (n, n))
    s = a @ np.swapaxes(a, -1, -2) + np.eye(n)
    d = 1 / np.sqrt(np.diagonal(s, axis1=-2, axis2=-1))
    return np.linalg.cholesky(s * d[..., None] * d[..., None, :])


def _spd(shape, n):
    a = rng.standard_normal(shape + (n, n))
    return a @ np.swapaxes(a, -1, -2) + np.eye(n)


TRIL = np.tril(rng.standard_normal((3, 3)) * 0.5, -1) + np.diag([1.0, 1.3, 0.8]) + \
    np.triu(rng.standard_normal((3, 3)), 1)  # (read through .tril(): the upper part unused)
MULTI = rng.multinomial(7, np.full(4, 0.25), (2, 3)) * 1.0

# name -> (make(distributions module, *parameters), parameter arrays (differentiated), value)
CASES = {
    "NegativeBinomial": (lambda M, n, p: M.NegativeBinomial(n, probs=p), [C * 2, UNIT[0]],
                         COUNTS),
    "NegativeBinomial-logits": (lambda M, n, lg: M.NegativeBinomial(n, logits=lg),
                                [C * 2, REAL[0]], COUNTS),
    "Multinomial": (lambda M, p: M.Multinomial(7, probs=p), [rng.random((3, 4)) + 0.1], MULTI),
    "Multinomial-logits": (lambda M, lg: M.Multinomial(7, logits=lg), [LOGITS4], MULTI),
    "Weibull": (lambda M, s, k: M.Weibull(s, k), [C, R], POS),
    "Weibull-peaked": (lambda M, s, k: M.Weibull(s, k), [R, C + 1], POS),
    "Pareto": (lambda M, s, a: M.Pareto(s, a), [R * 0.05, C + 1.6], POS),
    "Kumaraswamy": (lambda M, a, b: M.Kumaraswamy(a, b), [C, R], UNIT),
    "Kumaraswamy-peaked": (lambda M, a, b: M.Kumaraswamy(a, b), [C + 1, R * 0.5 + 0.2], UNIT),
    "InverseGamma": (lambda M, a, b: M.InverseGamma(a, b), [C + 1.5, R], POS),
    "GeneralizedPareto": (lambda M, m, s, c: M.GeneralizedPareto(m, s, c),
                          [-C * 0.1, R, np.array([0.3, -0.2])], POS),
    "GeneralizedPareto-exponential": (lambda M, m, s: M.GeneralizedPareto(m, s, 0.0),
                                      [-C * 0.1, R], POS),
    "ContinuousBernoulli": (lambda M, p: M.ContinuousBernoulli(p), [UNIT[0]], UNIT),
    "ContinuousBernoulli-near-half": (lambda M, p: M.ContinuousBernoulli(p),
                                      [np.array([0.4995, 0.5004, 0.2])], UNIT[..., :1]),
    "ContinuousBernoulli-logits": (lambda M, lg: M.ContinuousBernoulli(logits=lg), [REAL[0]],
                                   UNIT),
    "RelaxedBernoulli": (lambda M, t, p: M.RelaxedBernoulli(t, probs=p),
                         [np.array(0.7), UNIT[0]], UNIT),
    "RelaxedBernoulli-logits": (lambda M, t, lg: M.RelaxedBernoulli(t, logits=lg),
                                [np.array(1.3), REAL[0]], UNIT),
    "RelaxedOneHotCategorical": (lambda M, t, lg: M.RelaxedOneHotCategorical(t, logits=lg),
                                 [np.array(0.6), LOGITS4], SIMPLEX4),
    "RelaxedOneHotCategorical-probs": (lambda M, t, p: M.RelaxedOneHotCategorical(t, probs=p),
                                       [np.array(1.5), rng.random((3, 4)) + 0.2], SIMPLEX4),
    "OneHotCategoricalStraightThrough": (
        lambda M, lg: M.OneHotCategoricalStraightThrough(logits=lg), [LOGITS4],
        np.eye(4)[rng.integers(0, 4, (2, 3))]),
    "LogisticNormal": (lambda M, m, s: M.LogisticNormal(m, s), [REAL[0] * 0.5, R],
                       rng.dirichlet(np.ones(3), (4, 3))),
    "VonMises": (lambda M, m, k: M.VonMises(m, k), [REAL[0] * 0.5, C], REAL),
    "VonMises-concentrated": (lambda M, m, k: M.VonMises(m, k),
                              [REAL[0, 0], np.array([0.3, 5.0])], REAL),
    "LKJCholesky": (lambda M, c: M.LKJCholesky(3, c), [C[:, 0]], _corr_cholesky((2, 3), 3)),
    "LKJCholesky-dim2": (lambda M, c: M.LKJCholesky(2, c), [np.array(0.7)],
                         _corr_cholesky((4,), 2)),
    "Wishart": (lambda M, df, L: M.Wishart(df, scale_tril=L.tril()),
                [np.array([4.5, 6.0]), TRIL], _spd((4, 2), 3)),
    "Wishart-precision": (lambda M, df, L: M.Wishart(df, precision_matrix=L.tril() @
                                                     L.tril().mT),
                          [np.array([[3.5], [5.0]]), TRIL], _spd((4, 2, 1), 3)),
    "Wishart-fixed-df": (lambda M, L: M.Wishart(7.0, scale_tril=L.tril()), [TRIL],
                         _spd((2,), 3)),
    "LowRankMultivariateNormal": (lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d),
                                  [REAL[0, :, :1] + np.arange(4), rng.standard_normal((4, 2)),
                                   rng.random((3, 4)) + 0.5], rng.standard_normal((2, 3, 4))),
    "FisherSnedecor": (lambda M, a, b: M.FisherSnedecor(a, b), [C * 2, R * 4 + 1.5], POS),
    "FisherSnedecor-moments-undefined": (lambda M, a, b: M.FisherSnedecor(a, b),
                                         [C, np.array([1.5, 3.0])], POS),
}
# (PyTorch's Multinomial entropy takes lgamma(n + 1) of an integer tensor: in float32)
LOOSE = {"Multinomial": {"entropy": 1e-6}, "Multinomial-logits": {"entropy": 1e-6}}
# PyTorch's GeneralizedPareto compares its concentration with a float32 zero (float64
# parameters raise there): compared in float32
TORCH32 = {"GeneralizedPareto", "GeneralizedPareto-exponential"}
# (draws by rejection: a finite difference in the parameters changes the draw, not only moves it)
# (and the straight-through estimator's gradient is by design not the draw's derivative)
RSAMPLE_NOT_PATHWISE = {"InverseGamma", "Wishart", "Wishart-precision", "FisherSnedecor",
                        "FisherSnedecor-moments-undefined",
                        "OneHotCategoricalStraightThrough"}


@pytest.fixture(autouse=True)
def _torch_float32_default():
    """PyTorch's own default dtype (float32) while a test compares with it: the float32 cases
    above build their constants in it, whatever an earlier test left set."""
    if torch is None:
        yield
        return
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(default)


def _make(lib, name, grad=True):
    make, arrays, _ = CASES[name]
    dtype = np.float32 if lib is torch and name in TORCH32 else np.float64
    leaves = [lib.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    return make(lib.distributions, *leaves), leaves


@needs_torch
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_pytorch(name):
    value = CASES[name][2]
    rtol, atol = (2e-5, 1e-6) if name in TORCH32 else (1e-9, 1e-12)
    assert_values_and_gradients_match(
        lambda lib: _make(lib, name), value,
        value.astype(np.float32) if name in TORCH32 else value, rtol, atol,
        grad_rtol=max(rtol * 10, 1e-8), grad_atol=atol * 10,
        loose=LOOSE.get(name))


@needs_torch
@pytest.mark.parametrize("name", CASES)
def test_shapes_support_constraints_and_expand_match_pytorch(name):
    assert_shapes_support_and_expand_match(
        _make(torch, name, grad=False)[0], _make(tg, name, grad=False)[0],
        np.float32 if name in TORCH32 else np.float64, rtol=2e-5 if name in TORCH32 else 1e-9)


@pytest.mark.parametrize("name", CASES)
def test_log_prob_finite_differences(name):
    make, arrays, value = CASES[name]
    v = tg.tensor(value)
    check_op(lambda *ps: make(D, *ps).log_prob(v), arrays, order=1)


@pytest.mark.parametrize("name", [n for n in CASES if _make(tg, n, False)[0].has_rsample
                                  and n not in RSAMPLE_NOT_PATHWISE])
def test_rsample_finite_differences_at_a_fixed_seed(name):
    make, arrays, _ = CASES[name]

    def draw(*ps):
        tg.manual_seed(3)
        return make(D, *ps).rsample((2,))
    check_op(draw, arrays, order=1)


@pytest.mark.parametrize("name", CASES)
def test_samples_lie_in_the_support_with_the_mean(name):
    tg.manual_seed(5)
    d, _ = _make(tg, name, grad=False)
    n = 20000
    s = d.sample((n,))
    assert s.shape == (n,) + d.batch_shape + d.event_shape and not s.requires_grad
    assert np.all(d.support.check(s))
    if name.startswith("VonMises"):  # (angles: the circular mean and variance)
        r = np.exp(1j * _np(s)).mean(0)
        np.testing.assert_allclose(np.angle(r), _np(d.mean), atol=0.05)
        np.testing.assert_allclose(1 - np.abs(r), _np(d.variance), atol=0.02)
        return
    try:
        mean, var = _np(d.mean), _np(d.variance)
    except NotImplementedError:
        return
    ok = np.isfinite(var)
    sd = np.sqrt(np.where(ok, var, 0) / n)
    np.testing.assert_allclose(_np(s).mean(0)[ok], mean[ok], atol=6 * sd.max() + 1e-12)


INVALID = [
    ("NegativeBinomial", lambda M, t: M.NegativeBinomial(t([-1.0]), probs=t([0.5]))),
    ("NegativeBinomial-probs", lambda M, t: M.NegativeBinomial(t([2.0]), probs=t([1.0]))),
    ("NegativeBinomial-value", lambda M, t: M.NegativeBinomial(t([2.0]), probs=t([0.5]))
     .log_prob(t([0.5]))),
    ("Multinomial-count", lambda M, t: M.Multinomial(t(3.0), probs=t([0.5, 0.5]))),
    ("Multinomial-value", lambda M, t: M.Multinomial(3, probs=t([0.5, 0.5]))
     .log_prob(t([2.0, 2.0]))),
    ("Weibull", lambda M, t: M.Weibull(t([1.0]), t([-1.0]))),
    ("Pareto-value", lambda M, t: M.Pareto(t(2.0), t(1.0)).log_prob(t(1.0))),
    ("Kumaraswamy-value", lambda M, t: M.Kumaraswamy(t(2.0), t(1.0)).log_prob(t(1.5))),
    ("InverseGamma", lambda M, t: M.InverseGamma(t([0.0]), t([1.0]))),
    ("ContinuousBernoulli", lambda M, t: M.ContinuousBernoulli(t([1.5]), validate_args=True)),
    ("ContinuousBernoulli-both", lambda M, t: M.ContinuousBernoulli(t(0.5), t(0.0))),
    ("RelaxedOneHotCategorical", lambda M, t: M.RelaxedOneHotCategorical(
        t(0.5), probs=t([-0.5, 1.5]))),
    ("LogisticNormal-value", lambda M, t: M.LogisticNormal(t([0.0]), t([1.0]))
     .log_prob(t([0.7, 0.7]))),
]


@needs_torch
@pytest.mark.parametrize("name,make", INVALID, ids=[i[0] for i in INVALID])
def test_validation_errors_are_pytorchs(name, make):
    assert_same_error(lambda lib: make(lib.distributions,
                                       lambda v: lib.tensor(v, dtype=lib.float64)))


def test_straight_through_rsample_carries_the_probabilities_gradient():
    tg.manual_seed(1)
    logits = tg.tensor(LOGITS4, requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(logits=logits)
    s = d.rsample((5,))
    assert np.all(D.constraints.one_hot.check(s))
    w = tg.tensor(rng.standard_normal((5, 3, 4)))
    (g,) = tg.autograd.grad((s * w).sum(), logits, retain_graph=True)
    (expect,) = tg.autograd.grad((d.probs * w.sum(0)).sum(), logits)
    np.testing.assert_allclose(_np(g), _np(expect), rtol=1e-12)


@pytest.mark.parametrize("name", ["InverseGamma", "Wishart", "FisherSnedecor"])
def test_rsample_by_rejection_has_the_pathwise_gradient_of_the_mean(name):
    # (no finite differences through rejection draws: d E[x] / d params, the sample mean's
    # gradient, against the derivative of the mean)
    make, arrays, _ = CASES[name]
    if name == "InverseGamma":
        arrays = [arrays[0] + 2, arrays[1]]  # (a finite variance: a steady sample mean)
    if name == "FisherSnedecor":
        arrays = [arrays[0], arrays[1] + 4]
    tg.manual_seed(11)
    ps = [tg.tensor(a, requires_grad=True) for a in arrays]
    n = 40000
    s = make(D, *ps).rsample((n,))
    s.mean(0).sum().backward()
    expect = tg.autograd.grad(make(D, *ps).mean.sum(), ps, allow_unused=True,
                              materialize_grads=True)
    for p, e in zip(ps, expect):
        np.testing.assert_allclose(_np(p.grad), _np(e), atol=0.04 * max(1, np.abs(_np(e)).max()))
