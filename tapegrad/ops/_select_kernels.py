"""Numba kernels of PyTorch's CPU ``kthvalue`` and ``sort``: its quickselect (median-of-three
pivot, Hoare partition, NaN ranked largest) and libstdc++'s ``std::sort``, run on each row, so
that among equal values the indices returned are PyTorch's (imported on the first use)."""

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


@njit(cache=True, nogil=True)
def _before(a, b, kind):
    """The order of PyTorch's CPU sorts: 0 ascending (NaN last), 1 descending (NaN first),
    2 ``a < b`` alone (``mode``'s comparator)."""
    if kind == 0:
        return (a == a and b != b) or a < b
    if kind == 1:
        return (a != a and b == b) or a > b
    return a < b


@njit(cache=True, nogil=True)
def _swap(v, ix, i, j):
    v[i], v[j] = v[j], v[i]
    ix[i], ix[j] = ix[j], ix[i]


@njit(cache=True, nogil=True)
def _adjust_heap(v, ix, first, hole, length, val, vi, kind):
    top = hole
    second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if _before(v[first + second], v[first + second - 1], kind):
            second -= 1
        v[first + hole], ix[first + hole] = v[first + second], ix[first + second]
        hole = second
    if (length & 1) == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        v[first + hole], ix[first + hole] = v[first + second - 1], ix[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2
    while hole > top and _before(v[first + parent], val, kind):
        v[first + hole], ix[first + hole] = v[first + parent], ix[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole], ix[first + hole] = val, vi


@njit(cache=True, nogil=True)
def _make_heap(v, ix, first, last, kind):
    """libstdc++'s ``__make_heap`` of ``[first, last)``."""
    length = last - first
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            _adjust_heap(v, ix, first, parent, length, v[first + parent], ix[first + parent],
                         kind)
            if parent == 0:
                break
            parent -= 1


@njit(cache=True, nogil=True)
def _heap_sort(v, ix, first, last, kind):
    _make_heap(v, ix, first, last, kind)
    while last - first > 1:
        last -= 1
        val, vi = v[last], ix[last]
        v[last], ix[last] = v[first], ix[first]
        _adjust_heap(v, ix, first, 0, last - first, val, vi, kind)


@njit(cache=True, nogil=True)
def _median_to_first(v, ix, res, a, b, c, kind):
    if _before(v[a], v[b], kind):
        if _before(v[b], v[c], kind):
            _swap(v, ix, res, b)
        elif _before(v[a], v[c], kind):
            _swap(v, ix, res, c)
        else:
            _swap(v, ix, res, a)
    elif _before(v[a], v[c], kind):
        _swap(v, ix, res, a)
    elif _before(v[b], v[c], kind):
        _swap(v, ix, res, c)
    else:
        _swap(v, ix, res, b)


@njit(cache=True, nogil=True)
def _insert(v, ix, first, i, guarded, kind):
    val, vi = v[i], ix[i]
    if guarded and _before(val, v[first], kind):
        for j in range(i, first, -1):
            v[j], ix[j] = v[j - 1], ix[j - 1]
        v[first], ix[first] = val, vi
        return
    j = i
    while _before(val, v[j - 1], kind):
        v[j], ix[j] = v[j - 1], ix[j - 1]
        j -= 1
    v[j], ix[j] = val, vi


@njit(cache=True, nogil=True)
def _floor_log2(n):
    depth = 0
    while n > 1:
        n >>= 1
        depth += 1
    return depth


@njit(cache=True, nogil=True)
def _partition_pivot(v, ix, first, last, kind):
    """libstdc++'s ``__unguarded_partition_pivot``: the median of three moved to ``first``,
    the rest split around it; returns where the right part starts."""
    _median_to_first(v, ix, first, first + 1, first + (last - first) // 2, last - 1, kind)
    lo, hi = first + 1, last
    while True:
        while _before(v[lo], v[first], kind):
            lo += 1
        hi -= 1
        while _before(v[first], v[hi], kind):
            hi -= 1
        if not lo < hi:
            return lo
        _swap(v, ix, lo, hi)
        lo += 1


@njit(cache=True, nogil=True)
def _std_sort(v, ix, kind):
    """libstdc++'s ``std::sort`` (introsort, median of three, heapsort past depth 2 log2 n,
    insertion sort of runs of 16), which PyTorch's CPU ``sort`` and ``mode`` run: the order
    of equal values is the one it leaves."""
    n = v.shape[0]
    if n < 2:
        return
    depth0 = _floor_log2(n)
    stack = np.empty((2 * depth0 + 2, 3), np.int64)
    stack[0, 0], stack[0, 1], stack[0, 2] = 0, n, 2 * depth0
    top = 1
    while top:
        top -= 1
        first, last, depth = stack[top, 0], stack[top, 1], stack[top, 2]
        while last - first > 16:
            if depth == 0:
                _heap_sort(v, ix, first, last, kind)
                break
            depth -= 1
            lo = _partition_pivot(v, ix, first, last, kind)
            stack[top, 0], stack[top, 1], stack[top, 2] = lo, last, depth
            top += 1
            last = lo
    for i in range(1, min(n, 16)):
        _insert(v, ix, 0, i, True, kind)
    for i in range(16, n):
        _insert(v, ix, 0, i, False, kind)


@njit(cache=True, nogil=True)
def sort_rows(rows, kind, out):
    """``out[r]``: the positions of ``rows[r]`` in the order PyTorch's CPU sort leaves them
    (``kind`` as ``_before``'s)."""
    n = rows.shape[1]
    v = np.empty(n, rows.dtype)
    for r in range(rows.shape[0]):
        v[:] = rows[r]
        ix = out[r]
        for i in range(n):
            ix[i] = i
        _std_sort(v, ix, kind)


@njit(cache=True, nogil=True)
def mode_rows(rows, out):
    """``out[r]``: the position PyTorch's CPU ``mode`` returns for ``rows[r]``: the last of the
    longest run of equal values (the first such run) in its ``std::sort`` order."""
    n = rows.shape[1]
    ix = np.empty(n, np.int64)
    v = np.empty(n, rows.dtype)
    for r in range(rows.shape[0]):
        v[:] = rows[r]
        for i in range(n):
            ix[i] = i
        _std_sort(v, ix, 2)
        best = 0
        run = 0
        for i in range(n):
            run += 1
            if i == n - 1 or v[i] != v[i + 1]:
                if run > best:
                    out[r] = ix[i]
                    best = run
                run = 0


@njit(cache=True, nogil=True)
def _heap_select(v, ix, first, middle, last, kind):
    """libstdc++'s ``__heap_select``: the ``middle - first`` first entries in the order (a heap
    of them in ``[first, middle)``)."""
    length = middle - first
    _make_heap(v, ix, first, middle, kind)
    for i in range(middle, last):
        if _before(v[i], v[first], kind):
            val, vi = v[i], ix[i]
            v[i], ix[i] = v[first], ix[first]
            _adjust_heap(v, ix, first, 0, length, val, vi, kind)


@njit(cache=True, nogil=True)
def _nth_element(v, ix, nth, kind):
    """libstdc++'s ``std::nth_element`` (introselect) of the whole of ``v``."""
    first, last = 0, v.shape[0]
    if nth == last:
        return
    depth = 2 * _floor_log2(last)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, ix, first, nth + 1, last, kind)
            _swap(v, ix, first, nth)
            return
        depth -= 1
        lo = _partition_pivot(v, ix, first, last, kind)
        if lo <= nth:
            first = lo
        else:
            last = lo
    for i in range(first + 1, last):
        _insert(v, ix, first, i, True, kind)


@njit(cache=True, nogil=True)
def topk_rows(rows, k, kind, ordered, out):
    """``out[r]``: the positions PyTorch's CPU ``topk`` returns for ``rows[r]`` (``kind`` 1:
    largest, 0: smallest): ``std::partial_sort`` where ``64 k <= n``, else ``nth_element`` and,
    when ``ordered``, ``std::sort`` of the first ``k - 1``."""
    n = rows.shape[1]
    v = np.empty(n, rows.dtype)
    ix = np.empty(n, np.int64)
    for r in range(rows.shape[0]):
        v[:] = rows[r]
        for i in range(n):
            ix[i] = i
        if k * 64 <= n:
            _heap_select(v, ix, 0, k, n, kind)
            last = k
            while last > 1:  # (sort_heap)
                last -= 1
                val, vi = v[last], ix[last]
                v[last], ix[last] = v[0], ix[0]
                _adjust_heap(v, ix, 0, 0, last, val, vi, kind)
        else:
            _nth_element(v, ix, k - 1, kind)
            if ordered:
                _std_sort(v[:k - 1], ix[:k - 1], kind)
        out[r, :] = ix[:k]
