"""Matrix solves and decompositions: forwards by LAPACK through NumPy (SciPy's LAPACK for large
matrices where it is installed: ``_scipy_lapack``), VJPs from the literature.

Each op is a ``kind="python"`` record with two VJPs of the same formula: ``vjp_np`` in NumPy for
the numeric sweep, ``vjp`` in tapegrad ops for re-taping, so every derivative can be taken again
(the saved input and output come back attached to the forward graph).

Multi-output decompositions (qr here, eigh and svd in ``linalg_spectral.py``) record **one**
value, their outputs packed side by side along a last axis (``_pack_np``); the public functions
slice the outputs back out, so an unused output simply receives a zero adjoint. Where a formula
divides by eigenvalue or singular value gaps, a zero cotangent for the vectors skips that term:
eigenvalues / singular values alone stay differentiable when they are repeated (see
docs/linalg.md).

Formulas (real case), with ``X^-T`` the inverse transpose:
* solve ``X = A^-1 B``: ``gB = solve(A^T, g)``, ``gA = -gB X^T``.
* inv ``Y = A^-1``: ``gA = -Y^T g Y^T``.
* det: ``gA = g det(A) A^-T``; at a singular matrix the cofactor matrix from an SVD,
  ``det(U) det(Vh) U diag(prod_{j != i} s_j) Vh``, which is the derivative there too; re-taped
  at rank n-2 or less, the signed determinants of the (n-1)x(n-1) minors (the SVD's derivative
  is undefined at repeated zero singular values; the minors' gives det's true Hessian).
* log|det|: ``gA = g A^-T`` (from the forward's LU factors where it kept them).
* eigh ``A = V diag(L) V^T``: ``gA = V (diag(gL) + skew(V^T gV) / E) V^T`` with
  ``E_ij = L_j - L_i`` and ``skew(X) = (X - X^T) / 2`` (symmetric, as PyTorch's).
* svd: PyTorch's / Townsend's formula, including the ``(I - UU^T) gU S^-1 Vh`` terms of a
  non-square reduced SVD; with ``full_matrices=True`` the cotangents of the extra columns of U
  and rows of Vh are ignored (those columns are an arbitrary basis), as in PyTorch.
* qr (m >= n): ``gA = (gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q``; for m < n the
  leading square block is differentiated this way and the rest is ``Q gR_2``.
* cholesky (Murray 2016): ``gA = L^-T Phi(L^T gL) L^-1`` with ``Phi`` the symmetrised lower
  triangle (halved diagonal), by two triangular solves (``triangular.py``).
* pinv (``linalg_spectral.py``): PyTorch's formula for a matrix of constant rank.
"""

import numpy as np

from .half_linalg import float32_for_half, half_error  # noqa: F401 (linalg's norms)
from ..tensor import _make, _wrap
from . import _scipy_lapack
from . import record as R
from .cuda_linalg import on_host
from ..registry import Op, defop


class LinAlgError(np.linalg.LinAlgError, RuntimeError):
    """A singular or non positive-definite input: NumPy's ``LinAlgError`` and PyTorch's
    ``RuntimeError`` at once, so code written for either catches it."""


# ---- helpers ----------------------------------------------------------------------------------

def _mT(x):
    return np.swapaxes(x, -1, -2)


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _sum_to_np(x, shape):
    from .linalg import _sum_to_np as f

    return f(x, tuple(shape))


def _diag_embed_np(v):
    n = v.shape[-1]
    return v[..., None, :] * np.eye(n)


def _tril_np(x, k=0):
    return x * np.tri(x.shape[-2], x.shape[-1], k)


def _gap_matrix_np(v):
    """``E_ij = v_j - v_i`` with ones on the diagonal; and whether two values coincide."""
    n = v.shape[-1]
    E = v[..., None, :] - v[..., :, None]
    degenerate = bool(np.any((E == 0) & ~np.eye(n, dtype=bool)))
    return E + np.eye(n), degenerate


def _pack_np(arrays, batch):
    # (sizes spelt out: -1 is ambiguous for an empty batch)
    return np.concatenate([a.reshape(batch + (int(np.prod(a.shape[len(batch):])),))
                           for a in arrays], axis=-1)


def _unpack_np(p, shapes):
    batch, out, o = p.shape[:-1], [], 0
    for s in shapes:
        k = int(np.prod(s, dtype=np.int64))
        out.append(p[..., o:o + k].reshape(batch + tuple(s)))
        o += k
    return out


def _unpack(p, shapes, node=None):
    """Tensor version of ``_unpack_np`` (slices and reshapes: recorded, differentiable);
    ``node``: PyTorch's name of the decomposition's node, given to each output."""
    from .movement import reshape
    from .node_names import name_node

    batch, out, o = p.shape[:-1], [], 0
    for s in shapes:
        k = int(np.prod(s, dtype=np.int64))
        t = reshape(p[..., o:o + k], batch + tuple(s))
        out.append(t if node is None else name_node(t, node, first=p))
        o += k
    return out


def _tT(x):
    from .movement import transpose

    return transpose(x, -1, -2)


def _const(a):
    return _make(_wrap(np.asarray(a)))


def _diag_embed(v):
    from .movement import unsqueeze

    return unsqueeze(v, -2) * _const(np.eye(v.shape[-1]))


def _tril(x, k=0):
    return x * _const(np.tri(x.shape[-2], x.shape[-1], k, dtype=x.dtype))


def _gap_matrix(v):
    from .movement import unsqueeze

    n = v.shape[-1]
    E, degenerate = _gap_matrix_np(np.asarray(v._data, dtype=np.float64).reshape(v.shape))
    return unsqueeze(v, -2) - unsqueeze(v, -1) + _const(np.eye(n)), degenerate


def _nonzero(g):
    return bool(np.any(np.asarray(g._data)))


def _any_complex(*ts):
    """Whether a complex matrix op is asked for (its rules live in ``ops/complex_linalg.py``)."""
    return any(t.dtype.kind == "c" for t in ts)


def _complex_decomp():
    """The complex rules (``ops/complex_decomp.py``), imported when first asked for."""
    from . import complex_decomp

    return complex_decomp


def _check(x, name, square=True, min_dim=2):
    """PyTorch's checks: batches of (square) matrices, then a real floating tensor (solve
    checks the dtype first, as PyTorch's)."""
    if name != "solve":
        _check_shape(x, name, square, min_dim)
    dt = x.dtype
    if dt.kind == "c":
        raise NotImplementedError(f"tapegrad.linalg.{name}: complex tensors are not supported "
                                  "(real float32/float64 only)")
    if dt.kind != "f":
        raise not_float_error(name, dt)
    if dt.itemsize < 4:  # (PyTorch's LAPACK kernels have no half-precision form either)
        raise half_error(name)
    if name == "solve":
        _check_shape(x, name, square, min_dim)


def _check_shape(x, name, square, min_dim):
    if x.ndim < min_dim:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")


# PyTorch's error for a tensor that is not floating, where it is not linalg's "Expected a
# floating point ..." naming the op itself: a kernel with no integer form ('"name"'), a
# LAPACK wrapper's (None) or the op it runs on (its name)
_NOT_FLOAT = {"eigh": '"linalg_eigh_cpu"', "eigvalsh": '"linalg_eigh_cpu"',
              "solve_triangular": '"triangular_solve_cpu"',
              "cholesky_solve": '"cholesky_solve_cpu"',
              "cholesky_inverse": '"cholesky_inverse_out_cpu"',
              "householder_product": '"orgqr_cpu"', "lstsq": None, "matrix_rank": None,
              "svdvals": "svd"}


def not_float_error(name, dt):
    """The error of linalg op ``name`` for a tensor of integer or bool dtype ``dt``."""
    from .shapes import torch_dtype_name

    how, t = _NOT_FLOAT.get(name, name), torch_dtype_name(dt)
    if how is None:
        return RuntimeError("This function doesn't handle types other than float and double")
    if how.startswith('"'):
        return NotImplementedError(f"{how} not implemented for '{t}'")
    return RuntimeError(f"linalg.{how}: Expected a floating point or complex tensor as input. "
                        f"Got {t}")


def _record(value, op, inputs, save_inputs=(), save_out=False, params=None):
    value = _wrap(value)
    if not (R._grad_on() and any(t._rg for t in inputs)):
        return _make(value)
    return R.python_result(value, op, tuple(inputs), save_inputs=save_inputs,
                           save_out=save_out, params=params)


def _lapack(f, *args, msg, **kw):
    try:
        return f(*args, **kw)
    except np.linalg.LinAlgError as e:
        raise LinAlgError(msg or str(e)) from None


def ex_error(e):
    """The error of ``inv``/``cholesky``/``solve`` as their ``*_ex`` forms raise it."""
    import re

    return LinAlgError(re.sub(r"^((?:torch\.)?linalg\.\w+):", r"\1_ex:", str(e)))


def nan_where_nan(value, a, vector=False):
    """``value``, a solution for each matrix of ``a``, NaN throughout for a matrix that holds a
    NaN, as PyTorch's (LAPACK's pivoting leaves some entries of such a solution finite)."""
    total = np.add.reduce(a, None)  # (NaN if any entry is, or inf - inf: then checked below)
    if total == total:  # (the common case: one reduction, no boolean array; 0.7 us on 3x3)
        return value
    nan = np.isnan(a).any(axis=(-2, -1))
    fill = np.array(complex(np.nan, np.nan) if value.dtype.kind == "c" else np.nan, value.dtype)
    return np.where(nan[(...,) + (None,) * (1 if vector else 2)], fill, value)


def svd_np(a, **kw):
    """NumPy's SVD, failing with PyTorch's ``LinAlgError`` (which names a non-finite input)."""
    try:
        return np.linalg.svd(a, **kw)
    except np.linalg.LinAlgError:
        why = "is ill-conditioned or has too many repeated singular values." if \
            np.isfinite(a).all() else "contained non-finite values."
        raise LinAlgError("linalg.svd: The algorithm failed to converge because the input "
                          f"matrix {why}") from None


def singular_inverse(m):
    """``inv_ex``'s result for a singular square matrix, as PyTorch's: LAPACK's ``getrs`` on
    the ``getrf`` factors (the division by a zero pivot gives its infinities and NaN); NaN
    where SciPy or the dtype has no such routine."""
    getrf, getrs = _scipy_lapack.routine("getrf", m.dtype), _scipy_lapack.routine("getrs", m.dtype)
    if getrf is None or getrs is None:
        return np.full(m.shape, np.nan, m.dtype)
    lu, piv, _ = getrf(m)
    with np.errstate(all="ignore"):
        return getrs(lu, piv, np.eye(len(m), dtype=m.dtype))[0]


def zero_pivot(m):
    """LAPACK ``getrf``'s ``info`` for one square matrix: the (1-based) index of the first zero
    on the diagonal of U in its LU factorisation with partial pivoting, 0 if there is none."""
    getrf = _scipy_lapack.routine("getrf", m.dtype)
    if getrf is not None:
        return int(getrf(m)[2])
    u = np.array(m, np.result_type(m.dtype, np.float64))
    info = 0
    for j in range(len(u)):  # (LAPACK's choice of pivot: the first of largest modulus)
        p = j + int(np.argmax(np.abs(u[j:, j])))
        if u[p, j] == 0:
            info = info or j + 1
            continue
        u[[j, p]] = u[[p, j]]
        u[j + 1:, j:] -= np.outer(u[j + 1:, j] / u[j, j], u[j, j:])
    return info


def singular_error(name, a):
    """PyTorch's error for ``inv``/``solve`` of the singular matrices in ``a`` (..., n, n): the
    first one's batch element (in a batch) and, for ``inv``, its zero pivot."""
    flat = a.reshape((-1,) + a.shape[-2:])
    b, k = 0, 0
    for b in range(len(flat)):
        k = zero_pivot(flat[b])
        if k:
            break
    where = f"(Batch element {b}): " if a.ndim > 2 else ""
    if name == "inv":
        return LinAlgError(f"linalg.inv: {where}The diagonal element {k or 1} is zero, the "
                           "inversion could not be completed because the input matrix is "
                           "singular.")
    return LinAlgError(f"torch.linalg.{name}: {where}The solver failed because the input "
                       "matrix is singular.")


# ---- solve -----------------------------------------------------------------------------------

def _solve_vjp_np(g, inputs, out, needs, shapes, tri=None):
    if tri is not None:  # a triangular solve (ops/triangular.py)
        from .triangular import vjp_np

        return vjp_np(g, inputs, out, needs, shapes, tri)
    A = _f64(inputs[0])
    gB = np.linalg.solve(_mT(A), _f64(g))
    gA = _sum_to_np(-gB @ _mT(_f64(out)), shapes[0]) if needs[0] else None
    return gA, (_sum_to_np(gB, shapes[1]) if needs[1] else None)


def _solve_vjp(g, inputs, out, needs, shapes, tri=None):
    from .reduce import sum_to

    if tri is not None:
        from .triangular import vjp

        return vjp(g, inputs, out, needs, shapes, tri)
    gB = solve(_tT(inputs[0]), g)
    gA = sum_to(-(gB @ _tT(out)), shapes[0]) if needs[0] else None
    return gA, (sum_to(gB, shapes[1]) if needs[1] else None)


def _solve_jvp_np(tangents, inputs, out, needs, shapes, tri=None):
    """PyTorch's linalg_solve_jvp: ``dX = A^-1 (dB - dA X)`` (``(dB - X dA) A^-1`` for a
    right-side triangular solve, whose dA keeps the triangle it reads), one factorisation of A
    for all k directions (they become columns)."""
    A, (tA, tB) = _f64(inputs[0]), tangents
    R = 0.0 if tB is None else tB
    if tA is not None:
        if tri is not None:
            from .triangular import _outside

            tA = np.where(_outside(A.shape[-1], tri[0], tri[2]), 0.0, tA)
        R = R - (out @ tA if tri is not None and not tri[1] else tA @ out)
    k = (tA if tB is None else tB).shape[0]
    R = np.broadcast_to(R, (k,) + np.broadcast_shapes(shapes[0][:-2], shapes[1][:-2])
                        + shapes[1][-2:])
    if tri is not None:
        from .triangular import solve_np

        return solve_np(A, R, tri[0], tri[2], tri[1])
    Y = np.moveaxis(R, 0, -1)
    Y = np.linalg.solve(A, Y.reshape(Y.shape[:-2] + (-1,))).reshape(Y.shape)
    return np.moveaxis(Y, -1, 0)


defop(Op.SOLVE, "solve", "python", "LinalgSolveExBackward0", vjp=_solve_vjp,
      vjp_np=_solve_vjp_np, jvp_np=_solve_jvp_np,
      grad_fn_of=lambda p: None if p.get("tri") is None else "LinalgSolveTriangularBackward0")


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def solve(A, B):
    """``X`` with ``A X = B`` for square ``A`` (..., n, n) and ``B`` (..., n, k); batch
    dimensions broadcast."""
    A, B = R.as_tensor(A), R.as_tensor(B)
    if _any_complex(A, B):
        from . import complex_linalg

        return complex_linalg.solve(A, B)
    _check(A, "solve")
    _check(B, "solve", square=False)
    if A.shape[-1] != B.shape[-2]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    try:
        value = nan_where_nan(np.linalg.solve(A._arr(), B._arr()), A._arr())
    except np.linalg.LinAlgError:
        raise singular_error("solve", A._arr()) from None
    needs = (A._rg, B._rg)
    return _record(value, Op.SOLVE, (A, B), save_inputs=(0,), save_out=A._rg,
                   params=dict(needs=needs, shapes=(A.shape, B.shape)))


# ---- inv -------------------------------------------------------------------------------------

def _inv_vjp_np(g, inputs, out):
    Yt = _mT(_f64(out))
    return (-(Yt @ _f64(g) @ Yt),)


def _inv_vjp(g, inputs, out):
    Yt = _tT(out)
    return (-(Yt @ g @ Yt),)


def _inv_jvp_np(tangents, inputs, out):
    Y = _f64(out)
    return -(Y @ tangents[0] @ Y)  # -A^-1 dA A^-1


defop(Op.INV, "inv", "python", "LinalgInvExBackward0", vjp=_inv_vjp, vjp_np=_inv_vjp_np,
      jvp_np=_inv_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def inv(A):
    """Inverse of square matrices (..., n, n)."""
    A = R.as_tensor(A)
    if _any_complex(A):
        from . import complex_linalg

        return complex_linalg.inv(A)
    _check(A, "inv")
    a = A._arr()
    try:
        value = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise singular_error("inv", a) from None
    return _record(nan_where_nan(value, a), Op.INV, (A,), save_out=True)


# ---- qr --------------------------------------------------------------------------------------

def _qr_shapes(m, n, mode):
    k = min(m, n)
    return ((m, m if mode == "complete" else k), (m if mode == "complete" else k, n))


def _qr_square_np(gQ, gR, Q, R):
    """m >= n: ``(gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T`` (a triangular solve: a zero on R's
    diagonal, a rank-deficient A, gives PyTorch's inf/nan, where an LU solve would raise)."""
    from .triangular import solve_np

    M = R @ _mT(gR) - _mT(gQ) @ Q
    M = _tril_np(M) + _mT(_tril_np(M, -1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return solve_np(R, gQ + Q @ M, True, left=False, trans=True)


def _qr_vjp_np(g, inputs, out, m, n, mode):
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    shapes = _qr_shapes(m, n, mode)
    Q, R = _unpack_np(_f64(out), shapes)
    gQ, gR = _unpack_np(_f64(g), shapes)
    if m >= n:
        return (_qr_square_np(gQ, gR, Q, R),)
    Y, gW = _f64(inputs[0])[..., m:], gR[..., m:]
    gX = _qr_square_np(gQ + Y @ _mT(gW), gR[..., :m], Q, R[..., :m])
    return (np.concatenate([gX, Q @ gW], axis=-1),)


def _qr_square(gQ, gR, Q, R):
    from .triangular import solve_triangular

    M = R @ _tT(gR) - _tT(gQ) @ Q
    M = _tril(M) + _tT(_tril(M, -1))
    return _tT(solve_triangular(R, _tT(gQ + Q @ M), True))


def _qr_vjp(g, inputs, out, m, n, mode):
    from .join import cat

    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    shapes = _qr_shapes(m, n, mode)
    Q, R = _unpack(out, shapes)
    gQ, gR = _unpack(g, shapes)
    if m >= n:
        return (_qr_square(gQ, gR, Q, R),)
    Y, gW = inputs[0][..., m:], gR[..., m:]
    gX = _qr_square(gQ + Y @ _tT(gW), gR[..., :m], Q, R[..., :m])
    return (cat([gX, Q @ gW], dim=-1),)


def _qr_jvp_np(tangents, inputs, out, m, n, mode):
    """PyTorch's linalg_qr_jvp. m >= n: ``C = Q^T dA R^-1``, ``dR' = triu(C + C^T)`` with a
    halved diagonal, ``dQ = dA R^-1 - Q dR'``, ``dR = dR' R``; m < n: that for the leading
    square block, and ``Q^T (dA_2 - dQ R_2)`` for R's other columns."""
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    t, k = tangents[0], min(m, n)
    Q, R = _unpack_np(_f64(out), _qr_shapes(m, n, mode))
    dARinv = t[..., :k] @ np.linalg.inv(R[..., :k])
    C = _mT(Q) @ dARinv
    dR = np.triu(C + _mT(C)) - _diag_embed_np(np.diagonal(C, 0, -2, -1))
    dQ = dARinv - Q @ dR
    dR = dR @ R[..., :k]
    if m < n:
        dR = np.concatenate([dR, _mT(Q) @ (t[..., k:] - dQ @ R[..., k:])], -1)
    return _pack_np((dQ, dR), t.shape[:-2])


defop(Op.QR, "qr", "python", "LinalgQrBackward0", vjp=_qr_vjp, vjp_np=_qr_vjp_np, jvp_np=_qr_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def qr(A, mode="reduced"):
    """``(Q, R)`` with ``A = Q R``; ``mode`` is ``'reduced'``, ``'complete'`` or ``'r'`` (then
    Q is empty, as in PyTorch, and R is differentiable through the reduced QR)."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex_decomp().qr(A, mode)
    _check(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    m, n = A.shape[-2:]
    a = A._arr()
    empty = _make(np.zeros((0,), a.dtype))
    if mode == "r" and not (R._grad_on() and A._rg):
        return empty, _make(np.linalg.qr(a, mode="r"))
    if mode == "r":  # R is differentiable (through the reduced QR), unlike in PyTorch
        return empty, qr(A, "reduced")[1]
    Q, Rm = np.linalg.qr(a, mode=mode)
    if not (R._grad_on() and A._rg):
        return _make(Q), _make(Rm)
    p = _record(_pack_np((Q, Rm), A.shape[:-2]), Op.QR, (A,), save_inputs=(0,) if m < n else (),
                save_out=True, params=dict(m=m, n=n, mode=mode))
    return tuple(_unpack(p, _qr_shapes(m, n, mode), "LinalgQrBackward0"))


# ---- cholesky --------------------------------------------------------------------------------

def _cholesky_vjp_np(g, inputs, out):
    from .triangular import solve_np

    L = out
    P = np.tril(_mT(L) @ np.asarray(g, L.dtype))
    P = 0.5 * (P + _mT(np.tril(P, -1)))
    # L^-T P L^-1 by two triangular solves, as PyTorch's cholesky_backward (LU solves: 5x the
    # time at n = 256)
    return (solve_np(L, solve_np(L, P, False, trans=True), False, left=False),)


def _cholesky_vjp(g, inputs, out):
    from .triangular import solve_triangular

    P = _tril(_tT(out) @ g)
    P = (P + _tT(_tril(P, -1))) * 0.5
    return (solve_triangular(out, solve_triangular(_tT(out), P, True), False, left=False),)


def _cholesky_jvp_np(tangents, inputs, out):
    """PyTorch's cholesky_jvp: ``dL = L Phi(L^-1 dA L^-T)``, ``Phi`` the lower triangle with
    a halved diagonal (dA as given: not symmetrised)."""
    L = _f64(out)
    Li = np.linalg.inv(L)
    X = _tril_np(Li @ tangents[0] @ _mT(Li))
    return L @ (X - 0.5 * _diag_embed_np(np.diagonal(X, 0, -2, -1)))


defop(Op.CHOLESKY, "cholesky", "python", "LinalgCholeskyExBackward0", vjp=_cholesky_vjp,
      vjp_np=_cholesky_vjp_np, jvp_np=_cholesky_jvp_np)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def cholesky(A, upper=False):
    """Cholesky factor of symmetric positive-definite matrices (lower, or upper = L^T).
    The gradient is symmetric: it treats A as symmetric, as PyTorch does."""
    A = R.as_tensor(A)
    if _any_complex(A):
        return _complex_decomp().cholesky(A, upper)
    _check(A, "cholesky")
    # upper: LAPACK reads the upper triangle, as PyTorch: the lower one of A^T. The factor is
    # recorded as A's (its gradient needs only the factor), as PyTorch's
    a = np.swapaxes(A._arr(), -1, -2) if upper else A._arr()
    if _scipy_lapack.per_matrix(a):  # potrf: ~1.8x quicker than NumPy's at n = 256
        L, order = _scipy_lapack.cholesky(a)
        order = order or not_positive_definite(a, L)
    else:
        try:
            L = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            L = None
        order = not_positive_definite(a, L)
    check_positive_definite(a, order)
    L = _record(L, Op.CHOLESKY, (A,), save_out=True)
    return _tT(L) if upper else L


def check_positive_definite(a, order):
    """PyTorch's error for ``not_positive_definite``'s ``order`` of ``a``, if not None."""
    if order is not None:
        batch, k = order
        where = f"(Batch element {batch}): " if a.ndim > 2 else ""
        raise LinAlgError(f"linalg.cholesky: {where}The factorization could not be completed "
                          f"because the input is not positive-definite (the leading minor of "
                          f"order {k} is not positive-definite).")


def not_positive_definite(a, L=None):
    """``(batch element, order)`` of the first matrix of ``a`` whose Cholesky factorization
    fails, and the order of its first leading minor that is not positive-definite (a NaN
    makes it fail, as in LAPACK); None when every one succeeds (``L``: NumPy's factor, if it
    completed)."""
    if a.size == 0:
        return None
    if L is not None:
        diag = np.diagonal(L, axis1=-2, axis2=-1).reshape(-1, a.shape[-1])
        bad = np.isnan(diag)
        if not bad.any():
            return None
        b = int(np.argmax(bad.any(1)))
        return b, int(np.argmax(bad[b])) + 1
    flat = a.reshape((-1,) + a.shape[-2:])
    for b in range(len(flat)):
        for k in range(1, a.shape[-1] + 1):
            try:
                f = np.linalg.cholesky(flat[b, :k, :k])
            except np.linalg.LinAlgError:
                return b, k
            if np.isnan(f[-1, -1]):
                return b, k
    return 0, 1


# pinv is computed from an SVD or eigh: ops/linalg_spectral.py (re-exported here)
from .linalg_spectral import _pinv_grad, pinv  # noqa: E402,F401
from .linalg_det import det, slogdet  # noqa: E402,F401 (det and log|det|, recorded there)
