"""A large elementwise record whose input's adjoint already holds a gradient adds its formula
into that adjoint in one pass (``numpy_records.add_loop``) instead of writing the formula into
an array and adding that: the gradients must be those of the two passes bit for bit, in the
arena and in adjoints held apart, in float64 and float32."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import numpy_records

# 4100 elements: few enough records that the arena holds every adjoint; 40000: large records'
# adjoints held apart from the arena (engine.sweep's thresholds)
SIZES = (4100, 40000)


def _fan_out(L, u, w):
    """Every input used by several large records, so most of them find a gradient there."""
    return {
        "trig": lambda: (L.sin(u) * w + u * u + L.cos(u)).sum(),
        "exp_tanh": lambda: (L.exp(-u) + L.tanh(u) * w + u * 0.5 - u).sum(),
        "div_max": lambda: (u / (w * w + 1.0) + L.maximum(u, w) + w * u + L.sigmoid(w)).sum(),
        "square_after": lambda: (L.sin(u) + u * u + L.relu(u) * w).sum(),  # x*x: reached
        "chain": lambda: (L.tanh(L.tanh(u) * w + u) * u).sum(),
    }


PROGRAMS = tuple(_fan_out(None, None, None))


def _grads(name, n, dtype, fused=True, monkeypatch=None):
    r = np.random.default_rng(n)
    uv, wv = r.standard_normal(n).astype(dtype), r.standard_normal(n).astype(dtype)
    u, w = tg.tensor(uv, requires_grad=True), tg.tensor(wv, requires_grad=True)
    if not fused:
        monkeypatch.setattr(numpy_records, "add_loop", lambda *a: None)
    _fan_out(tg, u * 1.0, w * 1.0)[name]().backward()  # (u*1.0: an intermediate fans out)
    if not fused:
        monkeypatch.undo()
    return u.grad.numpy(), w.grad.numpy()


@pytest.fixture
def adds(monkeypatch):
    """The adjoints a formula was added into, each as whether it lived in the arena."""
    seen = []
    real = numpy_records._sum_so_far

    def spy(sw, s, g, args):
        dst = real(sw, s, g, args)
        if dst is not None:
            seen.append(sw.own is None or not sw.own[s])
        return dst
    monkeypatch.setattr(numpy_records, "_sum_so_far", spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", PROGRAMS)
def test_one_pass_sums_equal_two_passes_bit_for_bit(name, n, dtype, adds, monkeypatch):
    fused = _grads(name, n, dtype)
    assert adds, "no record added its formula into an adjoint"
    assert set(adds) == {n == SIZES[0]}  # (arena, or held apart)
    plain = _grads(name, n, dtype, fused=False, monkeypatch=monkeypatch)
    for a, b in zip(fused, plain):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", PROGRAMS)
def test_fan_out_gradients_match_torch_and_finite_differences(name, n):
    gu, gw = _grads(name, n, np.float64)
    r = np.random.default_rng(n)
    uv, wv = r.standard_normal(n), r.standard_normal(n)
    # a directional finite difference (central, float64) along a random direction
    d = np.random.default_rng(7).standard_normal((2, n))

    def f(a, b):
        with tg.no_grad():
            return float(_fan_out(tg, tg.tensor(a), tg.tensor(b))[name]())
    h = 1e-6
    fd = (f(uv + h * d[0], wv + h * d[1]) - f(uv - h * d[0], wv - h * d[1])) / (2 * h)
    np.testing.assert_allclose(gu @ d[0] + gw @ d[1], fd, rtol=1e-6)
    torch = pytest.importorskip("torch")
    tu, tw = torch.tensor(uv, requires_grad=True), torch.tensor(wv, requires_grad=True)
    _fan_out(torch, tu * 1.0, tw * 1.0)[name]().backward()
    np.testing.assert_allclose(gu, tu.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_hooks_retained_grads_and_double_backward_see_the_sum(adds):
    """A hook on, and ``retain_grad`` of, a fanned-out intermediate see its whole gradient;
    ``create_graph`` re-tapes the same sums."""
    r = np.random.default_rng(3)
    xv = r.standard_normal(40000)
    seen = []
    x = tg.tensor(xv, requires_grad=True)
    u = x * 2.0
    u.retain_grad()
    u.register_hook(lambda g: seen.append(g.numpy().copy()))
    (tg.sin(u) + u * u + tg.exp(u) * 0.5).sum().backward()
    assert adds
    want = np.cos(2 * xv) + 2 * (2 * xv) + 0.5 * np.exp(2 * xv)
    np.testing.assert_allclose(u.grad.numpy(), want, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(seen[0], u.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * want, rtol=1e-13, atol=1e-15)
    x2 = tg.tensor(xv, requires_grad=True)
    (g,) = tg.autograd.grad((tg.sin(x2) + x2 * x2).sum(), x2, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x2)
    np.testing.assert_allclose(h.numpy(), -np.sin(xv) + 2.0, rtol=1e-13)


def test_an_adjoint_sharing_memory_with_an_operand_is_not_added_into():
    """The one-pass sum reads the formula's arrays while it writes the adjoint: never where they
    overlap (the formula's result is computed first, then added)."""
    n = 40000
    g = np.ones(n)

    class _Sweep:  # just what _sum_so_far reads
        own = None
        reached = np.ones(2, np.uint8)
        offs = np.array([0, n, 2 * n])
        adj = np.zeros(2 * n)
    sw = _Sweep()
    assert numpy_records._sum_so_far(sw, 0, g, (g, sw.adj[:n], None)) is None
    assert numpy_records._sum_so_far(sw, 0, g, (g, sw.adj[n:], None)) is not None
    sw.reached[0] = 0
    assert numpy_records._sum_so_far(sw, 0, g, (g, None)) is None  # (first gradient: written)
