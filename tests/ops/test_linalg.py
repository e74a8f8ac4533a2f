"""Linear algebra: matmul family and einsum through check_op, matmul shape examples, errors."""


import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops.blas_operands import blas_ready
from tests.op_checks import check_table_entry

try:
    import torch
except ImportError:  # the table still runs its finite-difference checks
    torch = None


def _ein(eq):
    return lambda L, *xs: L.einsum(eq, *xs)


# name, f(lib, *xs), shape cases
OPS = [
    ("matmul", lambda L, a, b: a @ b, [((2, 3), (3, 2)), ((3,), (3, 2)), ((2, 3), (3,)),
                                       ((2, 1, 3), (2, 3, 2)), ((3,), (3,))]),
    ("mm", lambda L, a, b: L.mm(a, b), [((2, 3), (3, 1))]),
    ("bmm", lambda L, a, b: a.bmm(b), [((2, 2, 3), (2, 3, 2))]),
    ("mv", lambda L, a, b: L.mv(a, b), [((2, 3), (3,))]),
    ("dot", lambda L, a, b: L.dot(a, b), [((3,), (3,))]),
    ("outer", lambda L, a, b: L.outer(a, b), [((3,), (2,))]),
    ("trace", lambda L, a: L.trace(a), [((3, 3),), ((2, 3),), ((1, 1),)]),
    ("diagonal", lambda L, a: L.diagonal(a), [((3, 3),), ((2, 3),)]),
    ("diagonal_offset", lambda L, a: a.diagonal(1), [((3, 3),)]),
    ("diagonal_neg_offset_dims", lambda L, a: L.diagonal(a, -1, 2, 0), [((3, 2, 3),)]),
    ("einsum_mm", _ein("ij,jk->ik"), [((2, 3), (3, 2)), ((1, 3), (3, 1))]),
    ("einsum_bmm", _ein("bij,bjk->bik"), [((2, 2, 3), (2, 3, 2))]),
    ("einsum_outer", _ein("i,j->ij"), [((3,), (2,))]),
    ("einsum_dot", _ein("i,i->"), [((3,), (3,))]),
    ("einsum_trace", _ein("ii->"), [((3, 3),), ((1, 1),)]),
    ("einsum_diag", _ein("ii->i"), [((3, 3),)]),
    ("einsum_transpose", _ein("ij->ji"), [((2, 3),)]),
    ("einsum_sum_axis", _ein("ij->i"), [((2, 3),)]),
    ("einsum_sum_all", _ein("ijk->"), [((2, 3, 2),)]),
    ("einsum_bilinear", _ein("i,ij,j->"), [((2,), (2, 3), (3,))]),
    ("einsum_implicit", _ein("ij,jk"), [((2, 3), (3, 2))]),
    ("einsum_implicit_order", _ein("ba"), [((2, 3),)]),
    ("einsum_ellipsis", _ein("...ij,...jk->...ik"), [((2, 2, 3), (3, 2)), ((2, 3), (1, 3, 2))]),
    ("einsum_ellipsis_sum", _ein("i...->..."), [((3, 2, 2),)]),
    ("einsum_broadcast_1", _ein("ij,ij->ij"), [((1, 3), (2, 3)), ((2, 1), (2, 3))]),
    ("einsum_hadamard_sum", _ein("ij,ij->j"), [((2, 3), (2, 3))]),
    ("einsum_batch_diag", _ein("bii->bi"), [((2, 3, 3),)]),
    ("einsum_repeat_two_ops", _ein("ii,i->i"), [((3, 3), (3,))]),
    ("einsum_scalar", _ein(",i->i"), [((), (3,))]),
    ("einsum_spaces", _ein("i j , j k -> i k"), [((2, 3), (3, 2))]),
]


@pytest.mark.parametrize("name,f,cases", OPS, ids=[o[0] for o in OPS])
def test_op_table(name, f, cases):
    check_table_entry(name, f, cases)


def test_einsum_list_operands_and_constants():
    a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tg.tensor(np.ones((3, 2)))  # a constant: no gradient, no work for it
    out = tg.einsum("ij,jk->ik", [a, b])
    want = np.arange(6.0).reshape(2, 3) @ np.ones((3, 2))
    np.testing.assert_array_equal(out.detach().numpy(), want)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), 2 * np.ones((2, 3)))
    assert b.grad is None
    # a view-like equation does not alias its input (like PyTorch)
    c = tg.tensor(np.arange(4.0).reshape(2, 2))
    t = tg.einsum("ij->ij", c)
    t.numpy()[0, 0] = 100.0
    assert c.numpy()[0, 0] == 0.0


def test_einsum_trace_and_diag_grads():
    a = tg.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    tg.einsum("ii->", a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.eye(3))
    a.grad = None
    (tg.einsum("ii->i", a) * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


def test_einsum_third_order():
    # d^3/dx^3 of sum_i x_i^3 written as an einsum of three copies
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    y = tg.einsum("i,i,i->", x, x, x)
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x, create_graph=True)
    (k,) = tg.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.25, 1.0]))
    np.testing.assert_allclose(k.numpy(), [6.0, 6.0])


def test_matmul_examples():
    A = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    B = tg.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    (A @ B).sum().backward()
    assert A.grad.tolist() == [[11.0, 15.0], [11.0, 15.0]]
    assert B.grad.tolist() == [[4.0, 4.0], [6.0, 6.0]]
    u = tg.tensor([1.0, 2.0], requires_grad=True)
    v = tg.tensor([3.0, 4.0], requires_grad=True)
    (u @ v).backward()
    assert u.grad.tolist() == [3.0, 4.0] and v.grad.tolist() == [1.0, 2.0]
    X = tg.ones(3, 2, 2, requires_grad=True)
    W = tg.ones(2, 2, requires_grad=True)
    (X @ W).sum().backward()
    assert W.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_einsum_matches_numpy_values(rng):
    a, b, c = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    for eq, ops in [("ij,jk,k->i", (a, b, c)), ("ij->", (a,)), ("ij,kj->ik", (a, a)),
                    ("ij,ij->", (a, a)), ("...j,j->...", (b, c))]:
        got = tg.einsum(eq, *[tg.tensor(o) for o in ops])
        np.testing.assert_allclose(got.numpy(), np.einsum(eq, *ops), rtol=1e-12)


@pytest.mark.parametrize("eq,shapes,msg", [
    ("ij,jk->ik", [(2, 3)], "fewer operands were provided than specified in the equation"),
    ("ij->i", [(2, 3), (3,)], "more operands were provided than specified in the equation"),
    ("ij,jk->ik", [(2, 3), (2, 3)], "subscript j has size 2 for operand 1 which does not "
                                     "broadcast with previously seen size 3"),
    ("ijk->i", [(2, 3)], r"the number of subscripts in the equation \(3\) does not match the "
                         r"number of dimensions \(2\) for operand 0 and no ellipsis was given"),
    ("ii->i", [(2, 3)], "subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("i->ii", [(2,)], "output subscript i appears more than once in the output"),
    ("i->j", [(2,)], "output subscript j does not appear in the equation for any input operand"),
    ("i1->i", [(2, 1)], "invalid subscript given at index 1 in the equation string"),
])
def test_einsum_errors(eq, shapes, msg):
    with pytest.raises(RuntimeError, match=msg):
        tg.einsum(eq, *[tg.ones(*s) for s in shapes])


def test_einsum_errors_match_torch(torch):
    for eq, shapes in [("ij,jk->ik", [(2, 3)]), ("ij->i", [(2, 3), (3,)]),
                       ("ijk->i", [(2, 3)]), ("i->j", [(2,)]), ("ii->i", [(2, 3)])]:
        with pytest.raises(RuntimeError) as ours:
            tg.einsum(eq, *[tg.ones(*s) for s in shapes])
        with pytest.raises(RuntimeError) as theirs:
            torch.einsum(eq, *[torch.ones(*s) for s in shapes])
        assert str(ours.value) == str(theirs.value)


def test_matrix_product_errors():
    for f, msg in [
        (lambda: tg.mm(tg.ones(2), tg.ones(2, 2)), "self must be a matrix"),
        (lambda: tg.mm(tg.ones(2, 3), tg.ones(2, 2)),
         r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)"),
        (lambda: tg.bmm(tg.ones(2, 2), tg.ones(2, 2)), "batch1 must be a 3D tensor"),
        (lambda: tg.bmm(tg.ones(2, 2, 3), tg.ones(2, 2, 2)),
         r"Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: "
         r"\[2, 2\]."),
        (lambda: tg.mv(tg.ones(2, 2), tg.ones(3)),
         r"size mismatch, got input \(2\), mat \(2x2\), vec \(3\)"),
        (lambda: tg.mv(tg.ones(2), tg.ones(2)), "vector \\+ matrix @ vector expected, got 1, 1, 1"),
        (lambda: tg.trace(tg.ones(2)), "trace: expected a matrix, but got tensor with dim 1"),
        (lambda: tg.dot(tg.ones(2, 2), tg.ones(2)), "1D tensors expected"),
    ]:
        with pytest.raises(RuntimeError, match=msg):
            f()


def test_vector_matrix_gradients_with_one_constant_operand(rng):
    """``v @ W`` with only one operand requiring grad (the VJP skips the other's product)."""
    v0, W0, g0 = rng.standard_normal(4), rng.standard_normal((4, 3)), rng.standard_normal(3)
    v = tg.tensor(v0, requires_grad=True)
    (v @ tg.tensor(W0)).backward(tg.tensor(g0))
    np.testing.assert_allclose(v.grad.numpy(), W0 @ g0, rtol=1e-14)
    W = tg.tensor(W0, requires_grad=True)
    (tg.tensor(v0) @ W).backward(tg.tensor(g0))
    np.testing.assert_allclose(W.grad.numpy(), np.outer(v0, g0), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_of_up_to_two_dims_are_numpy_matmul_bit_for_bit(dtype):
    """Products of 1-D and 2-D operands run as np.dot (the same BLAS call; two float32 vectors
    excepted: summed in float64): values and
    gradients equal np.matmul's, transposed and size-1 operands included, on the operands as
    laid out for BLAS (``g @ B.T`` of a small ``B``: its transpose copied to rows first)."""
    r = np.random.default_rng(11)
    cases = [((32, 64), (64, 64)), ((1, 5), (5, 7)), ((7, 5), (5, 1)), ((200, 200), (200,)),
             ((200,), (200, 200)), ((9,), (9,)), ((3, 130), (130, 2))]
    for sa, sb in cases:
        for ta in (False, True):
            a = r.standard_normal(sa).astype(dtype)
            b = r.standard_normal(sb).astype(dtype)
            if ta and a.ndim == 2:  # an F-ordered operand (BLAS's transposed case)
                a = np.asfortranarray(a)
            x = tg.tensor(a, requires_grad=True)
            w = tg.tensor(b, requires_grad=True)
            out = x @ w
            want = np.matmul(a, b)
            if a.ndim == b.ndim == 1 and dtype == np.float32:  # (float32 vectors: their dot
                # is summed in float64 and rounded once, ops/accurate_dot.py)
                want = np.float32(np.dot(a.astype(np.float64), b.astype(np.float64)))
            np.testing.assert_array_equal(out.detach().numpy(), want)
            assert out.dtype == want.dtype
            g = r.standard_normal(want.shape).astype(dtype)
            out.backward(tg.tensor(g))
            if a.ndim == 2 and b.ndim == 2:
                np.testing.assert_array_equal(x.grad.numpy(), np.matmul(g, blas_ready(b.T)))
                np.testing.assert_array_equal(w.grad.numpy(), np.matmul(a.T, g))
            elif a.ndim == 2:
                np.testing.assert_array_equal(w.grad.numpy(), np.matmul(g, a))
            elif b.ndim == 2:
                np.testing.assert_array_equal(x.grad.numpy(), np.matmul(b, g))


def test_small_operands_stored_by_columns_are_multiplied_as_rows(rng):
    """``x @ W.t()`` and the VJP's ``g @ W.T`` copy a small transposed ``W`` to rows before
    BLAS (OpenBLAS's transposed kernels are slow for a few rows and columns): the values are
    those of the product with the copy, the gradients those of the formulas; a large batch of
    transposed matrices is multiplied as it is."""
    x0, W0 = rng.standard_normal((4096, 8)), rng.standard_normal((8, 8))
    x, W = tg.tensor(x0, requires_grad=True), tg.tensor(W0, requires_grad=True)
    y = x @ W.t()
    np.testing.assert_array_equal(y.detach().numpy(), x0 @ np.ascontiguousarray(W0.T))
    g = rng.standard_normal(y.shape)
    y.backward(tg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g @ W0, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(W.grad.numpy(), g.T @ x0, rtol=1e-13, atol=1e-12)
    small = W0.T
    assert blas_ready(small).flags.c_contiguous and np.array_equal(blas_ready(small), small)
    batch = rng.standard_normal((100, 32, 32)).transpose(0, 2, 1)
    assert blas_ready(batch) is batch
    a = tg.tensor(rng.standard_normal((100, 16, 32)))
    np.testing.assert_array_equal((a @ tg.tensor(batch)).numpy(), np.matmul(a.numpy(), batch))


def test_mismatched_two_dim_product_keeps_pytorch_message():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        tg.ones(2, 3, requires_grad=True) @ tg.ones(4, 5)


def test_logdet_of_a_negative_determinant_is_nan_with_a_zero_gradient():
    """As PyTorch: nan where the determinant is negative, and no gradient flows from it."""
    b = tg.tensor(np.array([[[0.0, 1.0], [1.0, 0.0]], [[2.0, 0.0], [0.0, 3.0]]]),
                  requires_grad=True)
    v = tg.logdet(b)
    assert np.isnan(v.detach().numpy()[0]) and v.detach().numpy()[1] == pytest.approx(np.log(6))
    v.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [np.zeros((2, 2)), np.diag([0.5, 1 / 3])],
                               rtol=1e-15)


def test_einsum_sublist_form():
    """``einsum(op0, [0, 1], op1, [1, 2], [0, 2])``: integer subscripts, as NumPy and PyTorch
    take them (Ellipsis for ``...``; without an output list the implicit output)."""
    a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = tg.tensor(np.arange(12.0).reshape(3, 4))
    y = tg.einsum(a, [0, 1], b, [1, 2], [0, 2])
    np.testing.assert_array_equal(y.detach().numpy(), np.arange(6.0).reshape(2, 3) @
                                  np.arange(12.0).reshape(3, 4))
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.tile(np.arange(12.0).reshape(3, 4)
                                                           .sum(1), (2, 1)))
    assert tuple(tg.einsum(a, [0, 1], b, [1, 2]).shape) == (2, 4)
    np.testing.assert_array_equal(tg.einsum(a, [Ellipsis, 1], [Ellipsis]).detach().numpy(),
                                  [3.0, 12.0])
    with pytest.raises(ValueError, match="subscript in subscript list is not within"):
        tg.einsum(a, [0, 60])
