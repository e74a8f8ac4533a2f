"""Wishart and LKJCholesky with CUDA parameters: samples on the device, the CPU's draws for one
seed, log_prob/entropy/moments and reparameterised gradients as the CPU's and PyTorch's; on
numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

D = tg.distributions
DF = np.array([3.0, 4.5])
TRIL = np.array([[2.0, 0.0], [0.5, 1.0]])


def _np(t):
    return t.detach().cpu().numpy()


def _wishart(dev, validate=None):
    df = tg.tensor(DF, device=dev, requires_grad=True)
    tril = tg.tensor(TRIL, device=dev, requires_grad=True)
    return df, tril, D.Wishart(df, scale_tril=tril, validate_args=validate)


def test_wishart_on_cuda_matches_cpu():
    out = {}
    for dev in ("cpu", "cuda"):
        df, tril, w = _wishart(dev, validate=True)
        tg.manual_seed(4)
        x = w.rsample((3,))
        x.sum().backward()
        assert x.device == dev and w.sample().device == dev
        assert D.Wishart(tg.tensor(3.0, device=dev), tg.eye(2, device=dev)).sample().device \
            == dev
        stats = (w.log_prob(x), w.entropy(), w.mean, w.variance, w.mode)
        assert all(s.device == dev for s in stats)
        out[dev] = [_np(x), _np(df.grad), _np(tril.grad)] + [_np(s) for s in stats]
    for got, want in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_wishart_log_prob_and_entropy_match_torch():
    torch = pytest.importorskip("torch")
    _, _, w = _wishart("cuda")
    value = np.array([[[3.0, 0.4], [0.4, 1.5]], [[2.0, -0.3], [-0.3, 0.9]]])
    tw = torch.distributions.Wishart(torch.tensor(DF), scale_tril=torch.tensor(TRIL))
    np.testing.assert_allclose(_np(w.log_prob(tg.tensor(value, device="cuda"))),
                               tw.log_prob(torch.tensor(value)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(w.entropy()), tw.entropy().numpy(), rtol=1e-10)


def test_lkj_cholesky_on_cuda_matches_cpu_and_torch():
    torch = pytest.importorskip("torch")
    out = {}
    for dev in ("cpu", "cuda"):
        c = tg.tensor([1.0, 2.5], device=dev, requires_grad=True)
        lkj = D.LKJCholesky(3, c, validate_args=True)
        tg.manual_seed(2)
        x = lkj.sample((2,))
        lp = lkj.log_prob(x)
        (g,) = tg.autograd.grad(lp.sum(), c)
        assert x.device == lp.device == g.device == dev
        out[dev] = _np(x), _np(lp), _np(g)
    for got, want in zip(out["cuda"], out["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    tc = torch.tensor([1.0, 2.5], dtype=torch.float64, requires_grad=True)
    tlp = torch.distributions.LKJCholesky(3, tc).log_prob(torch.tensor(out["cuda"][0]))
    (tgrad,) = torch.autograd.grad(tlp.sum(), tc)
    np.testing.assert_allclose(out["cuda"][1], tlp.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(out["cuda"][2], tgrad.numpy(), rtol=1e-10)
    assert D.LKJCholesky(2, tg.tensor(1.0, device="cuda")).sample().device == "cuda"


P = np.array([[2.0, 0.3], [0.3, 1.0]])
PRECISION = {  # a precision matrix (and a number df) on the device: derived matrices there too
    "wishart_precision_sample": lambda p, t: t.Wishart(3.0, precision_matrix=p).sample(),
    "wishart_precision_of_covariance": lambda p, t: t.Wishart(
        3.0, covariance_matrix=p).precision_matrix,
    "mvn_precision_log_prob": lambda p, t: t.MultivariateNormal(
        p[0] * 0.0, precision_matrix=p).log_prob(p[1]),
    "mvn_precision_of_covariance": lambda p, t: t.MultivariateNormal(
        p[0] * 0.0, covariance_matrix=p).precision_matrix,
    "wishart_kl": lambda p, t: t.kl_divergence(t.Wishart(p[0, 0] + 2.0, p),
                                               t.Wishart(p[0, 0] + 3.0, p)),
}


@pytest.mark.parametrize("name", sorted(PRECISION))
def test_precision_parameterisations_on_cuda(name):
    torch = pytest.importorskip("torch")
    f = PRECISION[name]
    out = {}
    for dev in ("cpu", "cuda"):
        tg.manual_seed(5)
        r = f(tg.tensor(P, device=dev), D)
        assert r.device == dev
        out[dev] = _np(r)
    np.testing.assert_allclose(out["cuda"], out["cpu"], rtol=1e-12, atol=1e-14)
    if "sample" not in name:
        want = f(torch.tensor(P), torch.distributions).detach().numpy()
        np.testing.assert_allclose(out["cuda"], want, rtol=1e-10, atol=1e-14)
