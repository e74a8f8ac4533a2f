"""``linalg.cond`` for the norms other than the spectral one, as PyTorch computes them.

The nuclear norm's from the singular values, ``sum(s) * sum(1 / s)`` (inf at a singular
matrix, NaN at a zero one: 0 * inf); the others as ``matrix_norm(A) * matrix_norm(inv(A))``,
where the inverse of a matrix whose LU factorization meets an exactly zero pivot (LAPACK's
``info > 0``: NumPy's "Singular matrix") is all inf, and a NaN product (0 * inf, or a NaN
input) is inf. A nearly singular matrix thus has a huge finite condition number, as in
PyTorch, and only an exactly singular one an infinite one.

Where A requires grad and a matrix is singular, the value is the same (inf) and stays on the
graph; its backward raises, as PyTorch's: PyTorch writes the infs into the inverse that
``linalg_inv_ex`` saved for its backward, which then finds it modified in place. The same
in-place write here raises the same error from the same place. (At regular matrices the
gradient is the composition's; PyTorch's raises there too, its write being unconditional.)
"""

import numpy as np

from .. import grad_mode as _gm
from ..tensor import _make
from . import record as R

overwritten = None  # forward mode's stand-in for the overwrite (set by autograd)


def nuclear(A, svdvals):
    """``cond(A, 'nuc')`` given ``svdvals`` (a zero singular value: inf, or NaN with a zero
    sum; the gradient there is the composition's, inf or NaN, as PyTorch's)."""
    s = svdvals(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        return s.sum(-1) * (1 / s).sum(-1)


def by_inverse(A, p, matrix_norm, inv):
    """``matrix_norm(A, p) * matrix_norm(inv(A), p)`` of square matrices, the inverse of each
    exactly singular one taken as all inf, as PyTorch's."""
    a = np.asarray(A._arr())
    if R.needs_grad(A) or not np.isnan(a).any():
        try:  # (inv raises LAPACK's "Singular matrix" where some matrix is exactly singular)
            inverse = inv(A)
        except np.linalg.LinAlgError:
            pass
        else:
            # (a NaN input requiring grad: inf too, as PyTorch's, on the graph all the same)
            return _nan_to_inf(matrix_norm(A, p) * matrix_norm(inverse, p))
    flat = a.reshape((-1,) + a.shape[-2:])
    singular = np.zeros(len(flat), bool)
    for i, m in enumerate(flat):
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            singular[i] = True
    if singular.any() and R.needs_grad(A):
        return _singular_on_graph(A, p, singular.reshape(a.shape[:-2]), matrix_norm, inv)
    inverse = np.full(flat.shape, np.inf, a.dtype)
    if not singular.all():
        inverse[~singular] = np.linalg.inv(flat[~singular])
    with np.errstate(invalid="ignore"):
        r = np.asarray((matrix_norm(A.detach(), p) *
                        matrix_norm(_make(inverse.reshape(a.shape)), p))._arr())
    # a NaN (0 * inf: a zero column or row; a NaN input) is inf, as PyTorch's
    return _make(np.where(np.isnan(r), np.inf, r).astype(r.dtype))


def _singular_on_graph(A, p, singular, matrix_norm, inv):
    """PyTorch's composition where some matrix of A (requiring grad) is singular: the inverse
    (of the identity in a singular one's place) overwritten in place with inf where singular,
    so that its saved value is stale and the backward raises PyTorch's error."""
    from .elementwise import where

    mask = _make(singular[..., None, None])
    eye = _make(np.eye(A.shape[-1], dtype=A.dtype))
    inverse = inv(where(mask, eye, A))
    if _gm._state.forward_levels:
        # forward mode (jvp, a dual level): PyTorch's tangents are computed as its ops run,
        # before the overwrite; here they are pushed through the records afterwards, which
        # would read the overwritten inverse: the same values, out of place. PyTorch's
        # tangent there is NaN (its inverse's, of a singular matrix): inf * (1 + 0 * A's sum)
        # is an inf whose tangent is NaN
        # (backward raises PyTorch's in-place error all the same: ``overwritten``)
        fill = (A.sum((-2, -1), keepdim=True) * 0.0 + 1.0) * np.inf
        inverse = overwritten(where(mask, fill, inverse))
    else:
        inverse.masked_fill_(mask, np.inf)
    with np.errstate(invalid="ignore"):
        return _nan_to_inf(matrix_norm(A, p) * matrix_norm(inverse, p))


def _nan_to_inf(r):
    """``r`` with its NaNs (0 * inf, a NaN input) inf, as PyTorch's, on the graph."""
    nan = np.isnan(np.asarray(r.detach()._arr()))
    return r.masked_fill(_make(nan), np.inf) if nan.any() else r
