"""SciPy's BLAS and LAPACK routines, for the calls NumPy has no form of: a triangular solve
(``trsm``), an LU or Cholesky factor kept for the backward (``getrf``, ``getri``, ``potrf``).

SciPy is optional: ``routine`` returns None without it and the callers use NumPy's
``np.linalg`` instead (the same values, in more time). ``scipy.linalg`` is imported on the
first call (~0.2 s), never by ``import tapegrad``.
"""

import numpy as np

_BLAS = ("trsm",)
_FOUND = {}


def routine(name, dtype):
    """SciPy's ``s<name>`` / ``d<name>`` for a float32 / float64 ``dtype``; None without SciPy
    or for another dtype."""
    key = (name, dtype)
    f = _FOUND.get(key, False)
    if f is False:
        prefix = {"f": "s", "d": "d"}.get(np.dtype(dtype).char)
        try:
            from scipy.linalg import blas, lapack
        except ImportError:
            f = None
        else:
            f = getattr(blas if name in _BLAS else lapack, prefix + name, None) if prefix else None
        _FOUND[key] = f
    return f


MIN_N = 32  # from this size on, one LAPACK call per matrix (its ~2 µs do not count)


def per_matrix(a):
    """Whether to call LAPACK once per matrix of ``a`` (..., n, n) rather than NumPy's batched
    call: SciPy there and matrices of at least ``MIN_N`` rows."""
    return a.shape[-1] >= MIN_N and a.dtype.char in "fd" and a.size > 0 and \
        routine("getrf", a.dtype) is not None


def cholesky(a):
    """``(L, failed)``: the lower Cholesky factors of ``a`` (..., n, n) by ``potrf`` (its
    lower triangle read; ~1.8x quicker than ``np.linalg.cholesky`` at n = 256), and None or
    ``(batch index, order)`` of the first matrix whose leading minor of that order is not
    positive-definite (or NaN), as LAPACK's ``info``."""
    potrf = routine("potrf", a.dtype)
    L = np.empty(a.shape, a.dtype)
    for i in np.ndindex(a.shape[:-2]):
        # on A^T's memory (Fortran order, no transposing copy): U = L^T from its upper triangle
        c, info = potrf(a[i].T, lower=0, clean=1)
        if info > 0:
            return L, (int(np.ravel_multi_index(i, a.shape[:-2])) if i else 0, int(info))
        L[i] = c.T
    return L, None


def slogdet(a):
    """``(sign, logabsdet, factors)`` of ``a`` (..., n, n) from LAPACK's LU, ``factors`` the
    LU of each ``A^T`` for ``inv_transposed``."""
    getrf = routine("getrf", a.dtype)
    sign, logabs, factors = np.empty(a.shape[:-2], a.dtype), np.empty(a.shape[:-2], a.dtype), []
    n = a.shape[-1]
    for i in np.ndindex(a.shape[:-2]):
        lu, piv, _ = getrf(a[i].T)  # det(A^T) = det(A); its inverse is A^-T, the gradient
        d = np.diagonal(lu)
        swaps = np.count_nonzero(piv != np.arange(n))
        with np.errstate(divide="ignore"):
            logabs[i] = np.log(np.abs(d)).sum()
        sign[i] = np.prod(np.sign(d)) * (-1.0 if swaps % 2 else 1.0)
        factors.append((lu, piv))
    return sign, logabs, factors


def inv_transposed(factors, shape, dtype):
    """``A^-T`` for each matrix from ``slogdet``'s factors (``getri``: 2x quicker than
    ``np.linalg.inv``, which factors again)."""
    getri = routine("getri", dtype)
    out = np.empty(shape, dtype)
    for i, (lu, piv) in zip(np.ndindex(shape[:-2]), factors):
        out[i] = getri(lu, piv)[0]
    return out
