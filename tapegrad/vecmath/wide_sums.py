"""float32 sums over a long axis that is not the innermost one, accumulated in float64.

NumPy (``np.add.reduce``, ``np.einsum``) reduces such an axis by adding whole rows in turn
into a float32 accumulator: over (500000, 4) the column sums are ~7e-6 relative off, where
PyTorch's cascade sum is ~2e-7 off. Where more than ``LONG`` rows are summed (NumPy's own
pairwise block; fewer keep NumPy's values), ``wide_sum_kernels`` add them in float64 and
round once: ~3e-8 off, at about NumPy's speed for these layouts (a bias gradient over
(500000, 4): 4.1 -> ~2.2 ms; over (1000, 1000): ~140 µs either way).
"""

import math

import numpy as np

LONG = 128  # rows summed: more than this takes the float64 accumulator
_F32 = np.dtype(np.float32)
_kernels = None


def _load():
    global _kernels
    if _kernels is None:
        from . import wide_sum_kernels

        _kernels = wide_sum_kernels
    return _kernels


def takes(x, n, inner):
    """Whether ``middle_sum`` takes ``x`` summed over ``n`` rows of ``inner`` elements."""
    return type(x) is np.ndarray and x.dtype is _F32 and n > LONG and inner > 1 and \
        x.flags.c_contiguous


def middle_sum(x, shape, first, last, y=None):
    """The sum of ``x`` (times ``y``, of the same shape and dtype, when given) over the axes
    ``first:last`` of ``shape`` (x's C-contiguous elements), as an (outer, inner) array, or
    None where a sum is not finite (the caller's NumPy sum gives its warnings)."""
    outer, n, inner = math.prod(shape[:first]), math.prod(shape[first:last]), \
        math.prod(shape[last:])
    out = np.empty((outer, inner), _F32)
    k = _load()
    x3 = x.reshape(outer, n, inner)
    finite = k.sum_middle(x3, out) if y is None else \
        k.dot_middle(x3, y.reshape(outer, n, inner), out)
    return out if finite else None


def leading_sum(g, out=None):
    """``np.add.reduce(g, axis=0, out=out)``: a float32 ``g`` of more than ``LONG`` rows
    summed in float64 (a batch's bias gradient)."""
    n = g.shape[0] if g.ndim >= 2 else 0
    if n and takes(g, n, g.size // n):
        r = middle_sum(g, g.shape, 0, 1)
        if r is not None:
            if out is None:
                return r.reshape(g.shape[1:])
            out[...] = r.reshape(out.shape)
            return out
    return np.add.reduce(g, axis=0, out=out)


def dot_reduce(spec, x, y, axes):
    """``np.einsum(spec, x, y)``, ``spec`` summing ``x * y`` (same shape) over the sorted
    ``axes`` and keeping the others in order, but a float32 sum over more than ``LONG`` rows
    of one run of axes that is not the innermost is ``middle_sum``'s (as eager backward's
    broadcast gradients of a product)."""
    if axes and type(x) is np.ndarray and x.dtype is _F32 and type(y) is np.ndarray and \
            y.dtype is _F32 and y.flags.c_contiguous:
        shape = x.shape
        first, last = axes[0], axes[-1] + 1
        if last - first == len(axes) and takes(x, math.prod(shape[first:last]),
                                               math.prod(shape[last:])):
            r = middle_sum(x, shape, first, last, y)
            if r is not None:
                return r.reshape([s for d, s in enumerate(shape) if d not in axes])
    return np.einsum(spec, x, y)
