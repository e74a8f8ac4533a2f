"""Python-rule gradients written straight into the arena (``OpDef.vjp_into``: the matrix
product's 2-D case writes each product into its input's slot when nothing reached it yet) and
a plain backward's new ``.grad``s made without the general path. The gradients must be exactly
those of the rule that returns arrays (``vjp_np``), of the re-taping sweep and of PyTorch."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import sweep
from tapegrad.ops.linalg import _matmul_vjp_np


@pytest.fixture
def written(monkeypatch):
    """How many input gradients each numeric sweep's Python rules wrote into the arena."""
    counts = []
    accumulate = sweep.Sweep.accumulate

    def counting(self, slots, grads, fresh=(), written=None):
        if written is not None:
            counts.append(sum(t is not None and g is t for g, t in zip(grads, written)))
        return accumulate(self, slots, grads, fresh, written)

    monkeypatch.setattr(sweep.Sweep, "accumulate", counting)
    return counts


def _grads(f, arrays, create_graph=False):
    leaves = [tg.tensor(a, requires_grad=True) for a in arrays]
    gs = tg.autograd.grad(f(*leaves), leaves, create_graph=create_graph)
    return [g.detach().numpy() for g in gs]


def _mlp(x, w1, w2):
    h = tg.tanh(x @ w1)
    return ((h @ w2) ** 2).sum()


def test_matmul_products_written_into_the_arena_are_the_rule_s(rng, written):
    x, w1, w2 = rng.standard_normal((5, 4)), rng.standard_normal((4, 6)), rng.standard_normal((6, 3))
    got = _grads(_mlp, (x, w1, w2))
    assert written == [2, 2]  # both products of both records went to their slots
    # the same numbers as the rule that returns arrays, bit for bit
    h = np.tanh(x @ w1)
    out = h @ w2
    gh, gw2 = _matmul_vjp_np(2 * out, (h, w2), out)
    ga = gh * (1 - h * h)
    gx, gw1 = _matmul_vjp_np(ga, (x, w1), h)
    for g, want in zip(got, (gx, gw1, gw2)):
        np.testing.assert_array_equal(g, want)
    for g, want in zip(got, _grads(_mlp, (x, w1, w2), create_graph=True)):
        np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-13)


def test_a_reached_or_shared_slot_is_added_into(rng, written):
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def f(a, b):
        c = a @ b
        return ((c @ b).sum() + (a @ a).sum() * 0.5)  # a @ a: one slot for both inputs

    got = _grads(f, (a, b))
    # newest first: a @ a writes a's slot once (its second product is added), c @ b writes
    # both, a @ b finds both slots reached and adds into them
    assert written == [1, 2, 0]
    one = np.ones((3, 3))
    c = a @ b
    want_a = one @ b.T @ b.T + 0.5 * (one @ a.T + a.T @ one)
    want_b = a.T @ (one @ b.T) + c.T @ one
    np.testing.assert_allclose(got[0], want_a, rtol=1e-13)
    np.testing.assert_allclose(got[1], want_b, rtol=1e-13)


def test_constant_operands_and_other_shapes(rng, written):
    A, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    const = tg.tensor(rng.standard_normal((3, 2)))
    (g,) = _grads(lambda a: (a @ const).sum(), (A,))
    np.testing.assert_allclose(g, np.ones((4, 2)) @ const.numpy().T, rtol=1e-14)
    assert written == [1]  # only the input that needs a gradient
    gA, gv = _grads(lambda a, x: ((a @ x) ** 2).sum(), (A, v))  # matrix-vector: the rule's
    np.testing.assert_allclose(gA, np.outer(2 * A @ v, v), rtol=1e-13)
    np.testing.assert_allclose(gv, A.T @ (2 * A @ v), rtol=1e-13)
    batched = rng.standard_normal((2, 4, 3)), rng.standard_normal((3, 5))
    tg.autograd.gradcheck(lambda a, b: a @ b,
                          tuple(tg.tensor(x, requires_grad=True) for x in batched))


def test_matrix_vector_products_written_into_the_arena(rng, written):
    A, x, y = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal(5)
    got = _grads(lambda a, v: ((a @ v) ** 2).sum(), (A, x))
    got += _grads(lambda u, a: ((u @ a) ** 2).sum(), (y, A))
    assert written == [2, 2]  # matrix-vector, then vector-matrix: both products in place
    out = A @ x
    want = list(_matmul_vjp_np(2 * out, (A, x), out))
    out = y @ A
    want += _matmul_vjp_np(2 * out, (y, A), out)
    for g, w in zip(got, want):  # the same calls as the rule that returns arrays: same bits
        np.testing.assert_array_equal(g, w)
    # a Hessian-vector product sweeps both (the re-taped gradient is a vector-matrix product)
    At, xt = tg.tensor(A), tg.tensor(x, requires_grad=True)
    (g,) = tg.autograd.grad((tg.tanh(At @ xt) ** 2).sum(), xt, create_graph=True)
    (h,) = tg.autograd.grad(g, xt, tg.tensor(y[:4]))
    t = np.tanh(A @ x)
    d = 2 * (1 - t * t) * (1 - 3 * t * t)  # the second derivative of tanh(s) ** 2
    np.testing.assert_allclose(h.numpy(), A.T @ (d * (A @ y[:4])), rtol=1e-12, atol=1e-12)
    # and by finite differences, to second order, with both operands requiring grad
    leaves = (tg.tensor(A, requires_grad=True), tg.tensor(x, requires_grad=True),
              tg.tensor(y, requires_grad=True))
    f = lambda a, v, u: (tg.tanh(a @ v) ** 2).sum() + (tg.sin(u @ a) ** 2).sum()  # noqa: E731
    assert tg.autograd.gradcheck(f, leaves)
    assert tg.autograd.gradgradcheck(f, leaves)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_chain_against_torch(rng, dtype):
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((8, 6), (6, 6), (6, 2))]
    got = _grads(_mlp, arrays)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    (torch.tanh(ts[0] @ ts[1]) @ ts[2]).pow(2).sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for g, t in zip(got, ts):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=tol, atol=tol)


def test_gradcheck_through_written_products(rng):
    arrays = [rng.standard_normal(s) for s in ((4, 3), (3, 3), (3, 2))]
    leaves = tuple(tg.tensor(a, requires_grad=True) for a in arrays)
    assert tg.autograd.gradcheck(_mlp, leaves)
    assert tg.autograd.gradgradcheck(_mlp, leaves)


def test_new_grads_own_their_memory_and_later_backwards_add_in_place(rng):
    w = tg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    x = tg.tensor(rng.standard_normal((3, 4)))
    (tg.tanh(x @ w + b).sum()).backward()
    gw, gb = w.grad, b.grad
    for g in (gw, gb):
        data = g.numpy()
        assert data.base is None or data.base.size == data.size  # not a slice of the arena
    first = gw.numpy().copy()
    (tg.tanh(x @ w + b).sum()).backward()
    assert w.grad is gw and b.grad is gb  # accumulated in place, as PyTorch does
    np.testing.assert_allclose(gw.numpy(), 2 * first, rtol=1e-14)
    w.grad = None
    (tg.tanh(x @ w + b).sum()).backward()
    assert w.grad is not gw
    np.testing.assert_allclose(w.grad.numpy(), first, rtol=1e-14)
    np.testing.assert_allclose(gw.numpy(), 2 * first, rtol=1e-14)  # the old one untouched


def test_new_grad_of_a_leaf_seeded_directly_is_a_copy():
    x = tg.tensor(np.arange(3.0), requires_grad=True)
    seed = tg.tensor(np.array([1.0, 2.0, 3.0]))
    x.backward(seed)
    seed.numpy()[:] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_hessian_vector_product_against_torch(rng):
    torch = pytest.importorskip("torch")
    A, x, v = rng.standard_normal((6, 5)), rng.standard_normal(5), rng.standard_normal(5)
    xt = tg.tensor(x, requires_grad=True)
    (g,) = tg.autograd.grad((tg.tanh(tg.tensor(A) @ xt) ** 2).sum(), xt, create_graph=True)
    (h,) = tg.autograd.grad(g, xt, tg.tensor(v))
    xr = torch.tensor(x, requires_grad=True)
    (gr,) = torch.autograd.grad((torch.tanh(torch.tensor(A) @ xr) ** 2).sum(), xr,
                                create_graph=True)
    (hr,) = torch.autograd.grad(gr, xr, torch.tensor(v))
    np.testing.assert_allclose(g.detach().numpy(), gr.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(h.numpy(), hr.numpy(), rtol=1e-12, atol=1e-12)
