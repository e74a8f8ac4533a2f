"""Dirichlet and Beta draws with small concentrations stay inside (0, 1), as PyTorch's (which
clamps them to [tiny, the float below 1]): log_prob of a draw is finite, and the clamp leaves
the reparameterised gradient flowing."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_small_concentration_draws_inside_open_interval(dtype):
    tg.manual_seed(0)
    beta = tg.distributions.Beta(tg.tensor(0.02, dtype=getattr(tg, dtype)),
                                 tg.tensor(0.02, dtype=getattr(tg, dtype)))
    s = beta.sample((20000,))
    ref = torch.distributions.Beta(torch.tensor(0.02, dtype=getattr(torch, dtype)),
                                   torch.tensor(0.02, dtype=getattr(torch, dtype)))
    r = ref.sample((20000,))
    a = s.numpy()
    assert a.min() >= np.finfo(dtype).tiny and a.max() <= np.nextafter(np.array(1, dtype),
                                                                        np.array(0, dtype))
    assert np.isfinite(beta.log_prob(s).numpy()).all()
    assert np.isfinite(ref.log_prob(r).numpy()).all()
    d = tg.distributions.Dirichlet(tg.tensor([0.02, 0.02, 0.02], dtype=getattr(tg, dtype)))
    x = d.sample((20000,)).numpy()
    assert (x > 0).all() and (x < 1).all()


def test_clamped_draw_keeps_gradient():
    c = tg.tensor([0.02, 0.03], requires_grad=True)
    tg.manual_seed(0)
    x = tg.distributions.Dirichlet(c).rsample((200,))
    x[:, 0].sum().backward()
    edge = (x.detach().numpy()[:, 0] == np.nextafter(1.0, 0.0)).any()
    assert edge  # (this seed draws shares that round to 1)
    g = c.grad.numpy()
    assert np.isfinite(g).all() and (g != 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lkj_draws_stay_in_support_and_score(dtype):
    tg.manual_seed(0)
    d = tg.distributions.LKJCholesky(3, tg.tensor(0.1, dtype=getattr(tg, dtype)))
    s = d.sample((50000,))
    assert s.dtype == getattr(tg, dtype)
    assert bool(tg.distributions.constraints.corr_cholesky.check(s).all())
    assert np.isfinite(d.log_prob(s).numpy()).all()
    ref = torch.distributions.LKJCholesky(3, torch.tensor(0.1, dtype=getattr(torch, dtype)))
    r = ref.sample((50000,))
    assert bool(torch.distributions.constraints.corr_cholesky.check(r).all())


class _NearOne:
    """A generator whose uniform draws are within 2**-25 of 1 (they round to 1.0 in float32)."""

    def random(self, shape):
        return np.full(shape, 1.0 - 2.0 ** -30)

    def standard_normal(self, shape):
        return np.zeros(shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_draws_stay_below_one(dtype, monkeypatch):
    from tapegrad.distributions import continuous

    monkeypatch.setattr(continuous.creation, "draws", lambda generator=None: _NearOne())
    dt = getattr(tg, dtype)
    u = tg.distributions.Uniform(tg.tensor(0.0, dtype=dt), tg.tensor(1.0, dtype=dt))
    s = u.sample((4,))
    assert (s.numpy() < 1).all() and np.isfinite(u.log_prob(s).numpy()).all()
    e = tg.distributions.Exponential(tg.tensor(1.0, dtype=dt)).sample((4,))
    assert np.isfinite(e.numpy()).all()
    g = tg.distributions.Gumbel(tg.tensor(0.0, dtype=dt), 1.0).sample((4,))
    assert np.isfinite(g.numpy()).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clamp_moves_only_the_edge_shares(dtype):
    # the clamped draw is the normalised gamma draw with exactly the shares that rounded to 0
    # or 1 moved to tiny / the float below 1, and the gradient is that of the draw itself
    from tapegrad.distributions.incgamma import standard_gamma

    dt = getattr(tg, dtype)
    c = tg.tensor([0.02, 0.03, 0.01], dtype=dt, requires_grad=True)
    tg.manual_seed(0)
    x = tg.distributions.Dirichlet(c).rsample((300,))
    tg.manual_seed(0)
    g = standard_gamma(c.expand(300, 3))
    raw = g / g.sum(-1, keepdim=True)
    info = np.finfo(dtype)
    want = np.clip(raw.detach().numpy(), info.tiny, np.nextafter(np.array(1, dtype), 0))
    assert x.dtype == dt and (raw.detach().numpy() != want).any()
    np.testing.assert_array_equal(x.detach().numpy(), want)
    w = tg.arange(900, dtype=dt).reshape(300, 3)
    (gx,) = tg.autograd.grad((x * w).sum(), c)
    (graw,) = tg.autograd.grad((raw * w).sum(), c)
    np.testing.assert_array_equal(gx.numpy(), graw.numpy())


def test_float64_uniform_draws_are_the_generator_stream():
    from tapegrad import creation

    tg.manual_seed(7)
    s = tg.distributions.Uniform(tg.zeros(5, dtype=tg.float64), 1.0).sample((3,))
    tg.manual_seed(7)
    np.testing.assert_array_equal(s.numpy(), creation.draws().random((3, 5)))
