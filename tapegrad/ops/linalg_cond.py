"""``linalg.cond`` for the norms other than the spectral one, as PyTorch computes them.

The nuclear norm's from the singular values, ``sum(s) * sum(1 / s)`` (inf at a singular
matrix, NaN at a zero one: 0 * inf); the others as ``matrix_norm(A) * matrix_norm(inv(A))``,
where the inverse of a matrix whose LU factorization meets an exactly zero pivot (LAPACK's
``info > 0``: NumPy's "Singular matrix") is all inf, and a NaN product (0 * inf, or a NaN
input) is inf. A nearly singular matrix thus has a huge finite condition number, as in
PyTorch, and only an exactly singular one an infinite one.
"""

import numpy as np

from ..tensor import _make
from . import record as R


def _no_derivative():
    return RuntimeError("linalg.cond: A is singular: its condition number is infinite and has "
                        "no derivative")


def nuclear(A, svdvals):
    """``cond(A, 'nuc')`` given ``svdvals``."""
    s = svdvals(A)
    if R.needs_grad(A) and not np.all(np.asarray(s.detach()._arr())):
        raise _no_derivative()
    with np.errstate(divide="ignore", invalid="ignore"):
        return s.sum(-1) * (1 / s).sum(-1)


def by_inverse(A, p, matrix_norm, inv):
    """``matrix_norm(A, p) * matrix_norm(inv(A), p)`` of square matrices, the inverse of each
    exactly singular one taken as all inf, as PyTorch's."""
    a = np.asarray(A._arr())
    flat = a.reshape((-1,) + a.shape[-2:])
    singular = np.zeros(len(flat), bool)
    try:
        np.linalg.inv(flat)
    except np.linalg.LinAlgError:
        for i, m in enumerate(flat):
            try:
                np.linalg.inv(m)
            except np.linalg.LinAlgError:
                singular[i] = True
    if not singular.any() and (R.needs_grad(A) or not np.isnan(a).any()):
        r = matrix_norm(A, p) * matrix_norm(inv(A), p)
        nan = np.isnan(np.asarray(r.detach()._arr()))
        # (a NaN input requiring grad: inf too, as PyTorch's, on the graph all the same)
        return r.masked_fill(_make(nan), np.inf) if nan.any() else r
    if singular.any() and R.needs_grad(A):
        raise _no_derivative()
    inverse = np.full(flat.shape, np.inf, a.dtype)
    if not singular.all():
        inverse[~singular] = np.linalg.inv(flat[~singular])
    with np.errstate(invalid="ignore"):
        r = np.asarray((matrix_norm(A.detach(), p) *
                        matrix_norm(_make(inverse.reshape(a.shape)), p))._arr())
    # a NaN (0 * inf: a zero column or row; a NaN input) is inf, as PyTorch's
    return _make(np.where(np.isnan(r), np.inf, r).astype(r.dtype))
