"""tg.distributions with CUDA parameters against the CPU path, on numba-cuda's simulator (see
conftest.py): parameters validated on the host, samples drawn there (as every CUDA draw is)
and returned on the device, log_prob/entropy and their gradients on the device."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

D = tg.distributions
P = np.random.default_rng(9).uniform(-1.0, 1.0, (2, 3))

MAKE = {
    "Normal": lambda p: D.Normal(p, p.exp()),
    "MultivariateNormal": lambda p: D.MultivariateNormal(
        p, scale_tril=tg.eye(3, device=p.device) * 2.0),
    "Categorical": lambda p: D.Categorical(logits=p),
    "Bernoulli": lambda p: D.Bernoulli(logits=p),
}


@pytest.mark.parametrize("name", sorted(MAKE))
def test_sample_log_prob_entropy(name):
    out = {}
    for dev in ("cpu", "cuda"):
        tg.manual_seed(0)
        p = tg.tensor(P, device=dev, requires_grad=True)
        d = MAKE[name](p)
        s = d.sample((2,))
        lp, ent = d.log_prob(s), d.entropy()
        (lp.sum() + ent.sum()).backward()
        assert s.device == lp.device == ent.device == dev
        out[dev] = [t.detach().cpu().numpy() for t in (s, lp, ent, p.grad)]
    for c, d in zip(out["cpu"], out["cuda"]):
        np.testing.assert_allclose(d, c, rtol=1e-10, atol=1e-12)


def test_geometric_fill_on_the_device():
    tg.manual_seed(0)
    a = tg.zeros(5, device="cuda").geometric_(0.3)
    tg.manual_seed(0)
    assert a.device == "cuda"
    np.testing.assert_array_equal(a.cpu().numpy(), tg.zeros(5).geometric_(0.3).numpy())



POS = np.random.default_rng(3).uniform(0.5, 2.0, (2, 3))
GAMMA_LIKE = {  # drawn on the host (the generator and SciPy run there), returned on the device
    "Gamma": lambda p: D.Gamma(p, p * 2.0), "Chi2": lambda p: D.Chi2(p),
    "Beta": lambda p: D.Beta(p, p + 0.5), "Dirichlet": lambda p: D.Dirichlet(p),
    "Poisson": lambda p: D.Poisson(p),
}


@pytest.mark.parametrize("name", sorted(GAMMA_LIKE))
def test_gamma_family_and_poisson_draws_land_on_the_device_with_the_cpus_gradients(name):
    out = {}
    for dev in ("cpu", "cuda"):
        tg.manual_seed(0)
        p = tg.tensor(POS, device=dev, requires_grad=True)
        d = GAMMA_LIKE[name](p)
        s = d.rsample((2,)) if d.has_rsample else d.sample((2,))
        lp = d.log_prob(s)
        (lp.sum() + (s * 3.0).sum()).backward()  # rsample: implicit gradients through s
        assert s.device == lp.device == p.grad.device == dev
        out[dev] = [t.detach().cpu().numpy() for t in (s, lp, p.grad)]
    for c, d in zip(out["cpu"], out["cuda"]):
        np.testing.assert_allclose(d, c, rtol=1e-10, atol=1e-12)
