"""kl_divergence over every pair of distribution types PyTorch registers a rule for (each pair
instantiated on broadcast batches): values and parameter gradients against PyTorch, and finite
differences of tapegrad's rules without it."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

D = tg.distributions
rng = np.random.default_rng(23)
C = rng.random((3, 1)) * 2 + 0.5
R = rng.random(2) + 0.5
UNIT = rng.random((3, 2)) * 0.9 + 0.05
REAL = rng.standard_normal((3, 2))
TRIL = np.tril(rng.standard_normal((4, 4)) * 0.3, -1) + np.diag(rng.random(4) + 0.7)

# type name -> (make(distributions module, *arrays), arrays): parameters over a (3, 2) batch
# (the multivariate ones over (3,) and 4-vectors)
DISTS = {
    "Normal": (lambda M, m, s: M.Normal(m, s), [REAL, R]),
    "Laplace": (lambda M, m, s: M.Laplace(m, s), [REAL * 0.5, R + 0.2]),
    "Gumbel": (lambda M, m, s: M.Gumbel(m, s), [REAL * 0.3, C]),
    "Cauchy": (lambda M, m, s: M.Cauchy(m, s), [REAL, C]),
    "Exponential": (lambda M, r: M.Exponential(r), [C * R]),
    "Gamma": (lambda M, c, r: M.Gamma(c, r), [C + 0.3, R]),
    "Beta": (lambda M, a, b: M.Beta(a, b), [C, R]),
    "Uniform": (lambda M, lo, w: M.Uniform(lo, lo + w), [UNIT * 0.4, R * 0.5]),
    "Bernoulli": (lambda M, p: M.Bernoulli(probs=p), [UNIT]),
    "Poisson": (lambda M, r: M.Poisson(r), [C * R]),
    "Binomial": (lambda M, p: M.Binomial(5, probs=p), [UNIT]),
    "Geometric": (lambda M, p: M.Geometric(probs=p), [UNIT]),
    "Categorical": (lambda M, lg: M.Categorical(logits=lg), [rng.standard_normal((3, 4))]),
    "OneHotCategorical": (lambda M, lg: M.OneHotCategorical(logits=lg),
                          [rng.standard_normal((3, 4))]),
    "Dirichlet": (lambda M, c: M.Dirichlet(c), [rng.random((3, 4)) + 0.4]),
    "HalfNormal": (lambda M, s: M.HalfNormal(s), [C * R]),
    "ContinuousBernoulli": (lambda M, p: M.ContinuousBernoulli(p), [UNIT]),
    "Pareto": (lambda M, s, a: M.Pareto(s, a), [R * 0.05, C + 0.6]),
    "MultivariateNormal": (lambda M, m, L: M.MultivariateNormal(m, scale_tril=L.tril()),
                           [rng.standard_normal((3, 4)), TRIL]),
    "LowRankMultivariateNormal": (lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d),
                                  [rng.standard_normal((3, 4)), rng.standard_normal((4, 2)),
                                   rng.random(4) + 0.5]),
    "Wishart": (lambda M, df, L: M.Wishart(df, scale_tril=L.tril()),
                [np.array([4.5, 6.0, 8.0]), TRIL]),
}
# a second instance of each type (q), its parameters moved
SHIFT = {"Normal": 0, "Laplace": 0, "Gumbel": 0, "Cauchy": 0, "MultivariateNormal": 0,
         "LowRankMultivariateNormal": 0, "Categorical": 0, "OneHotCategorical": 0}


def _arrays(name, which):
    arrays = DISTS[name][1]
    if which == "p":
        return arrays
    out = []
    for i, a in enumerate(arrays):
        if name in SHIFT and i == 0:
            out.append(a[::-1].copy() * 0.7 + 0.2)
        elif name == "Wishart" and i == 0:
            out.append(a + 1.5)
        elif name in ("Bernoulli", "Binomial", "Geometric", "ContinuousBernoulli"):
            out.append(a[::-1].copy())
        elif name == "Uniform":
            out.append(a * 0.8 + (0.02 if i == 0 else 0.3))
        else:
            out.append(a[::-1].copy() * 0.8 + 0.1 if a.ndim else a)
    return out


def _pairs():
    names = set(DISTS)
    pairs = []
    for tp, tq in D.kl._RULES:
        if tp.__name__ in names and tq.__name__ in names and tp.__module__.startswith("tapegrad"):
            pairs.append((tp.__name__, tq.__name__))
    return sorted(set(pairs))


PAIRS = _pairs()
# PyTorch's exponential-family rule sums the df term over the whole batch (and detaches p): a
# batched Wishart || Wishart is checked against the closed form instead
NOT_PYTORCHS = {("Wishart", "Wishart")}


def _make(lib, name, which, grad=True):
    make = DISTS[name][0]
    leaves = [lib.tensor(a, requires_grad=grad) for a in _arrays(name, which)]
    return make(lib.distributions, *leaves), leaves


def _np(t):
    return np.asarray(t.detach().numpy(), np.float64)


def test_every_pytorch_pair_with_both_types_is_covered():
    torch = pytest.importorskip("torch")
    mine = set(PAIRS)
    for tp, tq in torch.distributions.kl._KL_REGISTRY:
        if tp.__name__ in DISTS and tq.__name__ in DISTS:
            assert (tp.__name__, tq.__name__) in mine, (tp.__name__, tq.__name__)


@needs_torch
@pytest.mark.parametrize("pq", [p for p in PAIRS if p not in NOT_PYTORCHS],
                         ids=lambda p: "-".join(p))
def test_kl_values_and_gradients_match_pytorch(pq):
    np_, nq = pq
    (pt, lpt), (qt, lqt) = _make(torch, np_, "p"), _make(torch, nq, "q")
    (pg, lpg), (qg, lqg) = _make(tg, np_, "p"), _make(tg, nq, "q")
    a = torch.distributions.kl_divergence(pt, qt)
    b = D.kl_divergence(pg, qg)
    assert tuple(b.shape) == tuple(a.shape)
    np.testing.assert_allclose(_np(b), _np(a), rtol=1e-9, atol=1e-12)
    finite = np.isfinite(_np(a)).reshape(-1)
    if not finite.any() or not a.requires_grad:
        return
    w = rng.standard_normal(finite.sum())
    ga = torch.autograd.grad((a.reshape(-1)[torch.tensor(finite)] * torch.tensor(w)).sum(),
                             lpt + lqt, allow_unused=True)
    gb = tg.autograd.grad((b.reshape(-1)[tg.tensor(finite)] * tg.tensor(w)).sum(), lpg + lqg,
                          allow_unused=True)
    for x, y in zip(gb, ga):
        if y is None:
            assert x is None or not np.any(_np(x))
        else:
            np.testing.assert_allclose(_np(x), y.numpy(), rtol=1e-8, atol=1e-11)


def _finite_pairs():
    out = []
    for pq in PAIRS:
        value = D.kl_divergence(_make(tg, pq[0], "p", False)[0], _make(tg, pq[1], "q", False)[0])
        if np.all(np.isfinite(_np(value))) and pq[0] not in ("Bernoulli", "Poisson",
                                                               "Binomial", "Geometric"):
            out.append(pq)
    return out


@pytest.mark.parametrize("pq", _finite_pairs(), ids=lambda p: "-".join(p))
def test_kl_finite_differences(pq):
    np_, nq = pq
    ap, aq = _arrays(np_, "p"), _arrays(nq, "q")
    k = len(ap)

    def kl(*ps):
        return D.kl_divergence(DISTS[np_][0](D, *ps[:k]), DISTS[nq][0](D, *ps[k:]))
    check_op(kl, ap + aq, order=1)


def test_kl_infinite_where_q_misses_part_of_ps_support():
    p = D.Normal(tg.zeros(2), tg.ones(2))
    for q in (D.Exponential(tg.ones(2)), D.Beta(tg.ones(2), tg.ones(2)),
              D.Pareto(tg.ones(2), tg.ones(2)), D.Uniform(tg.zeros(2), tg.ones(2))):
        assert np.all(_np(D.kl_divergence(p, q)) == np.inf)
    pa = D.Pareto(tg.tensor([1.0, 1.0]), tg.tensor([0.5, 3.0]))
    assert _np(D.kl_divergence(pa, D.Exponential(tg.ones(2))))[0] == np.inf
    assert np.isfinite(_np(D.kl_divergence(pa, D.Exponential(tg.ones(2))))[1])


def test_low_rank_kl_equals_the_full_covariance_kl():
    # (cov_diag batched under an unbatched cov_factor: the full-covariance rules the reference)
    loc, w, d = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.random((3, 4)) + 0.5
    lr = D.LowRankMultivariateNormal(tg.tensor(loc), tg.tensor(w), tg.tensor(d))
    full = D.MultivariateNormal(tg.tensor(loc), covariance_matrix=lr.covariance_matrix)
    other = D.MultivariateNormal(tg.tensor(loc[::-1].copy()), scale_tril=tg.tensor(TRIL))
    lr2 = D.LowRankMultivariateNormal(tg.tensor(loc[::-1].copy()), tg.tensor(w * 0.5),
                                      tg.tensor(d[::-1].copy()))
    full2 = D.MultivariateNormal(tg.tensor(loc[::-1].copy()),
                                 covariance_matrix=lr2.covariance_matrix)
    for a, b in [((lr, other), (full, other)), ((other, lr), (other, full)),
                 ((lr, lr2), (full, full2))]:
        np.testing.assert_allclose(_np(D.kl_divergence(*a)), _np(D.kl_divergence(*b)),
                                   rtol=1e-10)


def test_wishart_kl_is_the_closed_form():
    sp = pytest.importorskip("scipy.special")
    (p, _), (q, _) = _make(tg, "Wishart", "p", False), _make(tg, "Wishart", "q", False)
    got = _np(D.kl_divergence(p, q))
    n1, n2 = _arrays("Wishart", "p")[0], _arrays("Wishart", "q")[0]
    s1, s2 = _np(p.covariance_matrix)[0], _np(q.covariance_matrix)[0]
    k = 4
    expect = n2 / 2 * (np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1]) + \
        n1 / 2 * (np.trace(np.linalg.solve(s2, s1)) - k) + sp.multigammaln(n2 / 2, k) - \
        np.array([sp.multigammaln(v / 2, k) for v in n1]) + \
        (n1 - n2) / 2 * sum(sp.digamma((n1 - i) / 2) for i in range(k))
    np.testing.assert_allclose(got, expect, rtol=1e-10)


def test_exponential_family_entropy_and_kl_by_the_log_normaliser():
    # (the Bregman forms against the closed ones of the two families that have both)
    cb_p, cb_q = D.ContinuousBernoulli(tg.tensor(UNIT)), D.ContinuousBernoulli(
        tg.tensor(UNIT[::-1].copy()))
    wp = _make(tg, "Wishart", "p", False)[0]
    for d in (cb_p, wp):
        assert isinstance(d, D.ExponentialFamily)
        np.testing.assert_allclose(_np(D.ExponentialFamily.entropy(d)), _np(d.entropy()),
                                   rtol=1e-9)
    np.testing.assert_allclose(_np(D.exp_family.kl_expfamily_expfamily(cb_p, cb_q)),
                               _np(D.kl_divergence(cb_p, cb_q)), rtol=1e-8, atol=1e-12)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(cb_p, wp)
    check_op(lambda c: D.ExponentialFamily.entropy(D.Wishart(c, scale_tril=tg.tensor(TRIL))),
             [np.array([4.5, 6.0])], order=1)
    L = tg.tensor(TRIL)
    check_op(lambda a, b: D.kl_divergence(D.Wishart(a, scale_tril=L),
                                          D.Wishart(b, scale_tril=L * 1.3)),
             [np.array([4.5, 6.0]), np.array([5.0, 7.5])], order=1)
