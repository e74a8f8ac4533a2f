"""``solve_ex``'s result for the singular matrices of a batch, as PyTorch's: LAPACK's ``getrs``
on the ``getrf`` factors of A, whose division by the zero pivot gives its infinities and NaN
(``[[1, 2], [2, 4]] x = [1, 1]``: ``[-inf, inf]``), rather than a NaN everywhere."""

import numpy as np

from . import _scipy_lapack


def singular_solutions(a, b, singular, left, vector, dtype):
    """``solve(a, b, left=left)`` (``b`` a batch of vectors where ``vector``) computed by LU
    for the matrices of ``a`` (..., n, n) marked in ``singular`` (a's batch shape); NaN
    elsewhere, and everywhere where SciPy or the dtype has no such routine. The result has
    the broadcast shape of the solution, in ``dtype``."""
    b = np.asarray(b)
    bm = b[..., None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:]).astype(dtype, copy=False)
    bm = np.broadcast_to(bm, batch + bm.shape[-2:]).astype(dtype, copy=False)
    singular = np.broadcast_to(singular, batch)
    nan = complex(np.nan, np.nan) if np.dtype(dtype).kind == "c" else np.nan  # (PyTorch's)
    out = np.full(bm.shape, nan, dtype)
    getrf, getrs = _scipy_lapack.routine("getrf", dtype), _scipy_lapack.routine("getrs", dtype)
    if getrf is not None and getrs is not None:
        with np.errstate(all="ignore"):
            for i in np.ndindex(batch):
                if singular[i]:
                    lu, piv, _ = getrf(a[i])
                    # X A = B: A^T X^T = B^T, the transposed solve on the same factors
                    out[i] = getrs(lu, piv, bm[i])[0] if left else \
                        getrs(lu, piv, bm[i].T, trans=1)[0].T
    return out[..., 0] if vector else out
