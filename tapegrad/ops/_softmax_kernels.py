"""Numba loops for softmax, log_softmax and nll_loss over rows (imported on first use, not with
tapegrad).

Forward, float rows: the composition's operations in its order (the sums of rows of at most
128 elements by ``row_sum``, NumPy's pairwise order; of longer rows by NumPy) around its own
``exp`` and ``log`` calls (``vecmath``'s: NumPy's loops, which on a CPU
with AVX-512 are not the C library's that Numba would call, or vecmath's kernels), so the values
are the composition's bit for bit, where NumPy spends ~20 µs of calls on a (128, 5) batch (a
reduction over short rows restarts its loop per row) and makes five passes over long rows.
Rows whose largest element is not finite, and results that are not, go back to NumPy, whose
warnings then apply unchanged.

Backward over the last dim: per row, softmax's ``y * (g - sum(g * y))`` and log_softmax's
``g - exp(y) * sum(g)`` in two passes over the row while it is in cache, where NumPy makes
four passes over the whole array (and restarts per short row). Rows of at most 128 elements
are summed in NumPy's order (its bits); longer rows of softmax in any order (``reassoc``:
vectorised), as PyTorch's do, not a value NumPy would give.
"""


from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from ..vecmath.short_run_kernels import row_max, row_sum, sum_rows  # noqa: F401 (log_softmax's)

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_OPTS)
def shift_rows(x, out, m):
    """``m[r]`` the largest element of row ``r`` of ``x``, ``out[r] = x[r] - m[r]``, for
    C-contiguous (R, n) arrays of one float dtype; False (at once) for a row whose largest
    element is not finite (inf, nan, all -inf: NumPy's path), so that every row's ``exp``
    sums to between 1 and its length."""
    for r in range(x.shape[0]):
        a, o = x[r], out[r]
        v = row_max(a)
        if not v - v == 0:
            return False
        m[r] = v
        for j in range(a.shape[0]):
            o[j] = a[j] - v
    return True


@njit(**_OPTS)
def normalize_rows(e, s):
    """``e[r] /= s[r]``, ``s[r]`` NumPy's sum of row ``r``; whether every value is finite:
    ``e`` is ``exp`` of a shifted row (``shift_rows``), each value in [0, 1], so the values
    are when the sums are (a check per row, not per element: the division vectorises)."""
    finite = True
    s[0] = 0
    zero = s[0]  # (of the rows' type: float32 rows are summed in float32, as NumPy does)
    for r in range(e.shape[0]):
        o = e[r]
        s[r] = row_sum(o, zero)
        sr = s[r]
        finite &= sr - sr == 0 and sr >= 1
        for j in range(o.shape[0]):
            o[j] = o[j] / sr
    return finite


@njit(**_OPTS)
def divide_rows(e, s):
    """``e[r] /= s[r]`` given the rows' sums (NumPy's, of long rows: its SIMD loop is ~2.5x
    ``row_sum``'s); whether every value is finite (as ``normalize_rows``)."""
    finite = True
    for r in range(e.shape[0]):
        o = e[r]
        sr = s[r]
        finite &= sr - sr == 0 and sr >= 1
        for j in range(o.shape[0]):
            o[j] = o[j] / sr
    return finite


@njit(**_OPTS)
def subtract_rows(x, logs, m, out):
    """``out[r] = (x[r] - m[r]) - logs[r]``; whether every value is finite. (PyTorch's order:
    ``x - (logs + m)`` loses ``logs`` beside a shift ``m`` of 1e17, or of 1e8 in float32.)"""
    finite = True
    for r in range(x.shape[0]):
        a, o = x[r], out[r]
        c, s = m[r], logs[r]
        for j in range(a.shape[0]):
            v = (a[j] - c) - s
            o[j] = v
            finite &= v - v == 0
    return finite


@njit(**_OPTS)
def nll_rows(x, targets, ignore_index, weight, vals, safe, w):
    """Per row ``i`` of ``x`` (N, C) at class ``targets[i]``: ``vals[i] = -x[i, t] * w[i]``,
    ``w[i]`` the class weight (1 without ``weight``, an empty array), ``safe[i] = t``; 0 in
    all three for an ignored target. Returns the first row whose target is out of range, or
    -1."""
    n_cls = x.shape[1]
    weighted = weight.shape[0] > 0
    for i in range(x.shape[0]):
        t = targets[i]
        if t == ignore_index:
            vals[i] = 0.0
            safe[i] = 0
            w[i] = 0.0
            continue
        if t < 0 or t >= n_cls:
            return i
        wi = weight[t] if weighted else 1.0
        vals[i] = -x[i, t] * wi
        safe[i] = t
        w[i] = wi
    return -1


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_dot(g, y):
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j] * y[j]
    return s


@njit(**_OPTS)
def softmax_rows_vjp(g, y, out):
    """``out[r] = y[r] * (g[r] - sum(g[r] * y[r]))`` for the rows of C-contiguous 2-D arrays;
    the sum in any order (long rows)."""
    for r in range(g.shape[0]):
        gr, yr, orow = g[r], y[r], out[r]
        s = _row_dot(gr, yr)
        for j in range(gr.shape[0]):
            orow[j] = yr[j] * (gr[j] - s)


@njit(**_OPTS)
def softmax_short_rows_vjp(g, y, out):
    """``softmax_rows_vjp`` for rows of at most 128 elements, the sum NumPy's (its bits)."""
    out[0, 0] = 0
    zero = out[0, 0]
    for r in range(g.shape[0]):
        gr, yr, orow = g[r], y[r], out[r]
        for j in range(gr.shape[0]):
            orow[j] = gr[j] * yr[j]
        s = row_sum(orow, zero)
        for j in range(gr.shape[0]):
            orow[j] = yr[j] * (gr[j] - s)


@njit(**_OPTS)
def log_softmax_rows_vjp(g, e, out):
    """``out[r] = g[r] - e[r] * sum(g[r])``, ``e = exp(y)``, the sum in any order (long rows,
    as ``softmax_rows_vjp``); ``out`` may be ``e``."""
    for r in range(g.shape[0]):
        gr, er, orow = g[r], e[r], out[r]
        s = _row_total(gr)
        for j in range(gr.shape[0]):
            orow[j] = gr[j] - er[j] * s


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_total(g):
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j]
    return s


@njit(**_OPTS)
def log_softmax_short_rows_vjp(g, e, out):
    """``out[r] = g[r] - e[r] * sum(g[r])``, ``e = exp(y)`` (NumPy's), for rows of at most 128
    elements, the sum NumPy's; ``out`` may be ``e``."""
    first = e[0, 0]
    out[0, 0] = 0
    zero = out[0, 0]  # (of the rows' type, as in ``normalize_rows``)
    out[0, 0] = first
    for r in range(g.shape[0]):
        gr, er, orow = g[r], e[r], out[r]
        s = row_sum(gr, zero)
        for j in range(gr.shape[0]):
            orow[j] = gr[j] - er[j] * s
