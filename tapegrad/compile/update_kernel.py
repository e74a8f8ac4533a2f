"""One compiled loop for the replay's plain gradient step ``p = p - g * c`` in place.

NumPy needs two calls for it (``g * c`` into a new array, then ``np.subtract(p, d, out=p)``),
~2.8 µs for a 64x64 float64 parameter where the loop costs ~1.1 µs; an MLP's SGD step does it
once per parameter. The loop rounds as NumPy does (the product, then the difference: Numba
contracts nothing into a fused multiply-add without ``fastmath``), so the values are the same
bits. One loop per rank (1-d, 2-d); Numba specialises each for the arrays' layouts and caches
it on disk (``cache=True``), so a new function with the same update loads it.
"""

_kernels = None


def kernels():
    """``{ndim: loop}``, compiled or loaded from Numba's cache on first use."""
    global _kernels
    if _kernels is None:
        _kernels = _build()
    return _kernels


def _build():
    import numba

    @numba.njit(cache=True, nogil=True)
    def sub_scaled_1d(p, g, c):
        for i in range(p.shape[0]):
            p[i] = p[i] - g[i] * c

    @numba.njit(cache=True, nogil=True)
    def sub_scaled_2d(p, g, c):
        for i in range(p.shape[0]):
            for j in range(p.shape[1]):
                p[i, j] = p[i, j] - g[i, j] * c

    return {1: sub_scaled_1d, 2: sub_scaled_2d}
