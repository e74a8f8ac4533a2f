"""Numba kernel of PyTorch's CPU ``kthvalue``: its quickselect (median-of-three pivot, Hoare
partition, NaN ranked largest) run on each row, so that among equal values the index returned
is the one PyTorch's partitioning leaves at rank k (imported on the first use)."""

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True)
def _after(a, b):
    """``a`` ranks after ``b``: larger, or NaN where ``b`` is not."""
    return (a != a and b == b) or a > b


@njit(cache=True, nogil=True)
def kth_rows(rows, k, out):
    """``out[r]``: the position in ``rows[r]`` of the entry that PyTorch's quickselect puts at
    rank ``k`` (0-based)."""
    n = rows.shape[1]
    arr = rows[0].copy()
    idx = np.empty(n, np.int64)
    for r in range(rows.shape[0]):
        arr[:] = rows[r]
        for i in range(n):
            idx[i] = i
        lo, hi = 0, n - 1
        while hi > lo:
            if hi == lo + 1:
                if _after(arr[lo], arr[hi]):
                    arr[lo], arr[hi] = arr[hi], arr[lo]
                    idx[lo], idx[hi] = idx[hi], idx[lo]
                break
            p = lo + (hi - lo) // 2
            arr[p], arr[lo + 1] = arr[lo + 1], arr[p]
            idx[p], idx[lo + 1] = idx[lo + 1], idx[p]
            if _after(arr[lo + 1], arr[hi]):
                arr[lo + 1], arr[hi] = arr[hi], arr[lo + 1]
                idx[lo + 1], idx[hi] = idx[hi], idx[lo + 1]
            if _after(arr[lo], arr[hi]):
                arr[lo], arr[hi] = arr[hi], arr[lo]
                idx[lo], idx[hi] = idx[hi], idx[lo]
            if _after(arr[lo + 1], arr[lo]):
                arr[lo + 1], arr[lo] = arr[lo], arr[lo + 1]
                idx[lo + 1], idx[lo] = idx[lo], idx[lo + 1]
            i, j = lo + 1, hi
            piv = arr[lo]
            while True:
                i += 1
                while _after(piv, arr[i]):
                    i += 1
                j -= 1
                while _after(arr[j], piv):
                    j -= 1
                if j < i:
                    break
                arr[i], arr[j] = arr[j], arr[i]
                idx[i], idx[j] = idx[j], idx[i]
            arr[lo], arr[j] = arr[j], arr[lo]
            idx[lo], idx[j] = idx[j], idx[lo]
            if j <= k:
                lo = i
            if j >= k:
                hi = j - 1
        out[r] = idx[k]
