"""A Numba loop for softmax's backward over the last dim (imported on the first large use, not
with tapegrad): per row, ``y * (g - sum(g * y))`` in two passes over the row while it is in
cache, where NumPy makes four passes over the whole array. The row's sum adds in any order
(``reassoc``: vectorised), as PyTorch's does; it is not a value NumPy would give."""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _row_dot(g, y):
    s = 0.0
    for j in range(g.shape[0]):
        s += g[j] * y[j]
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_rows_vjp(g, y, out):
    """``out[r] = y[r] * (g[r] - sum(g[r] * y[r]))`` for the rows of C-contiguous 2-D arrays."""
    for r in range(g.shape[0]):
        gr, yr, orow = g[r], y[r], out[r]
        s = _row_dot(gr, yr)
        for j in range(gr.shape[0]):
            orow[j] = yr[j] * (gr[j] - s)
