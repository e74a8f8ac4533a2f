"""Elementwise records of ``BIG`` elements or more save a broadcast operand as a view of it (no
copy of the broadcast value): their gradients, at first and second order, equal those of the same
program with the operand expanded into a contiguous array first, finite differences, and
PyTorch's; an in-place change of the operand after the forward is still caught."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine.sweep import BIG
from tests.op_checks import check_directional_derivative

# (operand shape, other operand shape): the record has >= BIG elements
SHAPES = [((25, 10), (40, 25, 10)), ((10,), (500, 10)), ((3, 1, 4), (3, 400, 4)),
          ((1,), (BIG + 5,)), ((), (70, 70)), ((40, 1, 10), (1, 25, 10))]
OPS = {
    "mul": lambda a, b: a * b,
    "div": lambda a, b: b / a,
    "rdiv": lambda a, b: a / b,
    "pow": lambda a, b: b ** a,
    "maximum": lambda a, b: (tg if isinstance(a, tg.Tensor) else _torch()).maximum(a, b),
    "minimum": lambda a, b: (tg if isinstance(a, tg.Tensor) else _torch()).minimum(a, b),
}


def _torch():
    import torch

    return torch


def _draw(shapes, seed, dtype=np.float64):
    r = np.random.default_rng(seed)
    return [(r.random(s) + 0.5).astype(dtype) for s in shapes]  # (positive: pow, div)


def _loss(f, a, b, w):
    return (f(a, b) * w).sum()


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(OPS))
def test_gradients_equal_the_expanded_programs(name, shapes):
    f = OPS[name]
    q, x = _draw(shapes, 1)
    out_shape = np.broadcast_shapes(q.shape, x.shape)
    assert np.prod(out_shape) >= BIG
    w = tg.tensor(np.random.default_rng(2).standard_normal(out_shape))
    grads = []
    for expand in (False, True):
        a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
        ea = a.expand(out_shape).contiguous() if expand else a
        eb = b.expand(out_shape).contiguous() if expand else b
        _loss(f, ea, eb, w).backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for got, want in zip(*grads):  # (sums of the same terms in another order: ~n eps apart)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    try:  # and PyTorch's, at every layout (the expanded program is this library's too)
        import torch
    except ImportError:
        return
    ta, tb = torch.tensor(q, requires_grad=True), torch.tensor(x, requires_grad=True)
    _loss(f, ta, tb, torch.tensor(w.numpy())).backward()
    for got, want in zip(grads[0], (ta.grad.numpy(), tb.grad.numpy())):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(OPS))
def test_finite_differences_and_torch(name):
    f = OPS[name]
    q, x = _draw(((25, 10), (40, 25, 10)), 3)
    w = np.random.default_rng(4).standard_normal((40, 25, 10))
    check_directional_derivative(lambda a, b: _loss(f, a, b, tg.tensor(w)), [q, x])
    torch = pytest.importorskip("torch")
    a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
    ta, tb = torch.tensor(q, requires_grad=True), torch.tensor(x, requires_grad=True)
    _loss(f, a, b, tg.tensor(w)).backward()
    _loss(f, ta, tb, torch.tensor(w)).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["mul", "div", "pow"])
def test_second_order_matches_torch(name):
    """A Hessian-vector product through the re-taped gradient of a broadcast record."""
    torch = pytest.importorskip("torch")
    f = OPS[name]
    q, x = _draw(((8,), (520, 8)), 5)
    v = np.random.default_rng(6).standard_normal(8)
    res = []
    for lib in (tg, torch):
        a, b = lib.tensor(q, requires_grad=True), lib.tensor(x, requires_grad=True)
        loss = (lib.sin(f(a, b)) ** 2).sum()
        (g,) = lib.autograd.grad(loss, a, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(v)).sum(), (a,))
        res.append((g.detach().numpy(), h.numpy()))
    for got, want in zip(*res):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_float32_stays_float32():
    q, x = _draw(((10,), (500, 10)), 7, np.float32)
    a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad.numpy(), x.astype(np.float64).sum(0), rtol=1e-5)
    np.testing.assert_array_equal(b.grad.numpy(), np.broadcast_to(q, (500, 10)))


def test_the_saved_operand_is_not_copied():
    q, x = _draw(((25, 10), (400, 25, 10)), 8)
    a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
    out = a * b
    saved = [s for s in out._seg.avals if s is not None and s.shape == out.shape]
    assert any(0 in s.strides for s in saved)  # the broadcast view of q, not a copy
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), x.sum(0), rtol=1e-13)


def test_in_place_change_of_the_operand_is_caught():
    q, x = _draw(((10,), (500, 10)), 9)
    a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
    c = a * 1.0  # a non-leaf operand that may be modified in place
    out = (c * b).sum()
    with tg.no_grad():
        c.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpointed_broadcast_records(reentrant):
    """Activation checkpointing recomputes the saved values (a broadcast one included)."""
    from tapegrad.utils.checkpoint import checkpoint

    q, x = _draw(((25, 10), (40, 25, 10)), 10)
    w = tg.tensor(np.random.default_rng(11).standard_normal((40, 25, 10)))

    def block(a, b):
        return tg.sin(a * b) / (a + 1.0)

    grads = []
    for ckpt in (False, True):
        a, b = tg.tensor(q, requires_grad=True), tg.tensor(x, requires_grad=True)
        out = checkpoint(block, a, b, use_reentrant=reentrant) if ckpt else block(a, b)
        (out * w).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for got, want in zip(*grads):  # (sums of the same terms in another order: ~n eps apart)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_forward_mode_through_a_broadcast_record():
    q, x = _draw(((10,), (500, 10)), 12)
    v = np.random.default_rng(13).standard_normal(10)

    def f(a):
        return (tg.sin(a * tg.tensor(x)) ** 2).sum()

    _, jv = tg.autograd.functional.jvp(f, tg.tensor(q), tg.tensor(v))
    h = 1e-6
    fd = (float(f(tg.tensor(q + h * v))) - float(f(tg.tensor(q - h * v)))) / (2 * h)
    assert abs(float(jv) - fd) <= 1e-6 * abs(fd)
