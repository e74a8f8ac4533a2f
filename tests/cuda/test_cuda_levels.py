"""The level interpreter of the device sweep (engine/cuda/levels.py) gives the per-record
sweep's gradients, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
from tapegrad.engine.cuda import levels

RNG = np.random.default_rng(3)
A = RNG.uniform(0.5, 1.5, (2, 3))
B = RNG.uniform(0.5, 1.5, (3,))


@pytest.fixture
def mode():
    """Set ``levels.MODE`` for one test, and count the interpreter's runs."""
    runs = []
    real = levels.run

    def counted(sw, order, pauses):
        runs.append(len(order))
        return real(sw, order, pauses)

    levels.run = counted
    yield lambda m: setattr(levels, "MODE", m) or runs
    levels.run = real
    levels.MODE = "auto"


def wide(x, y):
    """Broadcasts, views, sums, unary and binary ops with constants, Python elementwise ops,
    a shared input."""
    z = x
    for _ in range(3):
        z = tg.sin(z) * y + z / (y + 1.0) - tg.exp(-z) ** 2 + tg.maximum(z, y) * 0.5
        z = tg.atan(z) + tg.atan2(z, y + 2.0) * tg.erf(z)
        z = z.reshape(3, 2).t().clone()
    return (z * x).sum() + tg.tanh(x).sum(0).mean() + (x ** y).sum(1).mean()


def chain(x, y):
    """A chain: one record per level (one block interprets the whole chain)."""
    for _ in range(20):
        x = x * 1.01 + y
    return x.sum()


def _grads(fn, dev, dtype=np.float64, **kw):
    x = tg.tensor(A.astype(dtype), device=dev, requires_grad=True)
    y = tg.tensor(B.astype(dtype), device=dev, requires_grad=True)
    fn(x, y).backward(**kw)
    return x.grad.cpu().numpy(), y.grad.cpu().numpy()


@pytest.mark.parametrize("fn", [wide, chain])
def test_levels_give_the_per_record_gradients(mode, fn):
    runs = mode("records")
    per_record = _grads(fn, "cuda")
    assert runs == []
    mode("levels")
    interpreted = _grads(fn, "cuda")
    assert runs and runs[0] > 20
    cpu = _grads(fn, "cpu")
    for r, i, c in zip(per_record, interpreted, cpu):
        np.testing.assert_allclose(i, r, rtol=1e-12)
        np.testing.assert_allclose(i, c, rtol=1e-12)


def test_chunks_of_the_range_give_the_same_gradients(mode, monkeypatch):
    runs = mode("levels")
    monkeypatch.setattr(levels, "CHUNK_ELEMENTS", 20)  # a few records per chunk
    got = _grads(wide, "cuda")
    assert runs
    for g, w in zip(got, _grads(wide, "cpu")):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_float32_leaves(mode):
    mode("levels")
    got = _grads(wide, "cuda", np.float32)
    want = _grads(wide, "cpu", np.float32)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-4)


def test_the_size_rule_picks_levels_for_many_small_records(mode, monkeypatch):
    runs = mode("auto")
    _grads(chain, "cuda")
    assert len(runs) == 1
    monkeypatch.setattr(levels, "MAX_MEAN_SIZE", 4)  # small sizes for the simulator
    x = tg.tensor(np.ones(16), device="cuda", requires_grad=True)
    y = x
    for _ in range(levels.MIN_RECORDS):
        y = y * 1.5
    y.sum().backward()
    assert len(runs) == 1  # records of 4x the rule's size: one launch per record
    np.testing.assert_allclose(x.grad.cpu().numpy()[:3], 1.5 ** levels.MIN_RECORDS)


def test_hooks_indexing_and_matmul_keep_the_per_record_sweep(mode):
    runs = mode("levels")
    x = tg.tensor(A, device="cuda", requires_grad=True)
    y = tg.exp(x) * 2.0
    y.register_hook(lambda g: g * 3.0)
    (y * 1.0).sum().backward()
    (x[[0, 0]] * 2.0).sum().backward()
    (x @ x.t()).sum().backward()
    assert runs == []
    want = 6.0 * np.exp(A) + np.array([[4.0], [0.0]]) + 2.0 * A.sum(0)
    np.testing.assert_allclose(x.grad.cpu().numpy(), want, rtol=1e-12)


def test_freed_graph_and_partial_gradients(mode):
    mode("levels")
    x = tg.tensor(A, device="cuda", requires_grad=True)
    y = tg.tensor(B, device="cuda", requires_grad=True)
    loss = wide(x, y)
    (gy,) = tg.autograd.grad(loss, y, retain_graph=True)
    np.testing.assert_allclose(gy.cpu().numpy(), _grads(wide, "cpu")[1], rtol=1e-12)
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("m", ["records", "levels"])
def test_an_in_place_change_of_a_saved_value_is_reported(mode, m):
    mode(m)
    x = tg.tensor(A, device="cuda", requires_grad=True)
    y = x * 1.0
    z = chain(tg.sin(y), x)
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
