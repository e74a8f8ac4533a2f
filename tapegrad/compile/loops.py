"""Compiled loops for two short runs of elementwise NumPy calls that replays meet every step.

NumPy costs ~1 µs per call on small arrays, so a run of calls over 32x64 arrays costs more
than the arithmetic; one loop is one call:

- ``sub_scaled[ndim](p, g, c)``: ``p = p - g * c`` in place, the plain SGD step (NumPy: ``g *
  c`` into a new array, then ``np.subtract(p, d, out=p)``; ~2.8 µs for 64x64, the loop ~1.1).
- ``tanh_backward[ndim](g, y, out)``: ``out = g * (1 - y * y)``, the gradient through ``y =
  tanh(x)`` (NumPy: three calls, ~3.2 µs for 32x64; the loop ~1.1).

Each rounds as the NumPy calls do, step by step (Numba contracts nothing into a fused
multiply-add without ``fastmath``), so the values are the same bits. One loop per rank (1-d,
2-d); Numba specialises each for the arrays' layouts and caches it on disk (``cache=True``), so
a new function with the same ops loads it instead of compiling.
"""

_loops = None


def sub_scaled():
    """``{ndim: loop}`` for ``p = p - g * c`` (compiled or loaded from the cache on first use)."""
    return _build()[0]


def tanh_backward():
    """``{ndim: loop}`` for ``out = g * (1 - y * y)``."""
    return _build()[1]


def _build():
    global _loops
    if _loops is not None:
        return _loops
    import numba

    from .. import _numba_cache  # noqa: F401 (before the kernels: where Numba caches them)

    @numba.njit(cache=True, nogil=True)
    def sub_scaled_1d(p, g, c):
        for i in range(p.shape[0]):
            p[i] = p[i] - g[i] * c

    @numba.njit(cache=True, nogil=True)
    def sub_scaled_2d(p, g, c):
        for i in range(p.shape[0]):
            for j in range(p.shape[1]):
                p[i, j] = p[i, j] - g[i, j] * c

    @numba.njit(cache=True, nogil=True)
    def tanh_backward_1d(g, y, out):
        for i in range(g.shape[0]):
            out[i] = g[i] * (1.0 - y[i] * y[i])

    @numba.njit(cache=True, nogil=True)
    def tanh_backward_2d(g, y, out):
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                out[i, j] = g[i, j] * (1.0 - y[i, j] * y[i, j])

    _loops = ({1: sub_scaled_1d, 2: sub_scaled_2d}, {1: tanh_backward_1d, 2: tanh_backward_2d})
    return _loops
