"""LU factorisation with partial pivoting, ``A = P L U``, and the solves that reuse it.

* ``lu_factor_ex``: LAPACK's ``getrf`` (SciPy's, one call per matrix; a column-by-column
  NumPy elimination over the whole batch without SciPy) of real (..., m, n) matrices, recorded
  as **one** op whose value is the packed ``LU`` (L's unit diagonal implicit), with PyTorch's
  ``linalg_lu_backward`` as its VJP. ``pivots`` (int32, 1-based, LAPACK's row interchanges)
  and ``info`` are constants.
* ``lu``: ``P``, ``L``, ``U`` unpacked from that op by slicing and triangle masks, so their
  gradients reach A through the same rule.
* ``lu_solve``: two triangular solves that read the triangles of ``LU`` (``ops/triangular.py``,
  one recorded op each) and a product with the constant permutation: the gradient reaches
  ``LU`` (``tril(gL, -1) + triu(gU)``, as PyTorch's ``linalg_lu_solve_LU``) and ``B``, and
  every order of it is built from recorded ops.

Backward (real case, ``k = min(m, n)``, ``gL``, ``gU`` the gradients of L (m, k), U (k, n)):
* m <= n: ``gA = P L^-T [tril(L^T gL - triu(gU) U^T, -1) U_1^-T + triu(gU_1), gU_2]``
  (square: ``P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T``);
* m > n: ``gA = P [L_1^-T triu(gU U^T - L^T tril(gL, -1)) + tril(gL_1, -1); gL_2] U^-T``,
with ``U = [U_1, U_2]`` and ``L = [L_1; L_2]`` split at k. Complex inputs are refused.
"""

import numpy as np

from . import record as R
from ._scipy_lapack import routine
from .cuda_linalg import on_host
from .linalg_decomp import LinAlgError, _const, _record, _tT, _tril
from ..registry import Op, defop


# ---- checks, in PyTorch's words -----------------------------------------------------------------

def _check_input(A, name, dims_name):
    if A.ndim < 2:
        raise RuntimeError(f"{dims_name}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    _check_dtype(A, name)


def _check_dtype(A, name):
    from .shapes import torch_dtype_name

    dt = A.dtype
    if dt.kind == "c":
        raise NotImplementedError(f"tapegrad.linalg.{name}: complex tensors are not supported "
                                  "(real float32/float64 only)")
    if (dt.kind != "f" or dt.itemsize < 4) and A.numel():  # (empty: no kernel runs, as torch)
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{torch_dtype_name(dt)}\'')


def _check_pivot(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


# ---- getrf -------------------------------------------------------------------------------------

def getrf_np(a):
    """``(LU, pivots, info)`` of ``a`` (..., m, n): LAPACK's packed factors, its 1-based int32
    row interchanges (..., min(m, n)) and its ``info`` (the 1-based index of the first zero on
    U's diagonal, 0 if none) per matrix."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    getrf = routine("getrf", a.dtype)
    if getrf is None or a.size == 0:
        return _getrf_batched(a)
    LU = np.empty(a.shape, a.dtype)
    piv = np.empty(batch + (k,), np.int32)
    info = np.zeros(batch, np.int32)
    for i in np.ndindex(batch):
        lu, p, inf = getrf(a[i])
        LU[i], piv[i], info[i] = lu, p + 1, max(int(inf), 0)
    return LU, piv, info


def _getrf_batched(a):
    """``getrf_np`` without SciPy: the elimination of LAPACK's unblocked ``getf2`` (pivot: the
    first entry of largest modulus), one column at a time over the whole batch."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    f = np.array(a.reshape((int(np.prod(batch)), m, n)), dtype=a.dtype)
    piv = np.empty((f.shape[0], k), np.int32)
    info = np.zeros(f.shape[0], np.int32)
    rows = np.arange(f.shape[0])
    for j in range(k):
        p = j + np.argmax(np.abs(f[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top = f[rows, j].copy()
        f[rows, j] = f[rows, p]
        f[rows, p] = top
        d = f[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        col = f[:, j + 1:, j] / np.where(zero, 1, d)[:, None]  # (a zero pivot: column is 0)
        f[:, j + 1:, j] = col
        f[:, j + 1:, j + 1:] -= col[:, :, None] * f[:, j, None, j + 1:]
    return f.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def permutation_np(pivots, m):
    """``perm`` (..., m) with ``A[perm] = L U``: LAPACK's interchanges applied in order."""
    batch = pivots.shape[:-1]
    flat = np.asarray(pivots, np.int64).reshape(int(np.prod(batch)), pivots.shape[-1]) - 1
    perm = np.empty((flat.shape[0], m), np.int64)
    for b, p in enumerate(flat.tolist()):  # (Python ints: ~20x quicker than NumPy scalars)
        q = list(range(m))
        for j, r in enumerate(p):
            q[j], q[r] = q[r], q[j]
        perm[b] = q
    return perm.reshape(batch + (m,))


def permutation_matrix_np(pivots, m, dtype):
    """``P`` (..., m, m) with ``A = P L U``: ``P[perm[i], i] = 1``."""
    perm = permutation_np(pivots, m)
    return (np.arange(m)[:, None] == perm[..., None, :]).astype(dtype)


# ---- the LU op -----------------------------------------------------------------------------------

def _unit_lower_np(LU, k):
    L = np.tril(LU[..., :, :k], -1)
    L[..., range(k), range(k)] = 1
    return L


def _lu_vjp_np(g, inputs, out, pivots):
    from .triangular import solve_np

    LU = np.asarray(out)
    g = np.asarray(g, LU.dtype)
    m, n = LU.shape[-2:]
    k = min(m, n)
    P = permutation_matrix_np(pivots, m, LU.dtype)
    L, U = _unit_lower_np(LU, k), np.triu(LU[..., :k, :])
    gL, gU = g[..., :, :k], g[..., :k, :]
    if m <= n:
        M = np.tril(np.swapaxes(L, -1, -2) @ gL - np.triu(gU) @ np.swapaxes(U, -1, -2), -1)
        M = solve_np(LU[..., :, :k], M, True, left=False, trans=True) + np.triu(gU[..., :k])
        if n > k:
            M = np.concatenate([M, gU[..., k:]], -1)
        M = solve_np(LU[..., :, :k], M, False, unit=True, trans=True)
    else:
        M = np.triu(gU @ np.swapaxes(U, -1, -2) - np.swapaxes(L, -1, -2) @ np.tril(gL, -1))
        M = solve_np(LU[..., :k, :], M, False, unit=True, trans=True) + np.tril(gL[..., :k, :], -1)
        M = np.concatenate([M, gL[..., k:, :]], -2)
        M = solve_np(LU[..., :k, :], M, True, left=False, trans=True)
    return (P @ M,)


def _triu(x, k=0):
    return x * _const((~np.tri(x.shape[-2], x.shape[-1], k - 1, dtype=bool)).astype(x.dtype))


def unpack_LU(LU):
    """``(L, U)`` (..., m, k), (..., k, n) of the packed ``LU`` tensor, differentiable."""
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = _tril(LU[..., :, :k], -1) + _const(np.eye(m, k, dtype=LU.dtype))
    return L, _triu(LU[..., :k, :])


def _lu_vjp(g, inputs, out, pivots):
    from .join import cat
    from .triangular import solve_triangular

    LU = out
    m, n = LU.shape[-2:]
    k = min(m, n)
    P = _const(permutation_matrix_np(pivots, m, LU.dtype))
    L, U = unpack_LU(LU)
    gL, gU = g[..., :, :k], g[..., :k, :]
    if m <= n:
        M = _tril(_tT(L) @ gL - _triu(gU) @ _tT(U), -1)
        M = solve_triangular(_tT(LU[..., :, :k]), M, False, left=False) + _triu(gU[..., :k])
        if n > k:
            M = cat([M, gU[..., k:]], -1)
        M = solve_triangular(_tT(LU[..., :, :k]), M, True, unitriangular=True)
    else:
        M = _triu(gU @ _tT(U) - _tT(L) @ _tril(gL, -1))
        M = solve_triangular(_tT(LU[..., :k, :]), M, True, unitriangular=True) + \
            _tril(gL[..., :k, :], -1)
        M = cat([M, gL[..., k:, :]], -2)
        M = solve_triangular(_tT(LU[..., :k, :]), M, False, left=False)
    return (P @ M,)


defop(Op.LU_FACTOR, "lu_factor", "python", "LinalgLuFactorExBackward0", vjp=_lu_vjp,
      vjp_np=_lu_vjp_np)


def _singular_error(name, info):
    """PyTorch's error for a zero on U's diagonal (the first matrix of the batch that has one)."""
    flat = info.reshape(-1)
    b = int(np.argmax(flat != 0))
    where = f"(Batch element {b}): " if info.ndim else ""
    i = int(flat[b])
    return LinAlgError(f"torch.linalg.{name}: {where}U[{i},{i}] is zero and using it on "
                       "lu_solve would result in a division by zero. If you still want to "
                       "perform the factorization, consider calling linalg.lu(A, pivot) or "
                       "linalg.lu_factor_ex(A, pivot)")


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def lu_factor_ex(A, pivot=True, check_errors=False, name="lu_factor_ex"):
    """``(LU, pivots, info)`` of (..., m, n) matrices; ``LU`` differentiable."""
    A = R.as_tensor(A)
    _check_input(A, name, "torch.lu_factor")
    _check_pivot(pivot)
    LU, piv, info = getrf_np(A._arr())
    if check_errors and np.any(info):
        raise _singular_error(name, info)
    LU = _record(LU, Op.LU_FACTOR, (A,), save_out=True, params=dict(pivots=piv))
    return LU, _const(piv), _const(info)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def lu(A, pivot=True):
    """``(P, L, U)`` with ``A = P L U``: ``P`` (..., m, m) constant, ``L`` (..., m, k) unit
    lower, ``U`` (..., k, n) upper; L and U differentiable."""
    A = R.as_tensor(A)
    _check_input(A, "lu", "linalg.lu")
    LU, piv, _ = lu_factor_ex(A, pivot)
    L, U = unpack_LU(LU)
    P = permutation_matrix_np(piv._arr(), A.shape[-2], A.dtype)
    return _const(P), L, U


# ---- lu_solve ----------------------------------------------------------------------------------

def _check_solve(LU, pivots, B, left):
    from .shapes import broadcast_shapes, torch_dtype_name

    if LU.ndim < 2:
        raise RuntimeError("torch.linalg.lu_solve: The input tensor A must have at least 2 "
                           "dimensions.")
    if LU.dtype.kind not in "fc":
        raise RuntimeError("torch.linalg.lu_solve: Expected a floating point or complex tensor "
                           f"as input. Got {torch_dtype_name(LU.dtype)}")
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError("torch.linalg.lu_solve: A must be batches of square matrices, but "
                           f"they are {LU.shape[-2]} by {LU.shape[-1]} matrices")
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError("linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    broadcast_shapes(B.shape[:-2], LU.shape[:-2])
    if B.dtype != LU.dtype:
        raise RuntimeError("linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                           f"LU of type {torch_dtype_name(LU.dtype)} and B of type "
                           f"{torch_dtype_name(B.dtype)} instead")
    if pivots.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    if pivots.shape[-1:] != (n,):
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise RuntimeError("linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the "
                           f"same, but got pivots with shape {list(pivots.shape)} instead")
    _check_dtype(LU, "lu_solve")


def _getrs_np(LU, pivots, B, left, adjoint):
    """``lu_solve``'s value by LAPACK's ``getrs`` (one call per matrix of the broadcast batch);
    None without SciPy."""
    getrs = routine("getrs", LU.dtype)
    if getrs is None:
        return None
    # X A = B is A^T X^T = B^T: the right side solves the transposed system
    C = B if left else np.swapaxes(B, -1, -2)
    trans = int(adjoint == left)
    batch = np.broadcast_shapes(LU.shape[:-2], C.shape[:-2])
    LU = np.broadcast_to(LU, batch + LU.shape[-2:])
    piv = np.broadcast_to(pivots - 1, batch + pivots.shape[-1:])
    C = np.broadcast_to(C, batch + C.shape[-2:])
    X = np.empty(C.shape, LU.dtype)
    for i in np.ndindex(batch):
        X[i] = getrs(LU[i], piv[i], C[i], trans=trans)[0]
    return X if left else np.swapaxes(X, -1, -2)


def _permute(X, perm, inverse, rows):
    """``P^T X`` (``P X`` if ``inverse``) for ``rows``, ``X P`` (``X P^T``) else: indexing
    for one permutation, a product with the constant P for a batch of them."""
    if perm.ndim > 1:
        P = (np.arange(perm.shape[-1])[:, None] == perm[..., None, :]).astype(X.dtype)
        P = _const(P if inverse else np.swapaxes(P, -1, -2))
        return P @ X if rows else X @ P
    if inverse == rows:  # P X and X P^T take the inverse permutation
        perm = np.argsort(perm)
    return X[..., perm, :] if rows else X[..., :, perm]


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def lu_solve(LU, pivots, B, left=True, adjoint=False):
    """``X`` with ``A X = B`` (``X A = B`` if not ``left``; ``A^H`` for ``A`` if ``adjoint``)
    from ``A``'s ``lu_factor``; batch dimensions broadcast."""
    from .triangular import solve_triangular

    LU, pivots, B = R.as_tensor(LU), R.as_tensor(pivots), R.as_tensor(B)
    _check_solve(LU, pivots, B, left)
    piv = np.asarray(pivots._arr())
    if not (R._grad_on() and (LU._rg or B._rg)) and LU.size and B.size:
        X = _getrs_np(LU._arr(), piv, B._arr(), left, adjoint)
        if X is not None:
            return _const(X)
    perm = permutation_np(piv, LU.shape[-1])
    LUt = _tT(LU)
    # A = P L U: A^-1 = U^-1 L^-1 P^T, A^-T = P L^-T U^-T; the triangles are read from LU
    if left and not adjoint:
        Y = solve_triangular(LU, _permute(B, perm, False, True), False, unitriangular=True)
        return solve_triangular(LU, Y, True)
    if left:
        Y = solve_triangular(LUt, B, False)
        return _permute(solve_triangular(LUt, Y, True, unitriangular=True), perm, True, True)
    if not adjoint:  # X = B U^-1 L^-1 P^T
        Y = solve_triangular(LU, B, True, left=False)
        Y = solve_triangular(LU, Y, False, left=False, unitriangular=True)
        return _permute(Y, perm, False, False)
    # X A^T = B: X = B P L^-T U^-T
    Y = solve_triangular(LUt, _permute(B, perm, True, False), True, left=False,
                         unitriangular=True)
    return solve_triangular(LUt, Y, False, left=False)
