"""``index_add``'s accumulation in one compiled pass (``ops/index_add_op.py``).

The arrays are seen as C-contiguous ``(pre, n, post)`` (``out``) and ``(pre, m, post)``
(``src``), the indexed dim in the middle: for each ``p`` and each index ``j`` in order, the
contiguous run ``src[p, j]`` times ``alpha`` is added into ``out[p, idx[j]]`` (repeated indices
accumulate in index order, as PyTorch's CPU loop adds them). ``np.add.at`` took ~130 µs for
300 rows of 64 into (1000, 64); this loop ~5 µs beside the ~11 µs copy of the input.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True)
def add_rows(out, idx, src, alpha):
    """``out[p, idx[j], q] += alpha * src[p, j, q]``, indices in range (checked before)."""
    pre = out.shape[0]
    m, post = src.shape[1], src.shape[2]
    if post == 1:  # along the last dim: one element per index
        for p in range(pre):
            for j in range(m):
                out[p, idx[j], 0] += alpha * src[p, j, 0]
        return
    for p in range(pre):
        for j in range(m):
            dst, s = out[p, idx[j]], src[p, j]
            for q in range(post):
                dst[q] += alpha * s[q]
