"""Large sums, differences and products with a broadcast operand: the operand's gradient is
summed over the broadcast axes as it is computed (``engine.broadcast_vjp``), not written at
full size and summed by the broadcast's own VJP. Values as PyTorch's and finite differences'."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.engine.numpy_records as NR

torch = pytest.importorskip("torch")

OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
SHAPES = [((40, 25, 10), (25, 10)), ((25, 10), (40, 25, 10)), ((30, 1, 20), (30, 12, 20)),
          ((50, 1), (50, 100))]


def _grads(lib, op, x, y, w, rgx, rgy, transpose):
    M = tg if lib == "tg" else torch
    tx, ty = M.tensor(x, requires_grad=rgx), M.tensor(y, requires_grad=rgy)
    a, b = tx, ty
    if transpose:  # non-contiguous operands: transposed views of transposed data
        a, b = a.transpose(0, -1).contiguous().transpose(0, -1), b.transpose(0, -1)
        b = b.contiguous().transpose(0, -1)
    (OPS[op](a, b) * M.tensor(w)).sum().backward()
    return [None if t.grad is None else t.grad.detach().numpy().copy() for t in (tx, ty)]


@pytest.fixture
def taken(monkeypatch):
    """The records whose broadcast gradients were summed as computed."""
    done = []
    inner = NR.reduced_vjp

    def spy(*args):
        ks = inner(*args)
        done.extend(ks)
        return ks
    monkeypatch.setattr(NR, "reduced_vjp", spy)
    return done


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("xs,ys", SHAPES)
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transpose", [False, True])
def test_broadcast_gradients_match_pytorch(taken, op, xs, ys, rg, dtype, transpose):
    r = np.random.default_rng(0)
    x, y = r.standard_normal(xs).astype(dtype), r.standard_normal(ys).astype(dtype)
    w = r.standard_normal(np.broadcast_shapes(xs, ys)).astype(dtype)
    got = _grads("tg", op, x, y, w, *rg, transpose)
    want = _grads("torch", op, x, y, w, *rg, transpose)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype is np.float32 else dict(rtol=1e-12, atol=1e-12)
    for g, e in zip(got, want):
        assert (g is None) == (e is None)
        if e is not None:
            assert g.dtype == e.dtype
            np.testing.assert_allclose(g, e, **tol)
    small = 0 if np.prod(xs) < np.prod(ys) else 1
    assert (small in taken) == rg[small]  # the broadcast operand's sum taken as computed


@pytest.mark.parametrize("shape", [(), (1,), (1, 1, 1)])
@pytest.mark.parametrize("op", sorted(OPS))
def test_one_element_operand_matches_pytorch(shape, op):
    """``x - c`` with ``c`` of one element (``x - x.mean()``): its gradient is a sum over
    every axis, a NumPy scalar, not an array."""
    r = np.random.default_rng(4)
    x, c, w = r.standard_normal((300, 5, 6)), r.standard_normal(shape), \
        r.standard_normal((300, 5, 6))
    res = []
    for M in (tg, torch):
        tx, tc = M.tensor(x, requires_grad=True), M.tensor(c, requires_grad=True)
        (OPS[op](tx, tc) * M.tensor(w)).sum().backward()
        (OPS[op](tc, tx) * M.tensor(w)).sum().backward()
        res.append((tx.grad.numpy(), tc.grad.numpy()))
    for a, b in zip(*res):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overflowing_sum_is_silent_and_matches_pytorch(op, dtype):
    """A broadcast operand's gradient that overflows or meets inf - inf: inf and nan as
    PyTorch's, without NumPy's RuntimeWarning (the backward runs under warnings as errors)."""
    big = np.finfo(dtype).max
    w = np.ones((1000, 8), dtype)
    w[0, 0], w[1, 0], w[2, 1], w[3, 1], w[4, 2], w[5, 2] = np.inf, -np.inf, big, big, -big, -big
    res = []
    for M in (tg, torch):
        c = M.tensor(np.ones(8, dtype), requires_grad=True)
        x = M.tensor(np.ones((1000, 8), dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            OPS[op](x, c[None]).backward(M.tensor(w))
        res.append(c.grad.numpy())
    np.testing.assert_array_equal(res[0][:3], res[1][:3])


def test_finite_differences_of_the_broadcast_operand():
    r = np.random.default_rng(1)
    xc = tg.tensor(r.standard_normal((200, 5, 6)))
    w = tg.tensor(r.standard_normal((200, 5, 6)))
    q = tg.tensor(r.standard_normal((5, 6)), requires_grad=True)
    m = tg.tensor(r.standard_normal((5, 6)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda q, m: ((q[None] * (xc - m[None])) * w).sum(), (q, m))


def test_second_order_matches_pytorch():
    r = np.random.default_rng(2)
    x, q, w = r.standard_normal((300, 4, 5)), r.standard_normal((4, 5)), \
        r.standard_normal((300, 4, 5))
    res = []
    for M in (tg, torch):
        tx, tq = M.tensor(x, requires_grad=True), M.tensor(q, requires_grad=True)
        out = ((tq[None] * tx) * (tq[None] * tx) * M.tensor(w)).sum()
        gq, = M.autograd.grad(out, tq, create_graph=True)
        (gq * gq).sum().backward()
        res.append((gq.detach().numpy(), tx.grad.numpy(), tq.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_expanded_tensor_keeps_its_own_gradient():
    """A broadcast that is a tensor of the user's (``expand``): its hooks, ``retain_grad``
    and ``inputs=`` still see the full gradient; its input gets every consumer's share."""
    r = np.random.default_rng(3)
    x, q = r.standard_normal((100, 50)), r.standard_normal((50,))
    res = []
    for M in (tg, torch):
        tx, tq = M.tensor(x, requires_grad=True), M.tensor(q, requires_grad=True)
        e = tq.expand(100, 50)
        e.retain_grad()
        ((e * tx).sum() + (e * e).sum()).backward()
        e2 = tq.expand(100, 50)
        ge, = M.autograd.grad((e2 * tx).sum() * 2.0, e2)
        res.append((tq.grad.numpy(), e.grad.numpy(), tx.grad.numpy(), ge.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
