"""solve_triangular, cholesky (its backward: two triangular solves), cholesky_solve and slogdet
(its backward from the forward's LU) at the sizes where each path runs: substitution (n <= 32),
BLAS trsm / per-matrix LAPACK (n > 32, SciPy), halves and a matmul (n > 64), and the
substitution alone without SciPy. PyTorch's values and gradients, batched and float32 too;
finite differences to second order."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.ops import _scipy_lapack, triangular
from tests.op_checks import check_op, needs_torch, torch

SIZES = [5, 40, 100]  # substitution, trsm, split in halves
BATCHES = [((), ()), ((2,), (2,)), ((3, 1), (1, 2)), ((), (2,)), ((2,), ())]
FLAGS = [(u, l, t) for u in (True, False) for l in (True, False) for t in (False, True)]


@pytest.fixture(params=["scipy", "no_scipy"])
def blas(request, monkeypatch):
    """With SciPy's routines (when installed), and as without SciPy."""
    if request.param == "scipy":
        pytest.importorskip("scipy.linalg")
    else:
        monkeypatch.setattr(_scipy_lapack, "routine", lambda name, dtype: None)
        monkeypatch.setattr(triangular, "routine", lambda name, dtype: None)
    return request.param


def _tri_input(rng, shape):
    """Off-diagonal entries small against a diagonal of 2: a well-conditioned triangle."""
    n = shape[-1]
    return rng.standard_normal(shape) * (0.5 / np.sqrt(n)) + 2 * np.eye(n)


def _spd(rng, n, batch=()):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


def _both(f, arrays, dtype, rtol):
    """``f(lib, *tensors)`` in tapegrad and PyTorch: values, dtypes and gradients agree."""
    rng = np.random.default_rng(5)
    xs = [tg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out, tout = f(tg, *xs), f(torch, *ts)
    g = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    out.backward(tg.tensor(g))
    tout.backward(torch.tensor(g))
    assert out.dtype == np.dtype(dtype) and tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=rtol,
                               atol=rtol)
    for x, t in zip(xs, ts):
        assert x.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=rtol)


@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_triangular_matches_pytorch(n, dtype, blas):
    rng = np.random.default_rng(n)
    rtol = 1e-10 if dtype == np.float64 else 2e-4
    for ab, bb in BATCHES:
        for upper, left, unit in FLAGS:
            a = _tri_input(rng, ab + (n, n))
            b = rng.standard_normal(bb + ((n, 3) if left else (3, n)))
            _both(lambda L, A, B: L.linalg.solve_triangular(
                A, B, upper=upper, left=left, unitriangular=unit), [a, b], dtype, rtol)


@pytest.fixture
def small_blocks(monkeypatch):
    """Every path at small sizes (quick finite differences): trsm from 5 rows, LAPACK per
    matrix from 4, halves above 8."""
    monkeypatch.setattr(triangular, "SMALL", 4)
    monkeypatch.setattr(triangular, "LEAF", 8)
    monkeypatch.setattr(_scipy_lapack, "MIN_N", 4)


@pytest.mark.parametrize("n", [3, 6, 13])  # substitution; trsm; halves (of 6 and 7 rows)
def test_solve_triangular_finite_differences(n, blas, small_blocks):
    rng = np.random.default_rng(n)
    for upper, left, unit in [(True, True, False), (False, False, True), (False, True, False)]:
        a = _tri_input(rng, (2, n, n))
        b = rng.standard_normal((n, 2) if left else (2, n))
        check_op(lambda A, B: tg.linalg.solve_triangular(A, B, upper=upper, left=left,
                                                         unitriangular=unit), [a, b], order=2)


@needs_torch
@pytest.mark.parametrize("n", SIZES)
def test_solve_triangular_zero_pivot_matches_pytorch(n, blas):
    """A zero on the diagonal: the IEEE inf/nan of PyTorch's trsm, in values and gradients."""
    rng = np.random.default_rng(1)
    a = _tri_input(rng, (n, n))
    a[n // 2, n // 2] = 0.0
    b = rng.standard_normal((n, 2))
    for upper in (True, False):
        xs = [tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)]
        ts = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
        out = tg.linalg.solve_triangular(xs[0], xs[1], upper=upper)
        tout = torch.linalg.solve_triangular(ts[0], ts[1], upper=upper)
        out.sum().backward()
        tout.sum().backward()
        for o, t in [(out.detach(), tout.detach())] + [(x.grad, t.grad) for x, t in zip(xs, ts)]:
            o, t = o.numpy(), t.numpy()
            assert not np.isfinite(o).all()
            np.testing.assert_array_equal(np.isnan(o), np.isnan(t))
            np.testing.assert_array_equal(np.isinf(o), np.isinf(t))
            np.testing.assert_allclose(o[np.isfinite(o)], t[np.isfinite(t)], rtol=1e-9,
                                       atol=1e-9)


def test_solve_triangular_reads_its_triangle_only():
    """Entries outside the triangle (inf here) are not read and get exact zeros: n = 40."""
    rng = np.random.default_rng(2)
    a = _tri_input(rng, (40, 40))
    a[np.triu_indices(40, 1)] = np.inf
    A = tg.tensor(a, requires_grad=True)
    X = tg.linalg.solve_triangular(A, tg.tensor(rng.standard_normal((40, 3))), upper=False)
    assert np.isfinite(X.detach().numpy()).all()
    X.sum().backward()
    g = A.grad.numpy()
    assert np.isfinite(g).all() and not g[np.triu_indices(40, 1)].any()


@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_solve_matches_pytorch(n, dtype, blas):
    """Values and the gradient of B; the factor's on its triangle (tapegrad's gradient is
    zero on the other, which the solve does not read; PyTorch's is not)."""
    rng = np.random.default_rng(n)
    rtol = 1e-9 if dtype == np.float64 else 1e-3
    for upper in (False, True):
        for batch in ((), (2,)):
            L = np.linalg.cholesky(_spd(rng, n, batch))
            F = np.swapaxes(L, -1, -2).copy() if upper else L
            B = rng.standard_normal(batch + (n, 3))
            xs = [tg.tensor(B.astype(dtype), requires_grad=True),
                  tg.tensor(F.astype(dtype), requires_grad=True)]
            ts = [torch.tensor(B.astype(dtype), requires_grad=True),
                  torch.tensor(F.astype(dtype), requires_grad=True)]
            out, tout = tg.cholesky_solve(*xs, upper), torch.cholesky_solve(*ts, upper)
            np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=rtol,
                                       atol=rtol)
            g = rng.standard_normal(out.shape).astype(dtype)
            out.backward(tg.tensor(g))
            tout.backward(torch.tensor(g))
            np.testing.assert_allclose(xs[0].grad.numpy(), ts[0].grad.numpy(), rtol=rtol,
                                       atol=rtol)
            tri = np.triu if upper else np.tril
            gF = xs[1].grad.numpy()
            np.testing.assert_array_equal(gF, tri(gF))
            np.testing.assert_allclose(gF, tri(ts[1].grad.numpy()), rtol=rtol, atol=rtol)


@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_matches_pytorch(n, dtype, blas):
    rng = np.random.default_rng(n)
    rtol = 1e-9 if dtype == np.float64 else 1e-3
    for batch in ((), (3,)):
        for upper in (False, True):
            _both(lambda L, A: L.linalg.cholesky(A, upper=upper), [_spd(rng, n, batch)], dtype,
                  rtol)


@pytest.mark.parametrize("n", [3, 6, 13])  # NumPy's cholesky, then LAPACK's potrf per matrix
def test_cholesky_finite_differences(n, blas, small_blocks):
    rng = np.random.default_rng(n)
    a = _spd(rng, n)
    check_op(lambda A: tg.linalg.cholesky((A + A.mT) * 0.5), [a], order=2)


@pytest.mark.parametrize("n", [5, 40])
def test_cholesky_reports_the_failing_minor(n, blas):
    rng = np.random.default_rng(3)
    a = _spd(rng, n, (3,))
    keep = a.copy()
    a[1, 2, 2] = -5.0  # the second matrix: its leading minor of order 3
    with pytest.raises(tg.linalg.LinAlgError, match=r"\(Batch element 1\): .* order 3 is not"):
        tg.linalg.cholesky(tg.tensor(a, requires_grad=True))
    a = keep.copy()
    a[2, 1, 0] = np.nan  # a NaN read (lower triangle): fails as in LAPACK
    with pytest.raises(tg.linalg.LinAlgError, match=r"\(Batch element 2\): .* order 2 is not"):
        tg.linalg.cholesky(tg.tensor(a))
    a = keep.copy()
    a[:, 0, 1] = np.inf  # the upper triangle is not read
    L = tg.linalg.cholesky(tg.tensor(a)).numpy()
    np.testing.assert_allclose(L, np.linalg.cholesky(keep), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_slogdet_matches_pytorch(n, dtype, blas):
    rng = np.random.default_rng(n)
    rtol = 1e-9 if dtype == np.float64 else 1e-3
    for batch in ((), (3,), (2, 2)):
        a = rng.standard_normal(batch + (n, n)) + 0.5 * np.eye(n) * np.sqrt(n)
        a[..., 0, :] *= -1.0 if n % 2 else 1.0  # either sign
        sign, logabs = tg.linalg.slogdet(tg.tensor(a.astype(dtype)))
        want = np.linalg.slogdet(a.astype(dtype))
        assert sign.dtype == logabs.dtype == np.dtype(dtype) and sign.shape == batch
        np.testing.assert_array_equal(sign.numpy(), want.sign)
        _both(lambda L, A: L.linalg.slogdet(A)[1], [a], dtype, rtol)
        _both(lambda L, A: L.logdet(A * L.linalg.slogdet(A)[0][..., None, None]), [a], dtype,
              rtol)


@pytest.mark.parametrize("n", [3, 6])  # NumPy's slogdet and inverse; LAPACK's LU kept
def test_slogdet_finite_differences(n, blas, small_blocks):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((2, n, n)) + 0.5 * np.eye(n) * np.sqrt(n)
    check_op(lambda A: tg.linalg.slogdet(A)[1], [a], order=2)


@pytest.mark.parametrize("n", [3, 40])
def test_slogdet_of_a_singular_matrix(n, blas):
    """log|det| = -inf; the gradient is the cofactor matrix / 0 (inf, nan where it is 0)."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, n, n))
    a[1, :, n // 2] = 0.0  # singular (an exact zero pivot); a[0] is not
    A = tg.tensor(a, requires_grad=True)
    sign, logabs = tg.linalg.slogdet(A)
    assert logabs.detach().numpy()[1] == -np.inf and sign.numpy()[1] == 0.0
    logabs.sum().backward()
    g = A.grad.numpy()
    np.testing.assert_allclose(g[0], np.linalg.inv(a[0]).T, rtol=1e-10)
    assert not np.isfinite(g[1]).any()


def test_triangular_solve_node_is_named_as_pytorch():
    A = np.tril(np.random.default_rng(1).standard_normal((3, 3))) + 3 * np.eye(3)
    x = tg.linalg.solve_triangular(tg.tensor(A, requires_grad=True), tg.ones(3, 2), upper=False)
    assert x.grad_fn.name() == "LinalgSolveTriangularBackward0"
    assert tg.linalg.solve(tg.tensor(A, requires_grad=True), tg.ones(3, 2)).grad_fn.name() == \
        "LinalgSolveExBackward0"
