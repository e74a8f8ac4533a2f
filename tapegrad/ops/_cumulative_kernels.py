"""Running sums along one axis in one compiled pass, for ``cumsum`` and its VJP; the running
extreme's indices for ``cummax``/``cummin``.

NumPy's ``cumsum`` runs a generic accumulation loop: 3.5 ns an element along a (64, 128)
array's rows or a vector, 8 along its columns (PyTorch ~1). Here the array is seen as
C-contiguous ``(pre, n, post)``. Along the last axis (``post`` = 1) four lines are summed side by
side, each read in order, so four independent chains of additions fill the pipeline (~0.4 ns an
element); otherwise each step of the axis adds a contiguous run of ``post`` elements, a
vectorised loop. Each line is still added in order from its first element (its last,
reversed), as NumPy adds it: the values are NumPy's bit for bit.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

@njit(cache=True, nogil=True)
def running_sums(x, out, reverse):
    """``out[p, j, q]`` = ``x[p, 0, q] + ... + x[p, j, q]`` (``reverse``: ``x[p, n-1, q] + ...
    + x[p, j, q]``), for C-contiguous ``(pre, n, post)`` arrays ``x`` and ``out`` of one
    dtype."""
    pre, n, post = x.shape
    if n == 0:
        return
    first, step = (n - 1, -1) if reverse else (0, 1)
    if post == 1:
        p = 0
        while p + 4 <= pre:
            a0, a1, a2, a3 = x[p, first, 0], x[p + 1, first, 0], x[p + 2, first, 0], \
                x[p + 3, first, 0]
            out[p, first, 0], out[p + 1, first, 0] = a0, a1
            out[p + 2, first, 0], out[p + 3, first, 0] = a2, a3
            k = first
            for _ in range(n - 1):
                k += step
                a0 += x[p, k, 0]
                a1 += x[p + 1, k, 0]
                a2 += x[p + 2, k, 0]
                a3 += x[p + 3, k, 0]
                out[p, k, 0], out[p + 1, k, 0], out[p + 2, k, 0], out[p + 3, k, 0] = \
                    a0, a1, a2, a3
            p += 4
        for p in range(p, pre):
            a = x[p, first, 0]
            out[p, first, 0] = a
            k = first
            for _ in range(n - 1):
                k += step
                a += x[p, k, 0]
                out[p, k, 0] = a
        return
    for p in range(pre):
        out[p, first, :] = x[p, first, :]
        j = first
        for _ in range(n - 1):
            k = j + step
            prev, cur, dst = out[p, j], x[p, k], out[p, k]
            for q in range(post):
                dst[q] = prev[q] + cur[q]
            j = k


@njit(cache=True, nogil=True)
def running_extreme_indices(x, idx, flat, maximum):
    """``idx[p, j, q]``: where the running maximum (``maximum``, else minimum) of
    ``x[p, :j + 1, q]`` is, the last index on ties; a NaN takes over and only a later NaN
    replaces it (PyTorch's cummax/cummin). ``flat``: the flat ids of those elements in ``x``.
    C-contiguous ``(pre, n, post)`` arrays."""
    pre, n, post = x.shape
    if n == 0:
        return
    best = x[0, 0, :].copy()
    at = idx[0, 0, :].copy()
    for p in range(pre):
        for q in range(post):
            best[q] = x[p, 0, q]
            at[q] = 0
            idx[p, 0, q] = 0
            flat[p, 0, q] = p * n * post + q
        for k in range(1, n):
            row, dst, ids = x[p, k], idx[p, k], flat[p, k]
            for q in range(post):
                v, b = row[q], best[q]
                if v != v or (b == b and (v >= b if maximum else v <= b)):
                    best[q] = v
                    at[q] = k
                dst[q] = at[q]
                ids[q] = (p * n + at[q]) * post + q
