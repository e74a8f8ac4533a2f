"""No sweep's arena is zeroed beforehand: the compiled loop zeroes a slot as it first reaches it,
Python writes (not adds) a slot's first gradient, and nothing reads an unreached one. The tests
make that memory NaN, so reading an unwritten slot anywhere would show, and compare with the
re-taping sweep (no arena), finite differences and PyTorch, on large and small arenas."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep


class _NaNEmpty:
    """``numpy`` for the sweep module, except that ``empty`` gives NaN-filled arrays."""

    def __init__(self, made):
        self.made = made

    def __getattr__(self, name):
        return getattr(np, name)

    def empty(self, shape, dtype=np.float64, **kw):
        out = np.empty(shape, dtype, **kw)
        if np.dtype(dtype).kind == "f":
            self.made.append(out.size)
            out.fill(np.nan)
        return out


@pytest.fixture
def lazy(monkeypatch):
    """NaN where the arena is not written; returns the sizes of the arenas made so."""
    made = []
    monkeypatch.setattr(sweep, "np", _NaNEmpty(made))
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


def _mlp(x, params, y):
    h = x
    for i in range(0, len(params) - 2, 2):
        h = tg.tanh(h @ params[i] + params[i + 1])  # bias: a broadcast gather the loop sums
    out = h @ params[-2] + params[-1]
    return ((out - y) ** 2).mean() + (h[:, ::2] * h[:, 1::2]).sum() * 0.1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_small_arenas_against_torch(rng, lazy, dtype):
    # an arena below any large-arena rule: every slot of it used to be zeroed
    torch = pytest.importorskip("torch")
    shapes = [(16, 12), (12,), (12, 12), (12,), (12, 3), (3,)]
    arrays = [rng.standard_normal(s).astype(dtype) * 0.5 for s in shapes]
    x, y = rng.standard_normal((5, 16)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
    params = [tg.tensor(a, requires_grad=True) for a in arrays]
    for _ in range(2):  # (.grad accumulates over two backwards)
        _mlp(tg.tensor(x), params, tg.tensor(y)).backward()
    assert lazy and max(lazy) < 4096
    tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
    for _ in range(2):
        h = torch.tensor(x)
        for i in range(0, 4, 2):
            h = torch.tanh(h @ tparams[i] + tparams[i + 1])
        out = h @ tparams[4] + tparams[5]
        (((out - torch.tensor(y)) ** 2).mean() + (h[:, ::2] * h[:, 1::2]).sum() * 0.1).backward()
    tol = 1e-12 if dtype == "float64" else 1e-5
    for p, t in zip(params, tparams):
        assert np.isfinite(p.grad.numpy()).all()
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


def test_unreached_outputs_hooks_and_scatters(rng, lazy):
    # a two-output custom Function with one output unused, a hook replacing a gradient, a
    # retained gradient, repeated indices (a scatter adding into a slot), a value used twice
    class TwoOut(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2.0, a * 3.0

        @staticmethod
        def backward(ctx, g1, g2):
            (a,) = ctx.saved_tensors
            return g1 * 2.0 + (0 if g2 is None else g2 * 3.0)

    def f(a, b):
        u, _ = TwoOut.apply(a)
        v = u[[0, 2, 2, 1]] * b
        v.register_hook(lambda g: g * 2.0)
        w = tg.sin(v) + v * v
        return w.sum() + (u * u).sum()

    a, b = rng.standard_normal(3), rng.standard_normal(4)
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    f(ta, tb).backward()
    assert lazy
    u = 2 * a
    v = u[[0, 2, 2, 1]] * b
    gv = 2 * (np.cos(v) + 2 * v)
    gu = 2 * u
    np.add.at(gu, [0, 2, 2, 1], gv * b)
    np.testing.assert_allclose(ta.grad.numpy(), 2 * gu, rtol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), gv * u[[0, 2, 2, 1]], rtol=1e-12)


def test_large_transpose_adds_into_a_fresh_slot(rng, lazy):
    # a large transposing map's VJP walks tiles that add into its input's adjoint
    x = tg.tensor(rng.standard_normal((256, 384)), requires_grad=True)  # (rows 128 apart)
    y = (tg.sin(x.T.contiguous()) * 2.0).sum()
    y.backward()
    assert lazy
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(x.detach().numpy()), rtol=1e-12)
