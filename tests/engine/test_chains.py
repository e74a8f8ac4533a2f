"""Consecutive large elementwise records swept a chunk at a time (``engine.chains``): the same
gradients, bit for bit, as their passes over whole arrays, and PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import chains, sweep

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32])


def _chunk(dtype):
    return chains.CHUNK // np.dtype(dtype).itemsize


@pytest.fixture
def runs(monkeypatch):
    """The number of records whose passes each pending run held, in order."""
    seen = []
    run = chains.Later.run

    def spy(self):
        if self.ops:
            seen.append(self.records)
        return run(self)

    monkeypatch.setattr(chains.Later, "run", spy)
    return seen


def _grads(f, arrays, monkeypatch, whole):
    """The leaves' gradients of ``f`` on tensors of ``arrays`` (chunks off: ``whole``)."""
    with monkeypatch.context() as m:
        if whole:
            m.setattr(chains, "CHUNK", 1 << 62)
        leaves = [tg.tensor(a, requires_grad=True) for a in arrays]
        f(tg, *leaves)
        return [t.grad.numpy().copy() for t in leaves]


def _torch_grads(f, arrays):
    torch = pytest.importorskip("torch")
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    f(torch, *leaves)
    return [t.grad.numpy() for t in leaves]


def _sin_exp(lib, x):
    (lib.sin(x) * lib.exp(-(x * x))).sum().backward()


def _check(f, arrays, monkeypatch, runs, chunked=True):
    got = _grads(f, arrays, monkeypatch, whole=False)
    assert (max(runs, default=0) >= 2) == chunked  # (a run of two records or more: chunks)
    want = _grads(f, arrays, monkeypatch, whole=True)
    for a, b in zip(got, want):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    tol = dict(rtol=1e-10, atol=1e-12) if arrays[0].dtype == np.float64 else \
        dict(rtol=2e-4, atol=1e-5)
    for a, b in zip(got, _torch_grads(f, arrays)):
        np.testing.assert_allclose(a, b, **tol)


@DTYPES
@pytest.mark.parametrize("extra", [0, 1, 3 * 512 - 7])
def test_sin_exp_in_chunks(dtype, extra, monkeypatch, runs):
    """Two chunks exactly, and a last chunk taking an odd remainder."""
    n = 2 * _chunk(dtype) + extra
    x = (np.random.default_rng(extra).standard_normal(n) * 3).astype(dtype)
    x[:4] = [0.0, -0.0, 1e6, -3e5]  # (-0.0's sign; arguments the trig kernels leave to NumPy)
    _check(_sin_exp, [x], monkeypatch, runs)


def _mixed(lib, x, w):
    y = lib.tanh(x) * w
    z = (y + x) / (1.5 + w * w)
    u = lib.sigmoid(z) - z ** 3 + lib.log(1.0 + x * x) * lib.cos(w) - lib.relu(w - 0.5)
    g = lib.ones_like(u) * 0.5 + x * 0  # (a seed that is not a sum's broadcast)
    u.backward(g.detach(), retain_graph=True)
    (u * u).sum().backward()  # a second backward through the retained graph


def test_mixed_chain_retained_graph(monkeypatch, runs):
    r = np.random.default_rng(1)
    n = 3 * _chunk(np.float64) + 5
    _check(_mixed, [r.standard_normal(n), r.standard_normal(n)], monkeypatch, runs)


def _hooked(lib, x, b):
    rows = x.reshape(-1, 64)
    h = lib.exp(-(rows * rows)) + b  # b broadcast over the rows: its gradient summed
    h.register_hook(lambda g: g * 2.0)  # the sweep pauses there: the chain stops
    (lib.sin(h) * lib.tanh(rows) * h).sum().backward()


def test_chain_broken_by_hooks_and_broadcast_operands(monkeypatch, runs):
    r = np.random.default_rng(2)
    n = 4 * _chunk(np.float64)
    _check(_hooked, [r.standard_normal(n), r.standard_normal(64)], monkeypatch, runs)


def test_small_records_run_at_once(monkeypatch, runs):
    x = np.random.default_rng(3).standard_normal(2 * _chunk(np.float64) - 1)
    _check(_sin_exp, [x], monkeypatch, runs, chunked=False)
    x = np.random.default_rng(3).standard_normal(10_000)
    _check(_sin_exp, [x], monkeypatch, runs, chunked=False)


def test_overflow_and_error_state(monkeypatch, runs):
    """Formulas overflowing to inf say nothing (as over whole arrays), under ``raise`` too."""
    n = 2 * _chunk(np.float64) + 9
    x0 = np.random.default_rng(4).standard_normal(n) * 300.0
    got = []
    for whole in (False, True):
        with monkeypatch.context() as m:
            if whole:
                m.setattr(chains, "CHUNK", 1 << 62)
            x = tg.tensor(x0, requires_grad=True)
            with np.errstate(over="ignore"):
                loss = (tg.exp(x) * tg.exp(x)).sum()
            with np.errstate(all="raise"):
                loss.backward()
            got.append(x.grad.numpy())
    assert max(runs) >= 2
    np.testing.assert_array_equal(got[0], got[1])
    assert np.isinf(got[0]).any()


def _with_small_records(lib, x, w):
    c = w[:1] * 1.0
    for _ in range(8000):  # many small records: the adjoints stay in the arena
        c = c * 0.999 + 0.001
    (lib.sin(x) * lib.exp(-(x * x)) * c + lib.tanh(x) * w).sum().backward()


def test_chain_with_adjoints_in_the_arena(monkeypatch, runs):
    owned = []
    init = sweep.Sweep.__init__

    def spy(self, *a, **k):
        init(self, *a, **k)
        owned.append(self.own is not None)

    monkeypatch.setattr(sweep.Sweep, "__init__", spy)
    r = np.random.default_rng(5)
    n = 2 * _chunk(np.float64) + 3
    _check(_with_small_records, [r.standard_normal(n), r.standard_normal(n)], monkeypatch, runs)
    assert not any(owned)
