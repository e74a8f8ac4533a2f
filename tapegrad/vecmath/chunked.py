"""``g * f(x)`` and ``out += g * f(x)`` for large arrays that no SIMD kernel of ours takes
(float32: NumPy's ``sin``/``cos`` are SIMD loops already), chunk by chunk.

NumPy's form is two passes over whole arrays: ``f(x)`` into a fresh array (page faults on its
first touch), then the product. Here ``f`` writes ``CHUNK`` elements at a time into one small
buffer that stays in the L2 cache while the product (or ``add_product``) reads it. NumPy's
``f`` is elementwise, so each value is the whole-array call's bit for bit, and the product and
sum round as NumPy's do: the same values.
"""

import numpy as np

CHUNK = 32768  # elements per chunk: with the arrays read and written, ~1 MB in float64


def applies(g, x, out):
    """Whether ``times_chunked`` takes these arrays: C-contiguous, one float dtype and shape,
    at least two chunks, ``out`` (if given) writing over none of ``x`` (``g`` only itself)."""
    return (type(x) is np.ndarray and type(g) is np.ndarray and x.size >= 2 * CHUNK and
            x.dtype == g.dtype and x.dtype.kind == "f" and x.shape == g.shape and
            x.flags.c_contiguous and g.flags.c_contiguous and
            (out is None or (type(out) is np.ndarray and out.dtype == x.dtype and
                             out.shape == x.shape and out.flags.c_contiguous and
                             out.flags.writeable and not np.may_share_memory(out, x) and
                             (out is g or not np.may_share_memory(out, g)))))


def times_chunked(f, g, x, out, add, add_product):
    """``out = g * f(x)`` (``out`` None: a new array), or with ``add`` ``out += g * f(x)``
    (``add_product``: the compiled one-pass ``out[i] + g[i] * f[i]``, NumPy's two roundings),
    for arrays ``applies`` takes; returns ``out``."""
    if out is None:
        out = np.empty_like(x)
    xf, gf, of = x.reshape(-1), g.reshape(-1), out.reshape(-1)
    n = xf.size
    buf = np.empty(CHUNK, x.dtype)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        b = buf[: hi - lo]
        f(xf[lo:hi], out=b)
        if add:
            add_product(of[lo:hi], gf[lo:hi], b)
        else:
            np.multiply(gf[lo:hi], b, out=of[lo:hi])
    return out
