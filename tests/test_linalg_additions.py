"""linalg.vander, linalg.tensorinv, linalg.householder_product (tg.orgqr), the deprecated
tg.qr and tg.triangular_solve, solve_triangular's inf/nan at a zero pivot, fftfreq's default
dtype and lstsq's residual shapes: values against NumPy, gradients by finite differences (first
and second order, float64), and values and gradients against torch when it is importable."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import gradcheck, gradgradcheck
from tests.op_checks import needs_torch, torch

R = np.random.default_rng(7)


def _leaf(a):
    return tg.tensor(a, requires_grad=True)


def _both(f, arrays, torch):
    """``f(lib, *xs)`` with tapegrad and torch: the values and the gradients of ``sum(out * w)``
    w.r.t. every input (``w`` fixed random weights, real or complex as the output)."""
    ours = [_leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o, t = f(tg, *ours), f(torch, *theirs)
    w = R.standard_normal(tuple(o.shape))
    if o.dtype.kind == "c":
        w = w + 1j * R.standard_normal(tuple(o.shape))
    loss = o * tg.tensor(w)
    (tg.real(loss) if o.dtype.kind == "c" else loss).sum().backward()
    tw = torch.tensor(w)
    (torch.real(t * tw).sum() if t.is_complex() else (t * tw).sum()).backward()
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours, theirs):  # (no gradient reads as a zero one)
        ga = np.zeros(a.shape, a.dtype) if a.grad is None else a.grad.numpy()
        gb = np.zeros(a.shape, a.dtype) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(ga, gb, rtol=1e-8, atol=1e-10)


# ---- vander -----------------------------------------------------------------------------------

def test_vander_values():
    x = R.standard_normal((2, 4))
    v = tg.linalg.vander(tg.tensor(x), N=5).numpy()
    assert v.shape == (2, 4, 5)
    for b in range(2):
        np.testing.assert_allclose(v[b], np.vander(x[b], 5, increasing=True), rtol=1e-14)
    assert tg.linalg.vander(tg.tensor([1, 2, 3])).numpy().tolist() == [[1, 1, 1], [1, 2, 4],
                                                                       [1, 3, 9]]
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        tg.linalg.vander(tg.tensor([1.0, 2.0]), N=1)


def test_vander_gradients():
    x = _leaf(np.array([[0.0, 0.5, -1.2], [2.0, -0.3, 0.7]]))
    assert gradcheck(lambda x: tg.linalg.vander(x, N=4), (x,))
    assert gradgradcheck(lambda x: tg.linalg.vander(x), (x,))


def test_vander_torch():
    torch = pytest.importorskip("torch")
    _both(lambda M, x: M.linalg.vander(x, N=4), [R.standard_normal((3, 3))], torch)
    _both(lambda M, x: M.linalg.vander(x), [np.array([0.0, 1.5, -2.0])], torch)


# ---- tensorinv --------------------------------------------------------------------------------

def _well_conditioned(n):
    return R.standard_normal((n, n)) + n * np.eye(n)


def test_tensorinv_values():
    a = _well_conditioned(6).reshape(2, 3, 6)
    inv = tg.linalg.tensorinv(tg.tensor(a), ind=2).numpy()
    np.testing.assert_allclose(inv, np.linalg.tensorinv(a, ind=2), rtol=1e-12)
    assert inv.shape == (6, 2, 3)
    with pytest.raises(RuntimeError, match=r"prod\(self.shape\[ind:\]\) == .* got 4 != 6"):
        tg.linalg.tensorinv(tg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="strictly positive integer for 'ind', but got 0"):
        tg.linalg.tensorinv(tg.ones(2, 2), ind=0)


def test_tensorinv_gradients():
    a = _leaf(_well_conditioned(4).reshape(4, 2, 2))
    assert gradcheck(lambda a: tg.linalg.tensorinv(a, ind=1), (a,))
    assert gradgradcheck(lambda a: tg.linalg.tensorinv(a, ind=1), (a,))


def test_tensorinv_torch():
    torch = pytest.importorskip("torch")
    _both(lambda M, a: M.linalg.tensorinv(a, ind=2), [_well_conditioned(6).reshape(3, 2, 6)],
          torch)


# ---- householder_product / orgqr --------------------------------------------------------------

def _householder_np(a, tau):
    """H_1 ... H_k (first n columns), written out with NumPy."""
    m, n = a.shape
    Q = np.eye(m, dtype=a.dtype)
    for i in range(tau.shape[0]):
        v = np.zeros(m, a.dtype)
        v[i] = 1
        v[i + 1:] = a[i + 1:, i]
        Q = Q @ (np.eye(m) - tau[i] * np.outer(v, v.conj()))
    return Q[:, :n]


def test_householder_product_values():
    a = R.standard_normal((2, 5, 3))
    tau = R.uniform(0.2, 1.8, (2, 2))
    q = tg.linalg.householder_product(tg.tensor(a), tg.tensor(tau)).numpy()
    for b in range(2):
        np.testing.assert_allclose(q[b], _householder_np(a[b], tau[b]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tg.orgqr(tg.tensor(a), tg.tensor(tau)).numpy(), q)
    np.testing.assert_allclose(tg.tensor(a).orgqr(tg.tensor(tau)).numpy(), q)
    # the reflectors of a QR factorization rebuild its Q (NumPy's raw mode: LAPACK's geqrf)
    m = R.standard_normal((5, 3))
    h, t = np.linalg.qr(m, mode="raw")
    Q = tg.linalg.householder_product(tg.tensor(h.T.copy()), tg.tensor(t)).numpy()
    np.testing.assert_allclose(np.abs(Q), np.abs(np.linalg.qr(m)[0]), atol=1e-12)
    zc = a[0] + 1j * R.standard_normal((5, 3))
    tc = tau[0] + 0.3j
    np.testing.assert_allclose(tg.linalg.householder_product(tg.tensor(zc), tg.tensor(tc)).numpy(),
                               _householder_np(zc, tc), rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="input.shape.-2. must be greater than or equal"):
        tg.linalg.householder_product(tg.ones(3, 4), tg.ones(2))
    with pytest.raises(RuntimeError, match="one dimension less than input"):
        tg.linalg.householder_product(tg.ones(2, 4, 3), tg.ones(2))


def test_householder_product_gradients():
    a, tau = _leaf(R.standard_normal((2, 4, 3))), _leaf(R.uniform(0.2, 1.8, (2, 3)))
    assert gradcheck(tg.linalg.householder_product, (a, tau))
    assert gradgradcheck(tg.linalg.householder_product, (a, tau))
    z = _leaf(R.standard_normal((4, 2)) + 1j * R.standard_normal((4, 2)))
    tz = _leaf(np.array([0.7 + 0.2j, 1.1 - 0.4j]))
    assert gradcheck(tg.linalg.householder_product, (z, tz))


def test_householder_product_torch():
    torch = pytest.importorskip("torch")
    _both(lambda M, a, t: M.linalg.householder_product(a, t),
          [R.standard_normal((2, 5, 3)), R.uniform(0.2, 1.8, (2, 2))], torch)
    _both(lambda M, a, t: M.orgqr(a, t), [R.standard_normal((4, 4)), R.uniform(0.2, 1.8, 4)],
          torch)
    _both(lambda M, a, t: M.linalg.householder_product(a, t),
          [R.standard_normal((4, 3)) + 1j * R.standard_normal((4, 3)),
           np.array([0.7 + 0.2j, 1.1 - 0.4j, 0.3j])], torch)


# ---- qr, triangular_solve ---------------------------------------------------------------------

def test_qr_some():
    a = R.standard_normal((5, 3))
    for some, mode in ((True, "reduced"), (False, "complete")):
        Q, Rm = tg.qr(tg.tensor(a), some=some)
        q, r = np.linalg.qr(a, mode=mode)
        np.testing.assert_allclose(Q.numpy(), q, atol=1e-12)
        np.testing.assert_allclose(Rm.numpy(), r, atol=1e-12)
    Q, Rm = tg.tensor(a).qr()
    assert Q.shape == (5, 3) and Rm.shape == (3, 3)
    x = _leaf(a)
    assert gradcheck(lambda x: tg.qr(x), (x,))
    assert gradgradcheck(lambda x: tg.qr(x), (x,))


def _triangular(n, upper=True):
    t = R.standard_normal((n, n)) + 3 * np.eye(n)
    return np.triu(t) if upper else np.tril(t)


def test_triangular_solve():
    A, b = _triangular(3), R.standard_normal((2, 3, 2))
    X, C = tg.triangular_solve(tg.tensor(b), tg.tensor(A))
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(A, b), rtol=1e-12)
    assert C.shape == (2, 3, 3) and np.array_equal(C.numpy()[1], A)
    X, _ = tg.tensor(b).triangular_solve(tg.tensor(A), transpose=True)
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(A.T, b), rtol=1e-12)
    L = _triangular(3, upper=False)
    X, _ = tg.triangular_solve(tg.tensor(b), tg.tensor(L + 5 * np.eye(3)), upper=False,
                               unitriangular=True)
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(np.tril(L, -1) + np.eye(3), b),
                               rtol=1e-12)
    with pytest.raises(RuntimeError, match="Expected b to have at least 2 dimensions"):
        tg.triangular_solve(tg.ones(3), tg.tensor(A))
    bb, AA = _leaf(b), _leaf(A)
    f = lambda b, A: tg.triangular_solve(b, A, transpose=True)  # noqa: E731
    assert gradcheck(f, (bb, AA))
    assert gradgradcheck(f, (bb, AA))


def test_qr_triangular_solve_torch():
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch's deprecation warnings)
        _both(lambda M, a: M.qr(a)[1], [R.standard_normal((4, 3))], torch)
        _both(lambda M, a: M.qr(a, some=False)[0] * 2 + M.qr(a, some=False)[1][:, :3],
              [R.standard_normal((3, 4))], torch)
        for upper in (True, False):
            for transpose in (True, False):
                for unit in (True, False):
                    args = dict(upper=upper, transpose=transpose, unitriangular=unit)
                    _both(lambda M, b, A: M.triangular_solve(b, A, **args)[0],
                          [R.standard_normal((2, 3, 2)), R.standard_normal((3, 3)) + 4 * np.eye(3)],
                          torch)
                    _both(lambda M, b, A: M.triangular_solve(b, A, **args)[1] * 2.0,
                          [R.standard_normal((2, 3, 2)), R.standard_normal((3, 3))], torch)
        _both(lambda M, b, A: b.triangular_solve(A, transpose=True).solution,
              [R.standard_normal((3, 2)) + 1j, R.standard_normal((3, 3)) + 3 * np.eye(3) - 1j],
              torch)


# ---- solve_triangular at a zero pivot ----------------------------------------------------------

SINGULAR = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.0]])


def test_solve_triangular_zero_pivot_gives_inf_nan():
    B = np.array([[1.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    X = tg.linalg.solve_triangular(tg.tensor(SINGULAR), tg.tensor(B), upper=True).numpy()
    assert np.isnan(X[:2]).all() and X[2].tolist() == [1.0, 0.0]
    X = tg.linalg.solve_triangular(tg.tensor(SINGULAR.T), tg.tensor(B), upper=False).numpy()
    np.testing.assert_array_equal(X, [[1.0, 0.0], [-np.inf, np.nan], [np.inf, np.nan]])
    X = tg.linalg.solve_triangular(tg.tensor([[0.0, 2.0], [0.0, 1.0]]), tg.eye(2), upper=True)
    np.testing.assert_array_equal(X.numpy(), [[np.inf, -np.inf], [0.0, 1.0]])


def test_solve_triangular_gradients_unchanged():
    A, B = _leaf(_triangular(3)), _leaf(R.standard_normal((3, 2)))
    f = lambda A, B: tg.linalg.solve_triangular(A, B, upper=True)  # noqa: E731
    assert gradcheck(f, (A, B)) and gradgradcheck(f, (A, B))
    g = lambda A, B: tg.linalg.solve_triangular(A, B.T, upper=False, left=False)  # noqa: E731
    assert gradcheck(g, (A, B)) and gradgradcheck(g, (A, B))


def test_solve_triangular_zero_pivot_torch():
    torch = pytest.importorskip("torch")
    B = R.standard_normal((2, 3, 2))
    A = np.stack([SINGULAR, np.triu(R.standard_normal((3, 3))) + 3 * np.eye(3)])
    for upper, left in ((True, True), (False, True), (True, False), (False, False)):
        a = A if upper else np.swapaxes(A, -1, -2)
        b = B if left else np.swapaxes(B, -1, -2)
        ours = tg.linalg.solve_triangular(tg.tensor(a), tg.tensor(b), upper=upper, left=left)
        theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=upper,
                                               left=left)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


# ---- fftfreq's dtype ------------------------------------------------------------------------------

def test_fftfreq_follows_default_dtype():
    old = tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float32)
        assert tg.fft.fftfreq(4).dtype == np.float32
        assert tg.fft.rfftfreq(5, 0.5).dtype == np.float32
        assert tg.fft.fftfreq(4, dtype=tg.float64).dtype == np.float64
        tg.set_default_dtype(tg.float64)
        assert tg.fft.rfftfreq(4).dtype == np.float64
        np.testing.assert_array_equal(tg.fft.fftfreq(5, 0.1).numpy(), np.fft.fftfreq(5, 0.1))
    finally:
        tg.set_default_dtype(old)


def test_fftfreq_torch():
    torch = pytest.importorskip("torch")
    old, told = tg.get_default_dtype(), torch.get_default_dtype()
    try:
        for ours, theirs in ((tg.float32, torch.float32), (tg.float64, torch.float64)):
            tg.set_default_dtype(ours)
            torch.set_default_dtype(theirs)
            for name in ("fftfreq", "rfftfreq"):
                o, t = getattr(tg.fft, name)(6, 0.3), getattr(torch.fft, name)(6, 0.3)
                assert o.dtype == t.numpy().dtype
                np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-6)
    finally:
        tg.set_default_dtype(old)
        torch.set_default_dtype(told)


# ---- lstsq's residuals --------------------------------------------------------------------------

def test_lstsq_residual_shapes():
    A = R.standard_normal((5, 3))
    for B, shape in ((R.standard_normal(5), (1,)), (R.standard_normal((5, 2)), (2,))):
        r = tg.linalg.lstsq(tg.tensor(A), tg.tensor(B), driver="gelsd")
        assert tuple(r.residuals.shape) == shape
        x = np.linalg.lstsq(A, B, rcond=None)[0]
        np.testing.assert_allclose(r.solution.numpy(), x, rtol=1e-10)
        np.testing.assert_allclose(r.residuals.numpy(),
                                   np.atleast_1d(((A @ x - B) ** 2).sum(0)), rtol=1e-10)
    r = tg.linalg.lstsq(tg.tensor(np.stack([A, A])), tg.tensor(R.standard_normal((2, 5))),
                        driver="gelsd")
    assert tuple(r.residuals.shape) == (2, 1) and tuple(r.solution.shape) == (2, 3)
    c = tg.linalg.lstsq(tg.tensor(A + 1j * A[::-1]), tg.tensor(R.standard_normal((5, 2)) + 0j))
    assert c.residuals.dtype == np.float64 and c.singular_values.dtype == np.float64
    assert tuple(c.residuals.shape) == (0,)
    a, b = _leaf(A), _leaf(R.standard_normal(5))
    f = lambda a, b: tg.linalg.lstsq(a, b, driver="gelsd").residuals  # noqa: E731
    assert gradcheck(f, (a, b)) and gradgradcheck(f, (a, b))


def test_lstsq_torch():
    torch = pytest.importorskip("torch")
    A = R.standard_normal((2, 5, 3))
    for B in (R.standard_normal(5), R.standard_normal((5, 2)), R.standard_normal((2, 5)),
              R.standard_normal((2, 5, 2))):
        a = A[0] if B.ndim == 1 or B.shape == (5, 2) else A
        o = tg.linalg.lstsq(tg.tensor(a), tg.tensor(B), driver="gelsd")
        t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(B), driver="gelsd")
        for x, y in zip(o, t):
            assert tuple(x.shape) == tuple(y.shape)
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-9, atol=1e-12)
    _both(lambda M, a, b: M.linalg.lstsq(a, b, driver="gelsd").residuals,
          [A[0], R.standard_normal(5)], torch)
    z = A[0] + 1j * A[1]
    zb = R.standard_normal((5, 2)) + 1j
    o = tg.linalg.lstsq(tg.tensor(z), tg.tensor(zb))
    t = torch.linalg.lstsq(torch.tensor(z), torch.tensor(zb))
    for x, y in zip(o, t):
        assert x.dtype == y.numpy().dtype and tuple(x.shape) == tuple(y.shape)


# ---- edge inputs a numerical user meets: zero entries, empty batches, singular matrices -------

@pytest.mark.parametrize("ord", [-1, -2, -0.5])
def test_vector_norm_negative_ord_with_a_zero_entry(ord):
    """|0|**ord is inf for ord < 0: the sum is inf and the norm 0, with a zero gradient (the
    zero entries were masked as for 0 < ord < 1, which dropped them from the sum)."""
    x = _leaf(np.array([[0.0, 1.0, -2.0], [1.0, 2.0, 3.0]]))
    y = tg.linalg.vector_norm(x, ord, dim=1)
    assert y.detach().numpy()[0] == 0.0
    np.testing.assert_allclose(y.detach().numpy()[1], np.sum(np.abs([1.0, 2, 3]) ** ord) **
                               (1 / ord), rtol=1e-13)
    y.sum().backward()
    assert np.all(x.grad.numpy()[0] == 0.0)
    assert gradcheck(lambda t: tg.linalg.vector_norm(t, ord, dim=1), (_leaf(x.detach().numpy()[1:]),))


@pytest.mark.parametrize("ord", [-1, -2.5, float("inf"), -float("inf")])
def test_vector_norm_without_identity_on_empty(ord):
    with pytest.raises(RuntimeError, match="on an empty tensor because the operation does not"):
        tg.linalg.vector_norm(tg.zeros(0), ord)
    assert tg.linalg.vector_norm(tg.zeros(2, 0), ord, dim=0).shape == (0,)


@needs_torch
@pytest.mark.parametrize("ord", [-1, -2, 0.5])
def test_vector_norm_zero_entry_torch(ord):
    _both(lambda L, x: L.linalg.vector_norm(x, ord, dim=-1),
          [np.array([[0.0, 1.0, -2.0], [1.0, 2.0, 3.0]])], torch)


def test_vector_and_matrix_norm_dtype_keyword():
    x = tg.tensor(np.array([1 + 1j, 2.0], np.complex64))
    y = tg.linalg.vector_norm(x, dtype=tg.complex128)
    assert y.dtype == np.float64 and abs(y.item() - np.sqrt(6)) < 1e-12
    assert tg.linalg.matrix_norm(x.reshape(1, 2), dtype=tg.complex128).dtype == np.float64
    with pytest.raises(RuntimeError, match="dtype should be complex for complex inputs"):
        tg.linalg.vector_norm(x, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="dtype should be real for real inputs"):
        tg.linalg.matrix_norm(tg.ones(2, 2), dtype=tg.complex128)


def test_qr_backward_of_a_rank_deficient_matrix_is_nan_not_an_error():
    """``R`` with a zero on its diagonal: the backward's ``R^-T`` is a triangular solve (inf/nan,
    PyTorch's), not an LU solve that raised ``LinAlgError``."""
    for shape in [(3, 3), (4, 2), (2, 4)]:
        x = _leaf(np.zeros(shape))
        Q, Rm = tg.linalg.qr(x)
        (Q.sum() + (Rm * Rm).sum()).backward()
        assert np.isnan(x.grad.numpy()).any()
    x = _leaf(np.array([[1.0, 2.0], [2.0, 4.0]]))  # rank 1, R[1, 1] ~ 1e-16: finite
    assert gradcheck(lambda t: tg.linalg.qr(t)[0] @ tg.linalg.qr(t)[1], (x,))


@needs_torch
def test_qr_rank_deficient_torch():
    for a in (np.zeros((3, 3)), np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((2, 4))):
        ours, theirs = _leaf(a), torch.tensor(a, requires_grad=True)
        for L, x in ((tg, ours), (torch, theirs)):
            Q, Rm = L.linalg.qr(x)
            (Q.sum() + (Rm * Rm).sum()).backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8,
                                   equal_nan=True)


_EMPTY_DECOMPOSITIONS = {
    "svdvals": lambda L, x: L.linalg.svdvals(x),
    "svd": lambda L, x: L.linalg.svd(x)[0],
    "eigh": lambda L, x: L.linalg.eigh(x)[1],
    "eigvalsh": lambda L, x: L.linalg.eigvalsh(x),
    "qr": lambda L, x: L.linalg.qr(x)[1],
    "cholesky": lambda L, x: L.linalg.cholesky(x),
    "cholesky_ex": lambda L, x: L.linalg.cholesky_ex(x)[0],
    "cond": lambda L, x: L.linalg.cond(x),
    "cond 1": lambda L, x: L.linalg.cond(x, 1),
    "matrix_norm 2": lambda L, x: L.linalg.matrix_norm(x, 2),
    "matrix_norm inf": lambda L, x: L.linalg.matrix_norm(x, float("inf")),
    "matrix_norm nuc": lambda L, x: L.linalg.matrix_norm(x, "nuc"),
}


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(0, 3, 3), (0, 0), (2, 0, 0)])
@pytest.mark.parametrize("name", sorted(_EMPTY_DECOMPOSITIONS))
def test_decompositions_and_norms_of_empty_batches(name, shape, dtype):
    """(A batch of 0 matrices, or 0x0 ones: the packing of the outputs read the empty batch's
    -1 as ambiguous, the largest-of reductions had no element.)"""
    out = _EMPTY_DECOMPOSITIONS[name](tg, tg.tensor(np.zeros(shape, dtype), requires_grad=True))
    assert out.detach().numpy().size == 0 or np.all(out.detach().numpy() == 0)
    assert out.shape[:len(shape) - 2] == shape[:-2]


@needs_torch
@pytest.mark.parametrize("shape", [(0, 3, 3), (0, 0), (2, 0, 0), (0, 3), (3, 0)])
@pytest.mark.parametrize("name", sorted(_EMPTY_DECOMPOSITIONS))
def test_decompositions_and_norms_of_empty_batches_torch(name, shape):
    f = _EMPTY_DECOMPOSITIONS[name]
    a = np.zeros(shape)
    try:
        want = f(torch, torch.tensor(a)).numpy()
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e).split(": ", 1)[-1])):
            f(tg, tg.tensor(a))
        return
    got = f(tg, tg.tensor(a)).numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_eig_of_float32_is_complex64():
    x = _leaf(R.standard_normal((3, 3)).astype(np.float32))
    w, v = tg.linalg.eig(x)
    assert w.dtype == np.complex64 and v.dtype == np.complex64
    assert tg.linalg.eigvals(x).dtype == np.complex64
    (w.abs().sum() + v.abs().sum()).backward()
    assert x.grad.dtype == np.float32
    assert tg.linalg.eig(tg.tensor(R.standard_normal((2, 2))))[0].dtype == np.complex128


def test_logdet_of_a_complex_matrix_is_complex():
    a = R.standard_normal((2, 3, 3)) + 1j * R.standard_normal((2, 3, 3))
    y = tg.logdet(tg.tensor(a))
    assert y.dtype == np.complex128
    d = np.linalg.det(a)
    np.testing.assert_allclose(y.numpy(), np.log(np.abs(d)) + 1j * np.angle(d), rtol=1e-12)
    assert tg.logdet(tg.tensor(np.diag([-1.0, 2.0, 3.0]).astype(np.complex64))).dtype == \
        np.complex64
    assert gradcheck(lambda t: tg.logdet(t), (_leaf(a[0]),))


@needs_torch
def test_logdet_complex_torch():
    _both(lambda L, x: L.logdet(x), [R.standard_normal((2, 3, 3)) +
                                      1j * R.standard_normal((2, 3, 3))], torch)


def test_matrix_rank_of_complex_matrices():
    a = R.standard_normal((2, 4, 3)) + 1j * R.standard_normal((2, 4, 3))
    a[1] = np.outer([1, 2, 3, 4j], [1, 1j, 2])
    x = tg.tensor(a)
    assert tg.linalg.matrix_rank(x).numpy().tolist() == [3, 1]
    assert tg.linalg.matrix_rank(x @ x.mH, hermitian=True).numpy().tolist() == [3, 1]
    assert tg.linalg.matrix_rank(x, atol=1e3, rtol=0.0).numpy().tolist() == [0, 0]


_SING = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # U[2, 2] = 0
_ZERO_DIAG = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 4.0], [0.0, 0.0, 5.0]])  # U[1, 1] = 0


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_singular_errors_name_the_zero_pivot_and_batch_element(dtype):
    with pytest.raises(tg.linalg.LinAlgError, match="^linalg.inv: The diagonal element 3 is"):
        tg.linalg.inv(tg.tensor(_SING.astype(dtype)))
    with pytest.raises(tg.linalg.LinAlgError, match="^linalg.inv: The diagonal element 2 is"):
        tg.linalg.inv(tg.tensor(_ZERO_DIAG.astype(dtype)))
    batch = np.stack([np.eye(3), _ZERO_DIAG]).astype(dtype)
    with pytest.raises(RuntimeError, match=r"inv: \(Batch element 1\): The diagonal element 2"):
        tg.linalg.inv(tg.tensor(batch))
    with pytest.raises(tg.linalg.LinAlgError, match=r"^torch.linalg.solve: \(Batch element 1\)"
                       ": The solver failed because the input matrix is singular."):
        tg.linalg.solve(tg.tensor(batch), tg.ones(2, 3, 1, dtype=dtype))


def test_inv_ex_and_solve_ex_info_is_lapacks():
    batch = tg.tensor(np.stack([np.eye(3), _ZERO_DIAG, _SING]))
    assert tg.linalg.inv_ex(batch).info.numpy().tolist() == [0, 2, 3]
    assert tg.linalg.solve_ex(batch, tg.ones(3, 3, 2)).info.numpy().tolist() == [0, 2, 3]
    assert tg.linalg.inv_ex(tg.tensor(_SING)).info.item() == 3
    assert tg.linalg.solve_ex(tg.tensor(_ZERO_DIAG.astype(complex)),
                              tg.ones(3, dtype=tg.complex128)).info.item() == 2
    assert tg.linalg.inv_ex(tg.tensor(np.zeros((3, 3)))).info.item() == 1


@pytest.mark.parametrize("a_batch,b_shape,left", [((3,), (3, 1), True), ((3,), (3,), True),
                                                   ((3,), (3, 3), True), ((1,), (2, 3, 1), True),
                                                   ((3,), (2, 3), False), ((), (3, 2), True)])
def test_solve_ex_info_has_as_batch_shape_when_b_broadcasts(a_batch, b_shape, left):
    mats = np.stack([_SING, _ZERO_DIAG, np.eye(3) + 1.0])[-int(np.prod(a_batch)):]
    a = mats.reshape(a_batch + (3, 3))
    b = np.arange(1.0, 1.0 + np.prod(b_shape)).reshape(b_shape)
    result, info = tg.linalg.solve_ex(tg.tensor(a), tg.tensor(b), left=left)
    want = {(3,): [3, 2, 0], (1,): [0], (): 0}[a_batch]
    assert info.dtype == tg.int32 and info.numpy().tolist() == want
    ok = np.isfinite(result.numpy())
    if a_batch == (3,) and left:  # the nonsingular matrix's right-hand sides solved
        expected = np.linalg.solve(np.eye(3) + 1.0, b[2] if b_shape == (3, 3) else b)
        np.testing.assert_allclose(result.numpy()[2], expected)
        assert ok[2].all()
    if torch is not None:
        t = torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b), left=left)
        assert tuple(t.result.shape) == tuple(result.shape)
        assert t.info.tolist() == want  # the singular ones': LU's inf/NaN, as PyTorch's
        np.testing.assert_array_equal(ok, np.isfinite(t.result.numpy()))
        np.testing.assert_allclose(result.numpy()[ok], t.result.numpy()[ok], rtol=1e-12)


def test_solve_ex_gradient_of_a_batch_with_a_singular_matrix():
    a = np.stack([_SING, np.eye(3) + np.diag([1.0, 2.0, 3.0])])
    B = tg.tensor(np.arange(1.0, 7.0).reshape(3, 2), requires_grad=True)
    A = tg.tensor(a, requires_grad=True)

    def f(A, B):
        return tg.linalg.solve_ex(A, B).result[1]

    assert gradcheck(f, (A, B))
    gA, gB = tg.autograd.grad(tg.linalg.solve_ex(A, B).result.nan_to_num().sum(), (A, B))
    assert not gA.numpy()[0].any()  # (the singular matrix's NaN results are constants)


def test_integer_input_error_is_pytorchs():
    with pytest.raises(RuntimeError, match="linalg.det: Expected a floating point or complex "
                       "tensor as input. Got Long"):
        tg.linalg.det(tg.tensor(np.eye(3, dtype=np.int64)))


# ---- tensorsolve, cholesky_inverse's checks, linalg.norm's string orders ---------------------

@pytest.mark.parametrize("shapes,dims", [(((2, 3, 6), (2, 3)), None), (((6, 2, 3), (2, 3)), (0,)),
                                         (((2, 3, 3, 2), (2, 3)), None)])
def test_tensorsolve(shapes, dims):
    a, b = R.standard_normal(shapes[0]), R.standard_normal(shapes[1])
    x = tg.linalg.tensorsolve(tg.tensor(a), tg.tensor(b), dims=dims)
    moved = a if dims is None else np.moveaxis(a, dims, range(a.ndim - len(dims), a.ndim))
    np.testing.assert_allclose(x.numpy(), np.linalg.tensorsolve(moved, b), rtol=1e-10)
    assert gradcheck(lambda p, q: tg.linalg.tensorsolve(p, q, dims=dims), (_leaf(a), _leaf(b)))
    assert gradgradcheck(lambda p, q: tg.linalg.tensorsolve(p, q, dims=dims),
                         (_leaf(a), _leaf(b)))
    with pytest.raises(RuntimeError, match=r"prod\(self.shape\[other.ndim:\]\) == "):
        tg.linalg.tensorsolve(tg.ones(2, 3, 5), tg.ones(2, 3))


@needs_torch
def test_tensorsolve_torch():
    _both(lambda L, a, b: L.linalg.tensorsolve(a, b, dims=(0,)),
          [R.standard_normal((6, 2, 3)), R.standard_normal((2, 3))], torch)
    _both(lambda L, a, b: L.linalg.tensorsolve(a, b),
          [R.standard_normal((4, 4)) + 1j * R.standard_normal((4, 4)),
           R.standard_normal(4) + 0j], torch)


def test_cholesky_inverse_checks_its_input_and_norm_string_orders_are_matrix_norms():
    with pytest.raises(RuntimeError, match="cholesky_inverse: A must be batches of square "
                       "matrices, but they are 3 by 4 matrices"):
        tg.cholesky_inverse(tg.ones(3, 4))
    with pytest.raises(RuntimeError, match="cholesky_inverse: The input tensor A must have at "
                       "least 2 dimensions."):
        tg.cholesky_inverse(tg.ones(3))
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: The input tensor A must have at "
                       "least 2 dimensions."):
        tg.linalg.norm(tg.ones(3), "fro")
    with pytest.raises(RuntimeError, match="input must be 1D or 2D. Got 3D."):
        tg.linalg.norm(tg.ones(2, 3, 3), "nuc")


@pytest.mark.parametrize("A", [np.diag([1.0, 0.0, 0.0]), np.diag([2.0, 3.0, 0.0, 0.0]),
                               np.zeros((3, 3)), np.diag([1.0, 2.0, 0.0]),
                               np.stack([np.diag([1.0, 0.0, 0.0]), np.eye(3) * 2.0])],
                         ids=["rank1of3", "rank2of4", "zero", "rank2of3", "batch"])
def test_det_second_derivative_at_rank_deficient_matrices(A):
    # (at rank n-2 or less the SVD's cofactor has repeated zero singular values: its
    # derivative came out 0 where the det's Hessian, the signed (n-2)-minors, is not)
    x = tg.tensor(A, requires_grad=True)
    (g,) = tg.autograd.grad(tg.linalg.det(x).sum(), x, create_graph=True)
    v = np.random.default_rng(1).standard_normal(A.shape)
    (hv,) = tg.autograd.grad((g * tg.tensor(v)).sum(), x)
    eps, f = 1e-5, lambda M: np.linalg.det(M).sum()

    def grad_fd(M):
        out = np.zeros(M.size)
        for k in range(M.size):
            e = np.zeros(M.size)
            e[k] = eps
            out[k] = (f(M + e.reshape(M.shape)) - f(M - e.reshape(M.shape))) / (2 * eps)
        return out.reshape(M.shape)

    want = (grad_fd(A + eps * v) - grad_fd(A - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), want, atol=1e-5)
    np.testing.assert_allclose(g.detach().numpy(), grad_fd(A), atol=1e-8)


def test_torch_norm_with_a_matrix_order():
    # torch.norm(x, p="nuc") is the nuclear norm over the two dims (the input's own two when
    # it is a matrix), with matrix_norm's errors; numbers and 'fro' stay vector norms
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    x = tg.tensor(a, requires_grad=True)
    got = tg.norm(x, p="nuc", dim=(1, 2))
    want = [np.linalg.norm(m, "nuc") for m in a]
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)
    assert x[0].norm(p="nuc").item() == pytest.approx(want[0], rel=1e-12)
    assert tg.norm(x, "nuc", (0, 2), keepdim=True).shape == (1, 3, 1)
    assert gradcheck(lambda v: tg.norm(v, p="nuc"), (tg.tensor(a[0], requires_grad=True),))
    assert gradgradcheck(lambda v: tg.norm(v, p="nuc", dim=(0, 1)),
                         (tg.tensor(a[1], requires_grad=True),))
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: dim must be a 2-tuple. "
                       "Got 0 1 2$"):
        tg.norm(x, p="nuc")
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order abc not supported."):
        tg.norm(x, p="abc")
    np.testing.assert_allclose(tg.norm(x, "fro", (1, 2)).detach().numpy(),
                               np.sqrt((a * a).sum((1, 2))), rtol=1e-12)


@needs_torch
def test_torch_norm_with_a_matrix_order_matches_torch():
    a = np.random.default_rng(4).standard_normal((3, 4, 5))
    for kw in (dict(p="nuc", dim=(0, 2)), dict(p="nuc", dim=(2, 1), keepdim=True),
               dict(p="fro", dim=(0, 1)), dict(p=3, dim=1)):
        x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = tg.norm(x, **kw), torch.norm(xt, **kw)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
