"""A large sweep's arena is zeroed only where zeros are read (``engine.arena._arena``): large
slots that only Python writes start as they are. The tests make that memory NaN, so reading
an unwritten slot anywhere would show, and compare with the re-taping sweep (no arena),
finite differences and PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep


class _NaNEmpty:
    """``numpy`` for the sweep module, except that ``empty`` gives NaN-filled arrays."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def empty(shape, dtype=np.float64, **kw):
        out = np.empty(shape, dtype, **kw)
        if np.dtype(dtype).kind == "f":
            out.fill(np.nan)
        return out


@pytest.fixture
def lazy(monkeypatch):
    """NaN where the arena is not zeroed; returns the number of lazily made arenas."""
    made = []
    arena = sweep._arena

    def counting(recs, offs, dtype):
        made.append(1)
        return arena(recs, offs, dtype)

    monkeypatch.setattr(sweep, "np", _NaNEmpty())
    monkeypatch.setattr(sweep, "_arena", counting)
    return made


def _gmm_like(alphas, means, L, x):
    xc = x[:, None, :] - means[None, :, :]  # broadcast: a compiled record reads a large slot
    lx = tg.einsum("kij,nkj->nki", L, xc)  # Python record
    qx = tg.exp(means)[None, :, :] * xc + lx  # large elementwise records NumPy sweeps
    w = qx @ L[0]  # matrix products write into their slots
    inner = alphas - 0.5 * (qx * w).sum(2)
    return tg.logsumexp(inner, 1).sum() + (xc ** 2).mean()


def _inputs(rng, n=700, k=8, d=6):
    return (rng.standard_normal(k), rng.standard_normal((k, d)) * 0.3,
            rng.standard_normal((k, d, d)) * 0.3, rng.standard_normal((n, d)))


def _grads(f, arrays, create_graph=False):
    leaves = [tg.tensor(a, requires_grad=True) for a in arrays]
    gs = tg.autograd.grad(f(*leaves), leaves, create_graph=create_graph)
    return [g.detach().numpy() for g in gs]


def test_large_arena_gradients_match_the_retaping_sweep(rng, lazy):
    arrays = _inputs(rng)
    got = _grads(_gmm_like, arrays)
    assert lazy  # the sweep took the lazy arena
    want = _grads(_gmm_like, arrays, create_graph=True)
    for g, w in zip(got, want):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-12)


def test_large_arena_against_torch(rng, lazy):
    torch = pytest.importorskip("torch")
    arrays = _inputs(rng)
    got = _grads(_gmm_like, arrays)
    a, m, L, x = (torch.tensor(v, requires_grad=True) for v in arrays)
    xc = x[:, None, :] - m[None, :, :]
    qx = torch.exp(m)[None, :, :] * xc + torch.einsum("kij,nkj->nki", L, xc)
    inner = a - 0.5 * (qx * (qx @ L[0])).sum(2)
    (torch.logsumexp(inner, 1).sum() + (xc ** 2).mean()).backward()
    for g, t in zip(got, (a, m, L, x)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unreached_and_partly_reached_slots(rng, lazy):
    # a large input that needs no gradient, an input reached by one path only, a retained
    # gradient of a large intermediate, inputs= on an unreached intermediate
    x = tg.tensor(rng.standard_normal((600, 300)), requires_grad=True)
    const = tg.tensor(rng.standard_normal((300, 300)))
    h = x @ const
    h.retain_grad()
    unused = tg.tanh(h) * 3.0
    y = (tg.sin(h) * h).sum()
    gx, gu = tg.autograd.grad(y, [x, unused], allow_unused=True)
    assert lazy and gu is None
    hv = x.detach().numpy() @ const.numpy()
    gh = np.cos(hv) * hv + np.sin(hv)
    np.testing.assert_allclose(gx.numpy(), gh @ const.numpy().T, rtol=1e-11)
    h = x @ const
    h.retain_grad()
    (tg.sin(h) * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), gh, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), gh @ const.numpy().T, rtol=1e-11)


def test_gradcheck_on_a_large_arena(rng):
    arrays = _inputs(rng, n=400, k=4, d=4)
    leaves = tuple(tg.tensor(a, requires_grad=True) for a in arrays)
    assert tg.autograd.gradcheck(_gmm_like, leaves, eps=1e-6, atol=1e-5)
