"""Triangular solves by substitution, for batches of small matrices (and without SciPy's BLAS).

One compiled loop over the batch: a BLAS ``trsm`` call from Python costs ~3 µs of call
overhead per matrix, more than a whole 8x8 solve here. The rows are found in order, each from
the right-hand side less the rows found before it (an ``axpy`` along the contiguous columns,
which LLVM vectorises), then divided by the diagonal: a zero there gives the IEEE inf/nan of
BLAS's ``trsm`` (reference BLAS divides too), as PyTorch's values.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True, error_model="numpy")  # (x / 0: inf or nan, no exception)
def substitute(T, ti, B, bi, X, lower, unit):
    """``X[b] = M^-1 B[bi[b]]`` with ``M`` the lower (``lower``) or upper triangle of
    ``T[ti[b]]``, its diagonal taken as ones if ``unit``; C-contiguous ``T`` (p, n, n),
    ``B`` (q, n, k), ``X`` (len(ti), n, k) of one dtype, int64 index arrays ``ti``, ``bi``."""
    n, k = X.shape[1], X.shape[2]
    for b in range(X.shape[0]):
        M, R, Y = T[ti[b]], B[bi[b]], X[b]
        for s in range(n):
            i = s if lower else n - 1 - s
            y = Y[i]
            for c in range(k):
                y[c] = R[i, c]
            lo, hi = (0, i) if lower else (i + 1, n)
            for j in range(lo, hi):
                t, x = M[i, j], Y[j]
                for c in range(k):
                    y[c] -= t * x[c]
            if not unit:
                d = M[i, i]
                for c in range(k):
                    y[c] /= d
