"""Triangular solves of real matrices: ``solve_np`` on arrays, and ``linalg.solve_triangular``
as one recorded op with PyTorch's backward (``linalg_solve_triangular_backward``):
``gB = solve_triangular(A^T, g)`` (the other triangle, the same side), ``gA = -gB X^T``
(``-X^T gB`` for ``X A = B``) kept on the triangle the forward read (its diagonal too unless
``unitriangular``).

The forward costs ``n^2 k`` for an ``(n, n)`` triangle and ``k`` right-hand sides, not an LU
factorisation's ``2/3 n^3`` (what ``np.linalg.solve`` would pay): blocks of at most ``LEAF``
rows are solved by substitution (``_triangular_kernels``, one compiled call for a batch) or,
above ``SMALL`` rows and with SciPy installed, by BLAS ``trsm``; a larger triangle is split in
halves, the off-diagonal block applied by a matmul (BLAS ``gemm`` runs ~2x faster than OpenBLAS's
``trsm`` at n = 256). A zero on the diagonal gives the IEEE inf/nan of PyTorch's ``trsm``.

The record is a ``SOLVE`` record whose params carry ``tri = (upper, left, unitriangular)``
(``linalg_decomp``'s solve VJPs hand those records over to the ones here).
"""

import numpy as np

from .._bounded_cache import bounded_cache
from ..registry import Op
from ._scipy_lapack import routine
from .cuda_linalg import on_host
from .linalg_decomp import _check, _const, _record, _sum_to_np, _tT

LEAF = 64  # a triangle of more rows is split in two (a matmul between the halves)
SMALL = 32  # up to this many rows: substitution, even with BLAS (its call costs more)


def solve_np(T, B, upper, unit=False, left=True, trans=False):
    """``X`` with ``op(T) X = B`` (``X op(T) = B`` if not ``left``), ``op(T)`` the upper (or
    lower) triangle of ``T``, transposed if ``trans``, with ones on its diagonal if ``unit``
    (the other entries are not read). ``T`` (..., n, n), ``B`` (..., n, k) (or (..., k, n)),
    batch dimensions broadcast; a new C-contiguous float32/float64 array."""
    dtype = np.result_type(T.dtype, B.dtype)
    flip = trans == left  # solved as M Y = C with M = T^T (else T), Y = X (left) or X^T
    M = np.swapaxes(T, -1, -2) if flip else T
    C = B if left else np.swapaxes(B, -1, -2)
    if T.shape[:-2] == B.shape[:-2] or T.ndim == 2:
        Y = np.array(C, dtype, order="C")
    else:
        Y = np.empty(np.broadcast_shapes(T.shape[:-2], B.shape[:-2]) + C.shape[-2:], dtype)
        Y[...] = C
    if Y.size:
        _solve_into(M.astype(dtype, copy=False), Y, upper == flip, unit)
    return Y if left else np.ascontiguousarray(np.swapaxes(Y, -1, -2))


def _solve_into(M, Y, lower, unit):
    """``Y <- M^-1 Y`` for the lower (``lower``) or upper triangle of ``M`` (broadcasting to
    ``Y``'s batch); each matrix of ``Y`` C-contiguous."""
    n = M.shape[-1]
    if n > LEAF:
        h = n // 2
        first, second = (slice(0, h), slice(h, n)) if lower else (slice(h, n), slice(0, h))
        _solve_into(M[..., first, first], Y[..., first, :], lower, unit)
        Y[..., second, :] -= M[..., second, first] @ Y[..., first, :]
        _solve_into(M[..., second, second], Y[..., second, :], lower, unit)
        return
    trsm = routine("trsm", Y.dtype) if n > SMALL else None
    if trsm is None:
        _substitute(M, Y, lower, unit)
    elif Y.ndim == 2:
        _trsm(trsm, M, Y, lower, unit)
    else:
        if M.shape[:-2] != Y.shape[:-2]:
            M = np.broadcast_to(M, Y.shape[:-2] + M.shape[-2:])
        for i in np.ndindex(Y.shape[:-2]):
            _trsm(trsm, M[i], Y[i], lower, unit)


def _trsm(trsm, m, y, lower, unit):
    """BLAS on Fortran-ordered arrays: ``y^T`` (``y``'s memory) ``op(a) = rhs^T`` with
    ``op(a) = m^T``."""
    if m.flags.f_contiguous:
        a, trans, lo = m, 1, lower
    else:
        a, trans, lo = np.ascontiguousarray(m).T, 0, not lower
    r = trsm(1.0, a, y.T, side=1, lower=lo, trans_a=trans, diag=unit, overwrite_b=1)
    if r.ctypes.data != y.ctypes.data:  # (f2py solved a copy)
        y[...] = r.T


def _substitute(M, Y, lower, unit):
    from ._triangular_kernels import substitute

    n, k = Y.shape[-2:]
    batch = Y.shape[:-2]
    Mc = np.ascontiguousarray(M).reshape((-1, n, n))
    ti = np.broadcast_to(np.arange(len(Mc)).reshape(M.shape[:-2]), batch).ravel()
    Yc = Y if Y.flags.c_contiguous else np.ascontiguousarray(Y)
    Y3 = Yc.reshape((-1, n, k))
    substitute(Mc, ti, Y3, np.arange(len(Y3)), Y3, lower, unit)
    if Yc is not Y:
        Y[...] = Yc


# ---- the op ---------------------------------------------------------------------------------

_MASKS, _keep_mask = bounded_cache(64)  # (n, upper, unit) -> where A is not read


def _outside(n, upper, unit):
    """Where ``solve_triangular`` does not read A: its gradient is zero there."""
    key = (n, upper, unit)
    m = _MASKS.get(key)
    if m is None:
        m = ~np.triu(np.ones((n, n), bool), int(unit))
        m = _keep_mask(key, m if upper else np.ascontiguousarray(m.T))
    return m


def vjp_np(g, inputs, out, needs, shapes, tri):
    upper, left, unit = tri
    A = inputs[0]
    gB = solve_np(A, np.asarray(g), upper, unit, left, trans=True)
    gA = None
    if needs[0]:
        Xt = np.swapaxes(out, -1, -2)
        gA = _sum_to_np(-(gB @ Xt) if left else -(Xt @ gB), shapes[0])
        np.copyto(gA, 0, where=_outside(A.shape[-1], upper, unit))
    return gA, (_sum_to_np(gB, shapes[1]) if needs[1] else None)


def vjp(g, inputs, out, needs, shapes, tri):
    from .elementwise import where
    from .reduce import sum_to

    upper, left, unit = tri
    A = inputs[0]
    gB = solve_triangular(_tT(A), g, not upper, left, unit)
    gA = None
    if needs[0]:
        Xt = _tT(out)
        gA = sum_to(-(gB @ Xt) if left else -(Xt @ gB), shapes[0])
        gA = where(_const(_outside(A.shape[-1], upper, unit)), 0.0, gA)
    return gA, (sum_to(gB, shapes[1]) if needs[1] else None)


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def solve_triangular(A, B, upper, left=True, unitriangular=False):
    """``linalg.solve_triangular`` of real tensors whose shapes were checked."""
    _check(A, "solve_triangular")
    _check(B, "solve_triangular", square=False)
    value = solve_np(A._arr(), B._arr(), upper, unitriangular, left)
    return _record(value, Op.SOLVE, (A, B), save_inputs=(0,), save_out=A._rg,
                   params=dict(needs=(A._rg, B._rg), shapes=(A.shape, B.shape),
                               tri=(bool(upper), bool(left), bool(unitriangular))))
