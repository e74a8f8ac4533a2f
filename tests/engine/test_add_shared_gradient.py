"""A large sum ``u + v`` hands its gradient ``g`` itself to both inputs. Where both inputs'
adjoints are held apart from the arena, they share one read-only view of ``g`` (no copy); each
later gradient added into either makes a total of its own, and a formula reading the view
writes its result elsewhere. Gradients must be PyTorch's and the re-taping sweep's."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep

N, K, D = 1000, 25, 10  # (N, K, D) arrays: the arena passes the held-apart thresholds


def _gmm_like(x, m, q, L, T=tg):
    xc = x[:, None, :] - m[None, :, :]  # broadcast on the right
    lx = T.einsum("kij,nkj->nki", L, xc)
    u = q[None, :, :] * xc  # broadcast on the left
    s = u + lx  # both inputs held apart: the shared gradient
    w = s * s + T.sin(u) * lx  # u and lx read again: totals added to the shared view
    return w.sum() + (s * xc).sum()


def _inputs(dtype, seed=0):
    r = np.random.default_rng(seed)
    return [r.standard_normal(s).astype(dtype) for s in ((N, D), (K, D), (K, D), (K, D, D))]


def _torch_grads(xs, f=_gmm_like):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(v, requires_grad=True) for v in xs]
    f(*ts, T=torch).backward()
    return [t.grad.numpy() for t in ts]


@pytest.fixture
def held_pairs(monkeypatch):
    """(slot, gradient handed in) for each adjoint held apart, in order."""
    seen = []
    hold = sweep.Sweep._hold

    def spy(self, s, gi, fresh, *do):  # (``do``: a chain's deferred passes, ``chains``)
        seen.append((s, gi))
        return hold(self, s, gi, fresh, *do)

    monkeypatch.setattr(sweep.Sweep, "_hold", spy)
    return seen


def test_both_inputs_of_a_large_sum_share_its_gradient(held_pairs):
    xs = _inputs(np.float64)
    ts = [tg.tensor(v, requires_grad=True) for v in xs]
    xc = ts[0][:, None, :] - ts[1][None, :, :]
    s = ts[2][None, :, :] * xc + tg.einsum("kij,nkj->nki", ts[3], xc)
    (s * s).sum().backward()
    big = [(slot, g) for slot, g in held_pairs if g.size == N * K * D]
    shared = [(a, b) for (sa, a), (sb, b) in zip(big, big[1:]) if sa != sb and
              np.shares_memory(a, b)]
    assert shared, "the sum's two inputs were given separate copies of its gradient"
    assert all(not a.flags.writeable for pair in shared for a in pair)
    want = _torch_grads(xs, lambda x, m, q, L, T: ((q[None] * (x[:, None] - m[None]) + T.einsum(
        "kij,nkj->nki", L, x[:, None] - m[None])) ** 2).sum())
    for t, w in zip(ts, want):
        np.testing.assert_allclose(t.grad.numpy(), w, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shared_gradient_totals_match_torch(dtype):
    xs = _inputs(dtype)
    ts = [tg.tensor(v, requires_grad=True) for v in xs]
    _gmm_like(*ts).backward()
    tol = dict(rtol=1e-9, atol=1e-8) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-2)
    for t, w in zip(ts, _torch_grads(xs)):
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), w, **tol)


def test_non_contiguous_inputs_second_backward_and_private_grads():
    xs = _inputs(np.float64, 1)
    wide = np.repeat(xs[0], 2, axis=1)  # x a strided view of a wider array
    xt = tg.tensor(wide, requires_grad=False)[:, ::2]
    ts = [tg.tensor(v, requires_grad=True) for v in xs[1:]]
    f = _gmm_like(xt, *ts)
    f.backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in ts]
    want = _torch_grads(xs)[1:]
    for g, w in zip(first, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-8)
    ts[0].grad.mul_(0.0)  # in place on one .grad: no other gradient shares its memory
    for t, g in zip(ts[1:], first[1:]):
        np.testing.assert_array_equal(t.grad.numpy(), g)
    f.backward()  # the retained graph again: adds into the grads
    np.testing.assert_allclose(ts[0].grad.numpy(), want[0], rtol=1e-9, atol=1e-8)
    for t, w in zip(ts[1:], want[1:]):
        np.testing.assert_allclose(t.grad.numpy(), 2 * w, rtol=1e-9, atol=1e-8)


def test_second_order_through_a_large_sum_matches_torch():
    torch = pytest.importorskip("torch")
    xs = _inputs(np.float64, 2)
    ts = [tg.tensor(v, requires_grad=True) for v in xs]
    gs = tg.autograd.grad(_gmm_like(*ts), ts[1:], create_graph=True)
    sum(g.sum() for g in gs).backward()
    qs = [torch.tensor(v, requires_grad=True) for v in xs]
    hs = torch.autograd.grad(_gmm_like(*qs, T=torch), qs[1:], create_graph=True)
    sum(h.sum() for h in hs).backward()
    for g, h in zip(gs, hs):
        np.testing.assert_allclose(g.detach().numpy(), h.detach().numpy(), rtol=1e-9, atol=1e-8)
    for t, q in zip(ts, qs):
        np.testing.assert_allclose(t.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-7)


def test_gradient_along_a_direction_matches_finite_differences():
    xs = _inputs(np.float64, 3)
    ts = [tg.tensor(v, requires_grad=True) for v in xs]
    f = _gmm_like(*ts)
    f.backward()
    r = np.random.default_rng(4)
    dirs = [r.standard_normal(v.shape) for v in xs]
    h = 1e-6

    def at(eps):
        return float(_gmm_like(*[tg.tensor(v + eps * d) for v, d in zip(xs, dirs)]))

    fd = (at(h) - at(-h)) / (2 * h)
    got = sum(float((t.grad.numpy() * d).sum()) for t, d in zip(ts, dirs))
    assert abs(fd - got) <= 1e-5 * max(1.0, abs(got))


@pytest.mark.parametrize("hooked", [False, True])
def test_retained_grads_and_hooks_on_both_inputs_of_the_sum(hooked):
    torch = pytest.importorskip("torch")
    xs = _inputs(np.float64, 5)

    def run(T, ts):
        x, m, q, L = ts
        xc = x[:, None, :] - m[None, :, :]
        lx = T.einsum("kij,nkj->nki", L, xc)
        u = q[None, :, :] * xc
        u.retain_grad()
        lx.retain_grad()
        if hooked:
            u.register_hook(lambda g: g * 2)
            lx.register_hook(lambda g: g + 1)
        s = u + lx
        (s * s + T.sin(u) * lx).sum().backward()
        return [t.grad for t in ts] + [u.grad, lx.grad]

    got = run(tg, [tg.tensor(v, requires_grad=True) for v in xs])
    want = [w.numpy() for w in run(torch, [torch.tensor(v, requires_grad=True) for v in xs])]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-9)
    got[4].mul_(0.0)  # the retained grads are private: lx.grad is unchanged
    np.testing.assert_allclose(got[5].numpy(), want[5], rtol=1e-10, atol=1e-9)
