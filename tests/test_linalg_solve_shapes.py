"""Shapes the solves accept (PyTorch's vector-or-matrix rule for B, batch broadcasting) for
real and complex operands alike, and PyTorch's errors and wording where inputs do not fit
(batches that do not broadcast, non-finite matrices, the ``*_ex`` forms, ``logdet``)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck

R = np.random.default_rng(5)


def _a(shape, cplx=False):
    a = R.standard_normal(shape) + 3 * np.eye(shape[-1])
    return a + 1j * R.standard_normal(shape) if cplx else a


def _b(shape, cplx=False):
    b = R.standard_normal(shape)
    return b + 1j * R.standard_normal(shape) if cplx else b


@pytest.mark.parametrize("cplx", [False, True])
def test_matrix_B_with_fewer_batch_dims_is_a_matrix(cplx):
    # B (3, 3) is not A.shape[:-1] == (1, 3): a matrix broadcast over A's batch, X (1, 3, 3)
    A, B = _a((1, 3, 3), cplx), _b((3, 3), cplx)
    X = tg.linalg.solve(tg.tensor(A), tg.tensor(B)).numpy()
    assert X.shape == (1, 3, 3)
    np.testing.assert_allclose(X[0], np.linalg.solve(A[0], B), rtol=1e-10)
    A, B = _a((2, 1, 3, 3), cplx), _b((4, 3, 1), cplx)
    X = tg.linalg.solve(tg.tensor(A), tg.tensor(B)).numpy()
    assert X.shape == (2, 4, 3, 1)
    np.testing.assert_allclose(X, np.linalg.solve(A, B), rtol=1e-10)


def test_complex_solve_broadcast_gradients():
    A = tg.tensor(_a((1, 3, 3), True), requires_grad=True)
    B = tg.tensor(_b((3, 2), True), requires_grad=True)
    assert gradcheck(lambda a, b: tg.linalg.solve(a, b), (A, B))


@pytest.mark.parametrize("fn", [
    lambda A, B: tg.linalg.solve(A, B),
    lambda A, B: tg.linalg.solve(A.to(tg.complex128), B.to(tg.complex128)),
    lambda A, B: tg.linalg.solve_triangular(A, B, upper=True),
    lambda A, B: tg.linalg.lu_solve(*tg.linalg.lu_factor(A), B),
    lambda A, B: tg.cholesky_solve(B, A),
])
def test_batches_that_do_not_broadcast_raise_runtime_error(fn):
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(2\) at non-singleton dimension 0"):
        fn(tg.tensor(_a((2, 3, 3))), tg.tensor(_b((3, 3, 1))))


@pytest.mark.parametrize("bshape", [(2, 3), (2, 1), (4,)])
def test_complex_incompatible_shapes_message(bshape):
    A, B = tg.tensor(_a((3, 3), True)), tg.tensor(_b(bshape, True))
    with pytest.raises(RuntimeError, match="Incompatible shapes of A and B for the equation AX = B"):
        tg.linalg.solve(A, B)


def test_left_false_shapes():
    A = tg.tensor(_a((2, 3, 3)))
    for b in [(3,), (2, 3), (3, 3, 1)]:  # PyTorch has no vector B for X A = B
        with pytest.raises(RuntimeError, match=r"equation XA = B \(3x3 and 3x1\)"):
            tg.linalg.solve(A, tg.tensor(_b(b)), left=False)
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        tg.linalg.solve(tg.tensor(_b((3,))), tg.tensor(_b((3, 1))), left=False)


@pytest.mark.parametrize("fn", [tg.linalg.matrix_exp, tg.linalg.eig, tg.linalg.eigvals])
def test_one_dimensional_input_message(fn):
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        fn(tg.tensor(_b((3,))))


def test_cholesky_solve_messages():
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for cholesky_solve: each A "
                                           "matrix is 3 by 3 but each b matrix is 2 by 1"):
        tg.cholesky_solve(tg.tensor(_b((2, 1))), tg.tensor(np.eye(3)))
    with pytest.raises(RuntimeError, match="b should have at least 2 dimensions"):
        tg.cholesky_solve(tg.tensor(_b((3,))), tg.tensor(np.eye(3)))


def test_solve_shapes_match_torch():
    torch = pytest.importorskip("torch")
    cases = [((2, 3, 3), (3, 3, 1)), ((2, 1, 3, 3), (4, 3, 1)), ((2, 3, 3), (3, 3)),
             ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3)), ((1, 3, 3), (2, 3)), ((1, 3, 3), (3, 3)),
             ((3, 3), (2, 3, 1)), ((2, 3, 3), (2, 1, 3)), ((3, 3), (5, 3))]
    for cplx in (False, True):
        for sa, sb in cases:
            A, B = _a(sa, cplx), _b(sb, cplx)
            for left in (True, False):
                try:
                    want = torch.linalg.solve(torch.tensor(A), torch.tensor(B), left=left)
                except RuntimeError as e:
                    with pytest.raises(RuntimeError) as got:
                        tg.linalg.solve(tg.tensor(A), tg.tensor(B), left=left)
                    assert str(got.value).split("\n")[0] == str(e).split("\n")[0], (sa, sb)
                    continue
                got = tg.linalg.solve(tg.tensor(A), tg.tensor(B), left=left).numpy()
                np.testing.assert_allclose(got, want.resolve_conj().numpy(), rtol=1e-10,
                                           atol=1e-12)


@pytest.mark.parametrize("fn", [
    tg.linalg.svdvals, tg.linalg.pinv, tg.linalg.matrix_rank, tg.linalg.cond,
    lambda a: tg.linalg.matrix_norm(a, 2), lambda a: tg.linalg.svd(a),
    lambda a: tg.linalg.svd(a.to(tg.complex128)), lambda a: tg.linalg.svdvals(a.to(tg.complex128)),
    lambda a: tg.linalg.lstsq(a, tg.ones(2, 1, dtype=tg.float64)),
])
def test_non_finite_svd_input_message(fn):
    a = tg.tensor([[1.0, np.nan], [0.0, 1.0]])
    with pytest.raises(tg.linalg.LinAlgError, match="linalg.svd: The algorithm failed to "
                       "converge because the input matrix contained non-finite values"):
        fn(a)


def test_non_finite_eig_input_message():
    a = tg.tensor([[1.0, np.inf], [0.0, 1.0]])
    with pytest.raises(RuntimeError, match="input tensor should not contain infs or NaNs"):
        tg.linalg.eigvals(a)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.eigvals(a)


def test_ex_forms_raise_under_their_own_names():
    sing = tg.tensor([[1.0, 2.0], [2.0, 4.0]])
    eye = tg.eye(2, dtype=tg.float64)
    with pytest.raises(tg.linalg.LinAlgError, match=r"^linalg\.inv_ex: \(Batch element 1\): The "
                                                    "diagonal element 2 is zero"):
        tg.linalg.inv_ex(tg.stack([eye, sing]), check_errors=True)
    with pytest.raises(tg.linalg.LinAlgError, match=r"^linalg\.cholesky_ex: The factorization"):
        tg.linalg.cholesky_ex(-eye, check_errors=True)
    with pytest.raises(tg.linalg.LinAlgError, match=r"^torch\.linalg\.solve_ex: The solver"):
        tg.linalg.solve_ex(sing, tg.ones(2, 1, dtype=tg.float64), check_errors=True)


@pytest.mark.parametrize("x, msg", [
    (np.ones(3), "logdet: The input tensor A must have at least 2 dimensions."),
    (np.ones((2, 3)), "logdet: A must be batches of square matrices, but they are 2 by 3"),
    (np.ones((3, 3), np.int64), "logdet: Expected a floating point or complex tensor as input"),
])
def test_logdet_messages(x, msg):
    with pytest.raises(RuntimeError, match="^" + msg):
        tg.logdet(tg.tensor(x))


def test_norm_and_lstsq_messages():
    z = tg.zeros(2, 0, 3)
    with pytest.raises(RuntimeError, match=r"the inf norm on the dimension -2because this "
                                           "dimension is empty and the operation"):
        tg.linalg.vector_norm(z, float("inf"), dim=(0, -2))
    with pytest.raises(RuntimeError, match="the -inf norm on an empty tensor because the"):
        tg.linalg.vector_norm(z, float("-inf"))
    for dt in (tg.float64, tg.complex128):
        with pytest.raises(RuntimeError, match=r"^torch\.linalg\.lstsq: input must have at "
                                               "least 2 dimensions"):
            tg.linalg.lstsq(tg.ones(3, dtype=dt), tg.ones(3, dtype=dt))
    with pytest.raises(RuntimeError, match="floating point or complex tensor as input. Got Long"):
        tg.linalg.matrix_exp(tg.ones(2, 2, dtype=tg.int64))


def _o(*s):
    return tg.ones(*s, dtype=tg.float64)


@pytest.mark.parametrize("fn, msg", [
    (lambda: tg.addmm(_o(2, 5), _o(3, 4), _o(4, 5)), r"The expanded size of the tensor \(3\) "
     r"must match the existing size \(2\) at non-singleton dimension 0.  Target sizes: \[3, 5\]"),
    (lambda: tg.addmm(_o(2, 5), _o(3, 4), _o(4, 5), beta=0), "The expanded size of the tensor"),
    (lambda: tg.baddbmm(_o(2, 3, 4), _o(2, 3, 4), _o(2, 4, 5)), r"tensor \(5\) must match the "
     r"existing size \(4\) at non-singleton dimension 2"),
    (lambda: tg.addmv(_o(2), _o(3, 4), _o(4)), r"size mismatch, got input \(2\), mat \(3x4\), "
     r"vec \(4\)"),
    (lambda: tg.addmv(_o(2, 3), _o(3, 4), _o(4)), "vector \\+ matrix @ vector expected, got 2, 2, 1"),
    (lambda: tg.addr(_o(3, 4), _o(3, 1), _o(4)), "addr: Expected 1-D argument vec1, but got 2-D"),
    (lambda: tg.tensordot(_o(2, 3), _o(3, 2), dims=2), r"first has size 2 in dim -2 and second "
     r"has size 3 in dim 0"),
    (lambda: tg.tensordot(_o(2, 3, 4), _o(3, 2, 5), dims=([1, 2], [0, 2])), r"first has size 4 "
     r"in dim 2 and second has size 5 in dim 2"),
])
def test_product_shape_messages(fn, msg):
    with pytest.raises(RuntimeError, match=msg):
        fn()


def test_product_input_broadcasts_as_pytorch():
    assert tuple(tg.addmm(_o(5), _o(3, 4), _o(4, 5), beta=0).shape) == (3, 5)
    assert tuple(tg.addmv(_o(1), _o(3, 4), _o(4)).shape) == (3,)
    assert tuple(tg.baddbmm(_o(1, 5), _o(2, 3, 4), _o(2, 4, 5)).shape) == (2, 3, 5)


@pytest.mark.parametrize("name, shapes, inputs", [
    ("addmm", [(3, 5), (5, 4)], [(), (1,), (4,), (3, 1), (1, 4), (3, 4)]),
    ("addmv", [(3, 5), (5,)], [(), (1,), (3,)]),
    ("addr", [(3,), (4,)], [(), (1,), (4,), (3, 1), (1, 4), (3, 4)]),
    ("baddbmm", [(2, 3, 5), (2, 5, 4)], [(), (4,), (3, 1), (1, 3, 4), (2, 3, 4)]),
    ("addbmm", [(2, 3, 5), (2, 5, 4)], [(), (1,), (4,), (3, 1), (3, 4)]),
])
@pytest.mark.parametrize("beta", [1, 0.5])
def test_product_every_broadcastable_input_matches_torch(name, shapes, inputs, beta):
    # a 0-d or size-1 input expands to the product, with values and gradients as PyTorch's
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape in inputs:
        arrays = [rng.standard_normal(s) for s in [shape] + shapes]
        got = [tg.tensor(a, requires_grad=True) for a in arrays]
        want = [torch.tensor(a, requires_grad=True) for a in arrays]
        r = getattr(tg, name)(*got, beta=beta, alpha=2.0)
        t = getattr(torch, name)(*want, beta=beta, alpha=2.0)
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-12)
        (r * r).sum().backward()
        (t * t).sum().backward()
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.grad.numpy(), w.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((2, 3, 3), (3, 2, 3)), ((1, 2, 3, 3), (3, 2, 3))])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_solve_reports_matrix_sizes_before_batches(a_shape, b_shape, dtype):
    # B (3, 2, 3) is a batch of 2x3 matrices: PyTorch names the matrix sizes, not the batches
    torch = pytest.importorskip("torch")
    a, b = np.ones(a_shape, dtype), np.ones(b_shape, dtype)
    with pytest.raises(RuntimeError) as want:
        torch.linalg.solve(torch.tensor(a), torch.tensor(b))
    with pytest.raises(RuntimeError) as got:
        tg.linalg.solve(tg.tensor(a), tg.tensor(b))
    assert str(got.value) == str(want.value)


def _spd_failing(rng, n):
    x = rng.standard_normal((n, n))
    return x @ x.T - rng.uniform(0.2, 1.5) * n * np.eye(n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_ex_returns_lapacks_partial_factor(dtype, upper):
    # a matrix that is not positive-definite: PyTorch returns LAPACK's partial factor (the
    # columns before the failing order factored, the failing pivot's value), not NaN
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    mats = [np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[4.0, 9.0], [1.0, 1.0]]),
            np.array([[np.nan, 0.0], [0.0, 1.0]])]
    mats += [_spd_failing(rng, n) for n in (3, 5, 8, 12) for _ in range(3)]
    if dtype == np.complex128:
        mats.append(np.array([[1.0, 2 + 1j], [2 - 1j, 3.0]]))
    for a in mats:
        a = a.astype(dtype)
        L, info = tg.linalg.cholesky_ex(tg.tensor(a), upper=upper)
        want = torch.linalg.cholesky_ex(torch.tensor(a), upper=upper)
        assert info.item() == want.info.item()
        tol = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(L.numpy(), want.L.numpy(), rtol=tol, atol=tol)
    # a batch: each matrix its own factor (partial or complete) and info
    b = np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.diag([4.0, 9.0]),
                  np.array([[1.0, 2.0], [2.0, 3.0]])])
    L, info = tg.linalg.cholesky_ex(tg.tensor(b), upper=upper)
    want = torch.linalg.cholesky_ex(torch.tensor(b), upper=upper)
    assert info.tolist() == want.info.tolist() == [2, 0, 2]
    np.testing.assert_allclose(L.numpy(), want.L.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_matrices_holding_nan_give_pytorchs_nan_results(dtype):
    # a NaN anywhere in A: every entry of the solution / inverse is NaN (LAPACK's pivoting
    # left some finite), the determinant NaN and slogdet's sign PyTorch's 0 (nan+nanj complex)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for trial in range(40):
        n = int(rng.integers(1, 5))
        a = rng.standard_normal((2, n, n)) + 3 * np.eye(n)
        a[1, rng.integers(0, n), rng.integers(0, n)] = np.nan  # batch element 0 stays finite
        b = rng.standard_normal((2, n, 2))
        if trial % 2:
            b[0, 0, 0] = np.nan  # a NaN in B: that column only, as PyTorch's
        a, b = a.astype(dtype), b.astype(dtype)
        ta, tb, pa, pb = tg.tensor(a), tg.tensor(b), torch.tensor(a), torch.tensor(b)
        pairs = [(tg.linalg.solve(ta, tb), torch.linalg.solve(pa, pb)),
                 (tg.linalg.solve(ta, tb[..., 0]), torch.linalg.solve(pa, pb[..., 0])),
                 (tg.linalg.solve(ta, tb, left=False) if n == 2 else tg.zeros(1),
                  torch.linalg.solve(pa, pb, left=False) if n == 2 else torch.zeros(1)),
                 (tg.linalg.inv(ta), torch.linalg.inv(pa)),
                 (tg.linalg.solve_ex(ta, tb).result, torch.linalg.solve_ex(pa, pb).result),
                 (tg.linalg.det(ta), torch.linalg.det(pa)),
                 (tg.logdet(ta), torch.logdet(pa)),
                 *zip(tg.linalg.slogdet(ta), torch.linalg.slogdet(pa))]
        tol = 1e-3 if dtype == np.float32 else 1e-8
        for got, want in pairs:
            got, want = got.numpy(), want.resolve_conj().numpy()
            assert np.array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


_ADD_PRODUCTS = {
    "addmm": ((2, 2), lambda L, c, o: L.addmm(c, o(2, 3), o(3, 2), beta=0, alpha=2)),
    "baddbmm": ((2, 2, 2), lambda L, c, o: L.baddbmm(c, o(2, 2, 3), o(2, 3, 2), beta=0)),
    "addmv": ((2,), lambda L, c, o: L.addmv(c, o(2, 3), o(3), beta=0)),
    "addr": ((2, 3), lambda L, c, o: L.addr(c, o(2), o(3), beta=0.0)),
    "addbmm": ((1, 2), lambda L, c, o: L.addbmm(c, o(2, 2, 3), o(2, 3, 2), beta=0)),
}


@pytest.mark.parametrize("others_grad", [False, True])
@pytest.mark.parametrize("name", sorted(_ADD_PRODUCTS))
def test_add_products_with_beta_zero_give_input_a_zero_gradient(name, others_grad):
    # beta=0 ignores input's values (a NaN there does not propagate) but input is still
    # differentiated: a zero gradient, not None (nor an error when only input needs one)
    torch = pytest.importorskip("torch")
    shape, f = _ADD_PRODUCTS[name]
    rng = np.random.default_rng(0)
    data = rng.standard_normal(shape)
    data.flat[0] = np.nan
    got, want = [], []
    for L, out in ((tg, got), (torch, want)):
        c = L.tensor(data, requires_grad=True)

        def o(*s, L=L):
            return L.tensor(np.arange(np.prod(s), dtype=np.float64).reshape(s) / 7,
                            requires_grad=others_grad)

        y = f(L, c, o)
        y.backward(L.ones(tuple(y.shape), dtype=L.float64))
        out += [y.detach().numpy(), c.grad.numpy()]
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert not got[1].any()


_MIXED_SOLVES = {
    "solve": lambda L, a, b: L.linalg.solve(a, b),
    "lstsq": lambda L, a, b: L.linalg.lstsq(a, b).solution,
    "cholesky_solve": lambda L, a, b: L.cholesky_solve(b, L.linalg.cholesky(a)),
    "cross": lambda L, a, b: L.linalg.cross(a, b[:, :1].expand(3, 3)),
}


@pytest.mark.parametrize("name", sorted(_MIXED_SOLVES))
def test_mixed_float_solves_compute_in_float64_as_documented(name):
    # docs/differences_from_pytorch.md: as matmul, a float32 and a float64 operand compute in
    # float64 (PyTorch raises); each operand's gradient keeps its dtype and matches the all-
    # float64 computation's
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    a = a @ a.T + 3 * np.eye(3)
    b = rng.standard_normal((3, 2))
    a32 = tg.tensor(a.astype(np.float32), requires_grad=True)
    b64 = tg.tensor(b, requires_grad=True)
    y = _MIXED_SOLVES[name](tg, a32, b64)
    y.sum().backward()
    a64 = tg.tensor(a.astype(np.float32).astype(np.float64), requires_grad=True)
    b64w = tg.tensor(b, requires_grad=True)
    want = _MIXED_SOLVES[name](tg, a64, b64w)
    want.sum().backward()
    assert y.dtype == tg.float64 and a32.grad.dtype == tg.float32
    np.testing.assert_allclose(y.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a32.grad.numpy(), a64.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b64.grad.numpy(), b64w.grad.numpy(), rtol=1e-6)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):  # (the difference documented)
        _MIXED_SOLVES[name](torch, torch.tensor(a.astype(np.float32)), torch.tensor(b))


def test_solve_with_infinities_but_no_nan_keeps_lapacks_values():
    # inf - inf makes the whole-array NaN screen fire without a NaN entry: the per-matrix check
    # then finds none, and each solution is LAPACK's own (the finite matrix's untouched)
    a = np.stack([np.array([[np.inf, -np.inf], [1.0, 2.0]]), np.array([[2.0, 1.0], [1.0, 3.0]])])
    b = np.array([[1.0, 2.0], [3.0, 4.0]])[..., None]
    want = np.linalg.solve(a, b)
    np.testing.assert_array_equal(tg.linalg.solve(tg.tensor(a), tg.tensor(b)).numpy(), want)
    a[0, 1, 1] = np.nan
    got = tg.linalg.solve(tg.tensor(a), tg.tensor(b)).numpy()
    assert np.isnan(got[0]).all()
    np.testing.assert_array_equal(got[1], want[1])
