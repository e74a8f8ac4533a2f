"""tg.distributions: log_prob, cdf/icdf, moments, entropy and KL against PyTorch and by finite
differences; reparameterised sampling and its gradients; sample statistics; validation errors
in PyTorch's words."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op

D = tg.distributions
rng = np.random.default_rng(0)
LOC, SCALE = rng.standard_normal((3, 2)), rng.random((3, 2)) + 0.5
X = rng.standard_normal((4, 3, 2))
UNIVARIATE = [("Normal", (LOC, SCALE), X), ("Laplace", (LOC, SCALE), X),
              ("Uniform", (LOC, LOC + SCALE + 1), LOC + 0.3), ("Exponential", (SCALE,), abs(X))]


@pytest.mark.parametrize("name,params,value", UNIVARIATE, ids=[u[0] for u in UNIVARIATE])
def test_log_prob_and_cdf_finite_differences(name, params, value):
    v = tg.tensor(value)
    check_op(lambda *ps: getattr(D, name)(*ps).log_prob(v), list(params), order=2)
    if name != "Uniform":  # (piecewise linear in its bounds: kinks at the sample)
        check_op(lambda *ps: getattr(D, name)(*ps).cdf(v), list(params), order=1)


@pytest.mark.parametrize("name,params,value", UNIVARIATE, ids=[u[0] for u in UNIVARIATE])
def test_univariate_match_pytorch(name, params, value):
    torch = pytest.importorskip("torch")
    pt = [torch.tensor(p, requires_grad=True) for p in params]
    pg = [tg.tensor(p, requires_grad=True) for p in params]
    dt, dg = getattr(torch.distributions, name)(*pt), getattr(D, name)(*pg)
    for what in ("log_prob", "cdf"):
        a, b = getattr(dt, what)(torch.tensor(value)), getattr(dg, what)(tg.tensor(value))
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
    for what in ("mean", "variance", "stddev", "entropy"):
        a, b = getattr(dt, what), getattr(dg, what)
        a, b = (a(), b()) if callable(a) else (a, b)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
    u = rng.random((3, 2)) * 0.98 + 0.01
    np.testing.assert_allclose(dg.icdf(tg.tensor(u)).detach().numpy(),
                               dt.icdf(torch.tensor(u)).detach().numpy(), rtol=1e-12)
    assert dg.batch_shape == tuple(dt.batch_shape)
    assert dg.event_shape == tuple(dt.event_shape)


@pytest.mark.parametrize("name,params,value", UNIVARIATE, ids=[u[0] for u in UNIVARIATE])
def test_rsample_statistics_and_pathwise_gradient(name, params, value):
    tg.manual_seed(1)
    ps = [tg.tensor(p, requires_grad=True) for p in params]
    d = getattr(D, name)(*ps)
    s = d.rsample((20000,))
    assert s.shape == (20000, 3, 2) and d.sample().shape == (3, 2)
    assert not d.sample().requires_grad
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    np.testing.assert_allclose(s.detach().numpy().mean(0), mean, atol=5 * np.sqrt(var / 2e4).max())
    s.mean(0).sum().backward()  # d E[x] / d params: the derivative of the mean
    expect = tg.autograd.grad(getattr(D, name)(*ps).mean.sum(), ps, allow_unused=True,
                              materialize_grads=True)
    for p, e in zip(ps, expect):
        np.testing.assert_allclose(p.grad.numpy(), e.numpy(), atol=0.05)


def test_bernoulli_and_categorical_match_pytorch():
    torch = pytest.importorskip("torch")
    p, logits = rng.random(5) * 0.9 + 0.05, rng.standard_normal((3, 4))
    v = (rng.random(5) < 0.5) * 1.0
    for kw, src in (("probs", p), ("logits", rng.standard_normal(5))):
        dt = torch.distributions.Bernoulli(**{kw: torch.tensor(src)})
        dg = D.Bernoulli(**{kw: tg.tensor(src)})
        for a, b in ((dt.log_prob(torch.tensor(v)), dg.log_prob(tg.tensor(v))),
                     (dt.entropy(), dg.entropy()), (dt.probs, dg.probs),
                     (dt.logits, dg.logits), (dt.variance, dg.variance)):
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
    k = rng.integers(0, 4, (2, 3))
    for kw, src in (("probs", abs(logits) + 0.1), ("logits", logits)):
        dt = torch.distributions.Categorical(**{kw: torch.tensor(src)})
        dg = D.Categorical(**{kw: tg.tensor(src)})
        for a, b in ((dt.log_prob(torch.tensor(k)), dg.log_prob(tg.tensor(k))),
                     (dt.entropy(), dg.entropy()), (dt.probs, dg.probs),
                     (dt.logits, dg.logits), (dt.mode, dg.mode)):
            np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
    tg.manual_seed(2)
    d = D.Categorical(logits=tg.tensor(logits))
    s = d.sample((20000,)).numpy()
    freq = np.stack([(s == c).mean(0) for c in range(4)], -1)
    np.testing.assert_allclose(freq, d.probs.numpy(), atol=0.02)
    check_op(lambda lg: D.Categorical(logits=lg).log_prob(tg.tensor(k)), [logits], order=2)
    check_op(lambda lg: D.Bernoulli(logits=lg).entropy(), [rng.standard_normal(5)], order=2)


@pytest.mark.parametrize("kw", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal(kw):
    A = rng.standard_normal((3, 3))
    cov, mu = A @ A.T + np.eye(3), rng.standard_normal(3)
    M = np.linalg.cholesky(cov) if kw == "scale_tril" else \
        np.linalg.inv(cov) if kw == "precision_matrix" else cov
    v = tg.tensor(rng.standard_normal((5, 3)))
    check_op(lambda mu: D.MultivariateNormal(mu, **{kw: tg.tensor(M)}).log_prob(v), [mu], order=2)
    d = D.MultivariateNormal(tg.tensor(mu), **{kw: tg.tensor(M)})
    np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-10)
    tg.manual_seed(3)
    s = d.rsample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.15 * np.abs(cov).max())
    torch = pytest.importorskip("torch")
    mt, Mt = torch.tensor(mu, requires_grad=True), torch.tensor(M, requires_grad=True)
    mg, Mg = tg.tensor(mu, requires_grad=True), tg.tensor(M, requires_grad=True)
    dt = torch.distributions.MultivariateNormal(mt, **{kw: Mt})
    dg = D.MultivariateNormal(mg, **{kw: Mg})
    a, b = dt.log_prob(torch.tensor(v.numpy())), dg.log_prob(v)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-12)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(mg.grad.numpy(), mt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(Mg.grad.numpy(), Mt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dg.entropy().detach().numpy(), dt.entropy().detach().numpy(),
                               rtol=1e-12)


def test_kl_divergence_matches_pytorch():
    torch = pytest.importorskip("torch")
    p = rng.random(5) * 0.9 + 0.05
    B = rng.standard_normal((3, 3))
    pairs = [("Normal", (LOC, SCALE), (LOC * 0.5, SCALE * 2)),
             ("Exponential", (SCALE,), (SCALE * 3,)),
             ("Laplace", (LOC, SCALE), (LOC + 1, SCALE)),
             ("Uniform", (LOC, LOC + 1), (LOC - 1, LOC + 3)),
             ("Bernoulli", (p,), (p[::-1].copy(),)),
             ("MultivariateNormal", (np.zeros(3), B @ B.T + np.eye(3)), (np.ones(3), np.eye(3)))]
    for name, a, b in pairs:
        kt = torch.distributions.kl_divergence(
            getattr(torch.distributions, name)(*map(torch.tensor, a)),
            getattr(torch.distributions, name)(*map(torch.tensor, b)))
        kg = D.kl_divergence(getattr(D, name)(*map(tg.tensor, a)),
                             getattr(D, name)(*map(tg.tensor, b)))
        np.testing.assert_allclose(kg.numpy(), kt.numpy(), rtol=1e-10, err_msg=name)
    check_op(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(0.0, 1.0)), [LOC, SCALE],
             order=2)
    ind = D.Independent(D.Normal(tg.tensor(LOC), tg.tensor(SCALE)), 1)
    assert ind.batch_shape == (3,) and ind.event_shape == (2,)
    np.testing.assert_allclose(ind.log_prob(tg.tensor(X)).numpy(),
                               D.Normal(tg.tensor(LOC), tg.tensor(SCALE)).log_prob(
                                   tg.tensor(X)).numpy().sum(-1))


def test_validation_errors_are_pytorchs():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(1,\)\) "
                                         r"of distribution Normal\(loc: tensor\(\[0\.\]\), "
                                         r"scale: tensor\(\[-1\.\]\)\) to satisfy the "
                                         r"constraint GreaterThan\(lower_bound=0\.0\)"):
        D.Normal(tg.tensor([0.0]), tg.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"to be within the support \(IntegerInterval\("
                                         r"lower_bound=0, upper_bound=1\)\)"):
        D.Categorical(probs=tg.tensor([0.2, 0.8])).log_prob(tg.tensor(2))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        D.Bernoulli(probs=tg.tensor([0.2]), logits=tg.tensor([0.1]))
    with pytest.raises(ValueError, match=r"satisfy the constraint LessThan\(upper_bound=0\.0\)"):
        D.Uniform(tg.tensor(1.0), tg.tensor(0.0))
    D.Normal(tg.tensor([0.0]), tg.tensor([-1.0]), validate_args=False)  # (not checked)
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Bernoulli(probs=0.5), D.Normal(0.0, 1.0))


def test_expand_and_enumerate_support():
    cases = {"Normal": lambda: D.Normal(tg.tensor(0.5), tg.tensor(2.0)),
             "Categorical": lambda: D.Categorical(logits=tg.tensor([0.1, 0.5, 0.2])),
             "MultivariateNormal": lambda: D.MultivariateNormal(tg.zeros(2), tg.eye(2)),
             "Independent": lambda: D.Independent(D.Normal(tg.zeros(3), tg.tensor(1.0)), 1)}
    for name, make in cases.items():
        d = make()
        big = d.expand((4,) + d.batch_shape if name != "Normal" else (4,))
        assert big.batch_shape[0] == 4 and big.event_shape == d.event_shape
        v = big.sample()
        np.testing.assert_allclose(big.log_prob(v).numpy(),
                                   np.broadcast_to(d.log_prob(v).numpy(), big.batch_shape))
    b = D.Bernoulli(probs=tg.tensor([0.3, 0.6]))
    assert b.enumerate_support().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert D.Categorical(logits=tg.zeros((2, 3))).enumerate_support(expand=False).shape == \
        (3, 1)
