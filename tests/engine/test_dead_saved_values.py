"""A saved value handed on as a gradient (a summed product's factor) that nothing reads again
in a backward that frees the graph takes the next record's result in its memory instead of a
fresh array (``numpy_records.dead_saved``). Gradients must be those of the arena sweep bit
for bit, and a value the user still holds, a later record still reads, or a retained graph
needs must never be written."""

import tracemalloc

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep

N = 1 << 19  # elements per array: large records, adjoints held apart
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32])


def _x(dtype, shape=(N,), seed=0):
    v = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return tg.tensor(v, requires_grad=True)


def _backward_peak(loss):
    """Bytes NumPy allocated at most during ``loss.backward()``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        loss.backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@DTYPES
def test_a_dead_saved_factor_takes_a_result_instead_of_a_fresh_array(dtype):
    x = _x(dtype)
    peaks = {}
    for keep in (True, False, True, False):  # (the first backward also compiles and caches)
        s = tg.sin(x)
        loss = (s * tg.exp(-(x * x))).sum()
        if not keep:
            del s  # the product's saved sin(x) is then read by nothing after exp's VJP
        x.grad = None
        peaks[keep] = _backward_peak(loss)
    itemsize = np.dtype(dtype).itemsize
    assert peaks[True] - peaks[False] >= N * itemsize * 0.99


@DTYPES
@pytest.mark.parametrize("shape", [(N,), (512, N // 512)], ids=["flat", "matrix"])
def test_gradients_equal_the_arena_sweeps_bit_for_bit(dtype, shape, monkeypatch):
    def grad():
        x = _x(dtype, shape, 1)
        (tg.sin(x) * tg.exp(-(x * x))).sum().backward()
        g = x.grad.numpy()
        assert g.flags.writeable and g.shape == shape and g.dtype == dtype
        return g

    got = grad()
    monkeypatch.setattr(sweep, "_OWN_ARENA", 1 << 62)  # the arena only: nothing reused
    want = grad()
    np.testing.assert_array_equal(got, want)
    if dtype == np.float64:  # and the derivative itself
        x0 = _x(dtype, shape, 1).detach().numpy()
        e = np.exp(-x0 * x0)
        np.testing.assert_allclose(got, np.cos(x0) * e - 2 * x0 * np.sin(x0) * e,
                                   rtol=1e-13, atol=1e-15)


@DTYPES
def test_a_saved_value_the_user_holds_is_left_alone(dtype):
    x = _x(dtype, seed=2)
    s = tg.sin(x)
    s0 = s.detach().numpy().copy()
    (s * tg.exp(-(x * x))).sum().backward()
    np.testing.assert_array_equal(s.detach().numpy(), s0)
    assert not np.shares_memory(x.grad.numpy(), s.detach().numpy())


def test_a_value_a_later_record_reads_is_left_alone():
    """``sin(x)`` saved twice: by the summed product (swept first) and by ``sin(x) * w``,
    whose VJP runs after exp's and needs it for ``w``'s gradient."""
    x, w = _x(np.float64, seed=3), _x(np.float64, seed=4)
    x0 = x.detach().numpy()
    s = tg.sin(x)
    t = s * w
    del s
    loss = (t.sum() * 0.0 + (tg.sin(x) * w).sum() * 0.0 +
            (tg.sin(x) * tg.exp(-(x * x))).sum() + t.sum())
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), tg.sin(tg.tensor(x0)).numpy())


def test_a_retained_graph_is_swept_twice_with_the_same_values():
    x = _x(np.float64, seed=5)
    loss = (tg.sin(x) * tg.exp(-(x * x))).sum()
    loss.backward(retain_graph=True)
    once = x.grad.numpy().copy()
    x.grad = None
    loss.backward(retain_graph=True)  # the saved values were not written by the first sweep
    np.testing.assert_array_equal(x.grad.numpy(), once)
    x.grad = None
    loss.backward()  # (this one frees: it may write them)
    np.testing.assert_array_equal(x.grad.numpy(), once)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(6).standard_normal(N)
    x = tg.tensor(v, requires_grad=True)
    (tg.sin(x) * tg.exp(-(x * x))).sum().backward()
    xt = torch.tensor(v, requires_grad=True)
    (torch.sin(xt) * torch.exp(-(xt * xt))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("view", [lambda t: t[:], lambda t: t.view(-1),
                                  lambda t: t.reshape(512, -1).reshape(-1)],
                         ids=["slice", "view", "reshaped"])
def test_a_saved_view_a_later_record_reads_is_left_alone(view):
    """A view of ``sin(x)`` saved by two products holds its base once, however many records
    save it: the summed product's factor handed on to exp's VJP (run first) must not take
    exp's result, as ``t * w``'s VJP reads it afterwards for ``w``'s gradient."""
    torch = pytest.importorskip("torch")
    v = np.random.default_rng(7).standard_normal(N)
    grads = []
    for m in (tg, torch):
        x = m.tensor(v, requires_grad=True)
        w = m.tensor(np.full(N, 1.5), requires_grad=True)
        t = view(m.sin(x))
        tw = (t * w).sum()  # (recorded first: its VJP runs after exp's)
        p = (t * m.exp(-(x * x))).sum()
        del t
        (p + tw).backward()
        grads.append([g.detach().numpy() for g in (x.grad, w.grad)])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_a_base_saved_by_a_later_record_is_left_alone():
    """The same with ``sin(x)`` itself saved by both products (two references to it)."""
    x, w = _x(np.float64, seed=8), _x(np.float64, seed=9)
    s = tg.sin(x)
    tw = (s * w).sum()
    p = (s * tg.exp(-(x * x))).sum()
    del s
    (p + tw).backward()
    np.testing.assert_array_equal(w.grad.numpy(), tg.sin(x.detach()).numpy())
