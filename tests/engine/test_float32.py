"""float32 end to end: a float32 program saves float32 and sweeps a float32 arena (plain kernel,
vectorised kernel, NumPy for large records); mixed float32/float64 graphs stay exact."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.engine import sweep

F32 = {"rtol": 2e-5, "atol": 2e-6}  # float32 results against PyTorch's float32 results


@pytest.fixture(autouse=True)
def fresh_segment():
    """The arena's precision is decided per segment: start each test on a fresh one (an
    earlier test may have left float64 records on the current segment)."""
    if tape._local.seg is not None:
        tape.retire(tape._local.seg)


def _arena_dtype(y):
    """The arena dtype the numeric sweep would use for the segment holding ``y``."""
    return sweep.Sweep(y._seg, y._rec).adj.dtype


def _leaf(a, dtype):
    return tg.tensor(np.asarray(a, dtype), requires_grad=True)


def test_float32_program_saves_float32_and_sweeps_in_float32():
    x = _leaf(np.linspace(-1, 1, 12).reshape(3, 4), np.float32)
    w = _leaf(np.full((4, 2), 0.3), np.float32)
    b = _leaf([0.1, -0.2], np.float32)
    y = (tg.tanh(x @ w + b) * x[:, :2]).sum()
    saved = [a for a in y._seg.avals if a is not None]
    assert saved and all(a.dtype == np.float32 for a in saved)
    assert _arena_dtype(y) == np.float32
    y.backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_float64_and_mixed_programs_sweep_in_float64():
    x64 = _leaf([0.5, 1.5], np.float64)
    y = (x64 * x64).sum()
    assert _arena_dtype(y) == np.float64
    y.backward()  # the next records go to a fresh segment
    x32 = _leaf([0.5, 1.5], np.float32)
    y = (x32 * x32).sum() + (x32 * x64).sum()  # a float64 record on the segment
    assert _arena_dtype(y) == np.float64
    y.backward()
    np.testing.assert_allclose(x32.grad.numpy(), 2 * np.array([0.5, 1.5]) + [0.5, 1.5])


def _program(T, x, w, b):
    """Every hot formula (add, sub, mul, constants, neg, tanh, exp, sigmoid, relu), a broadcast
    bias, row sums, slicing, a matmul and some formulas of the switch (sin, div, sqrt)."""
    h = T.tanh(x @ w + b)
    h = h * 0.5 - h * h + 1.5 + (-h)
    h = T.sigmoid(h) + T.exp(h * 0.1) + T.relu(h - 0.2) + T.sin(h) / (h * h + 2.0)
    h = h.sum(1, keepdim=True) * T.sqrt(x[:, :1] * x[:, :1] + 1.0)
    return (h * h).sum()


@pytest.mark.parametrize("rows", [1, 24, 2048])  # plain kernel, vectorised, NumPy (>= 4096)
def test_float32_gradients_match_torch_float32(torch, rows):
    rng = np.random.default_rng(rows)
    xa = rng.uniform(-1, 1, (rows, 3)).astype(np.float32)
    wa = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    ba = rng.uniform(-1, 1, 4).astype(np.float32)
    ts = [_leaf(a, np.float32) for a in (xa, wa, ba)]
    ps = [torch.tensor(a, requires_grad=True) for a in (xa, wa, ba)]
    y, ty = _program(tg, *ts), _program(torch, *ps)
    assert y.dtype == np.float32 and _arena_dtype(y) == np.float32
    y.backward()
    ty.backward()
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-5)
    for t, p in zip(ts, ps):
        assert t.grad.dtype == np.float32
        scale = np.abs(p.grad.numpy()).max()
        np.testing.assert_allclose(t.grad.numpy(), p.grad.numpy(), rtol=F32["rtol"],
                                   atol=F32["atol"] * max(scale, 1.0))


@pytest.mark.parametrize("rows", [1, 24, 2048])
def test_float32_gradients_close_to_float64_gradients(rows):
    rng = np.random.default_rng(rows + 1)
    arrays = [rng.uniform(-1, 1, s) for s in ((rows, 3), (3, 4), (4,))]
    t32 = [_leaf(a, np.float32) for a in arrays]
    t64 = [_leaf(a.astype(np.float32), np.float64) for a in arrays]
    _program(tg, *t32).backward()
    _program(tg, *t64).backward()
    for a, b in zip(t32, t64):
        scale = np.abs(b.grad.numpy()).max()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4,
                                   atol=1e-5 * max(scale, 1.0))


@pytest.mark.parametrize("n", [3, 64, 5000])
def test_float64_record_reading_float32_saved_values_is_exact(n):
    # z = x32 * w64 is float64 (NumPy's promotion); it saves x32 as float32, which a float64
    # sweep reads widened: dz/dw = x32 exactly, dz/dx = w64 rounded to float32 at the end
    rng = np.random.default_rng(n)
    xa, wa = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n)
    x, w = _leaf(xa, np.float32), _leaf(wa, np.float64)
    z = x * w
    assert z.dtype == np.float64
    (z * z).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * (xa * wa) * xa, rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), (2 * (xa * wa) * wa).astype(np.float32),
                               rtol=1e-6)
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_float32_record_reading_float64_saved_values():
    # where() saves its mask as float64 and 0-d float32 values are saved as Python floats:
    # a float32 sweep reads both through the formula switch
    xa = np.array([0.5, -1.5, 2.0, -0.25], np.float32)
    x = _leaf(xa, np.float32)
    s = _leaf(1.5, np.float32)
    y = (tg.where(x > 0, x * x, -x) * 2.0).sum() * (s * s)
    assert _arena_dtype(y) == np.float32
    y.backward()
    expect = np.where(xa > 0, 2 * xa, -1.0) * 2.0 * 2.25
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(s.grad.item(), 2 * 1.5 * float(np.sum(np.where(
        xa > 0, xa * xa, -xa) * 2.0)), rtol=1e-6)


def test_mixed_graph_matches_torch(torch):
    # float32 and float64 leaves, promotion both ways, a float32 tensor cast to float64
    fa = np.array([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]], np.float32)
    da = np.array([1.1, 0.4, -0.6])

    def f(T, a, d):
        u = T.tanh(a) * 2.0 + a * a  # float32
        v = u * d + a.double().exp()  # float64
        return v.sum() + (u * u).sum().double()

    a, d = _leaf(fa, np.float32), _leaf(da, np.float64)
    ta, td = torch.tensor(fa, requires_grad=True), torch.tensor(da, requires_grad=True)
    f(tg, a, d).backward()
    f(torch, ta, td).backward()
    assert a.grad.dtype == np.float32 and d.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(d.grad.numpy(), td.grad.numpy(), rtol=1e-5)


def test_float32_retain_graph_and_second_backward():
    x = _leaf(np.linspace(0.1, 1.0, 40), np.float32)
    y = (tg.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_float32_custom_function_sweeps_in_float32():
    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x * x

    x = _leaf([0.5, -1.0, 2.0], np.float32)
    y = (Cube.apply(x) * 2.0).sum()
    assert _arena_dtype(y) == np.float32
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2, rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_gradcheck_float64_unchanged():
    x = _leaf(np.linspace(-1, 1, 6), np.float64)
    assert tg.autograd.gradcheck(lambda t: (tg.tanh(t) * t.exp() + t * 0.5).sum(), (x,))


_ZERO_D_ACTIVATIONS = ["silu", "logsigmoid", "gelu"]


@pytest.mark.parametrize("name", _ZERO_D_ACTIVATIONS)
def test_zero_d_float64_array_program_sweeps_in_float64(name):
    """A 0-d float64 array's activation holds a NumPy float64 scalar, not an array: it is
    swept in float64 (it was counted as float32, and its gradient rounded to float32)."""
    x = tg.from_numpy(np.array(-0.7)).requires_grad_()
    y = getattr(tg.nn.functional, name)(x)
    assert _arena_dtype(y) == np.float64
    y.backward()
    one = tg.tensor([-0.7], dtype=tg.float64, requires_grad=True)
    getattr(tg.nn.functional, name)(one).backward(tg.ones(1, dtype=tg.float64))
    assert x.grad.dtype == np.float64
    assert x.grad.item() == one.grad.item()


@pytest.mark.parametrize("name", _ZERO_D_ACTIVATIONS)
def test_zero_d_float64_array_gradient_matches_torch(torch, name):
    x = tg.from_numpy(np.array(-0.7)).requires_grad_()
    getattr(tg.nn.functional, name)(x).backward()
    tx = torch.from_numpy(np.array(-0.7)).requires_grad_()
    getattr(torch.nn.functional, name)(tx).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
