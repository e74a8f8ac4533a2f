"""Broadcast arithmetic whose innermost runs are contiguous (``short_runs.binary``): loops over
flat 1-D operands, for ``tapegrad.vecmath.short_runs`` (Numba; imported on first large use).

``short_run_kernels.broadcast`` indexes 4-D views whose strides Numba knows only at run time,
so every element costs a full address computation and no inner loop is vectorised: ~0.9 ns an
element for ``x[:, None, :] - m[None]`` of (1000, 10) and (25, 10) on the development VM. When
the innermost run has unit stride in both operands, or unit stride in one and stride 0 in the
other (``a[:, None, :] - b[None]``, ``a * v[..., None]``-like layouts), the run is a contiguous
slice: here each run is one loop over C-contiguous 1-D arrays, which LLVM vectorises (that
subtraction: ~240 -> ~70 µs, PyTorch's loop ~135). The operation per element is the same IEEE
one, so the values are those of NumPy (and of ``broadcast``) bit for bit.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from .short_run_kernels import ADD, COPY, DIV, MUL, SUB, _apply, all_finite

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True, boundscheck=False)
BOTH, LEFT, RIGHT = 0, 1, 2  # innermost run: unit stride in both; in ``a`` only (``b`` 0); in b


@njit(inline="always")
def _nest(op, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2):
    # (a run by an integer index of a 2-D array: a slice per run, whose bounds Numba works out
    # on every call, made the loop ~1.5x slower)
    for i in range(n0):
        for j in range(n1):
            pa = i * a0 + j * a1
            pb = i * b0 + j * b1
            rows = out[i * n1 + j]
            for k in range(n2):
                dst = rows[k]
                if kind == BOTH:
                    u, v = a[pa], b[pb]
                    for m in range(dst.shape[0]):
                        dst[m] = _apply(op, u[m], v[m])
                elif kind == LEFT:
                    u, w = a[pa], b[pb, 0]
                    for m in range(dst.shape[0]):
                        dst[m] = _apply(op, u[m], w)
                else:
                    w, v = a[pa, 0], b[pb]
                    for m in range(dst.shape[0]):
                        dst[m] = _apply(op, w, v[m])
                pa += a2
                pb += b2


@njit(inline="always")
def _kind(op, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2):
    if kind == BOTH:
        _nest(op, BOTH, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    elif kind == LEFT:
        _nest(op, LEFT, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    else:
        _nest(op, RIGHT, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)


@njit(**_OPTS)
def broadcast_rows(op, kind, a, b, out, n0, a0, a1, a2, b0, b1, b2):
    """``out = a <op> b`` (``COPY``: ``out = a``) over the index space (n0, n1, n2, n3) where
    ``out`` is C-contiguous of shape (n0 * n1, n2, n3). An operand whose innermost run has unit
    stride is a 2-D C-contiguous array of rows of n3 elements, its run at (i, j, k) the row
    ``i * a0 + j * a1 + k * a2``; one broadcast along that run (stride 0) is a C-contiguous
    (m, 1) array, its element at that same formula's row; ``kind`` says which is which.
    Returns whether every result is finite."""
    n1, n2 = out.shape[0] // max(n0, 1), out.shape[1]
    if op == ADD:
        _kind(ADD, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    elif op == SUB:
        _kind(SUB, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    elif op == MUL:
        _kind(MUL, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    elif op == DIV:
        _kind(DIV, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
    else:
        _kind(COPY, kind, a, b, out, n0, n1, n2, a0, a1, a2, b0, b1, b2)
        return True  # (copies are exact: nothing to check)
    return all_finite(out)
