"""Numba kernels of ``convolution`` (imported on the first convolution, not with tapegrad).

Both see three spatial dims (a 1-D or 2-D convolution has leading ones) and the columns laid
out as ``(C, *kernel, N, *out)``: one row per (channel, kernel position), the batch and the
output positions along it, so that the forward and both gradients are single matrix products,
and the innermost loop runs along a row of the input (contiguous at stride 1).
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = {"cache": True, "nogil": True}


@njit(**_OPTS)
def im2col(xp, cols, stride, dilation):
    """``cols[c, i, j, k, n, a, b, e] = xp[n, c, a*s0 + i*d0, b*s1 + j*d1, e*s2 + k*d2]``."""
    C, kd, kh, kw, N, od, oh, ow = cols.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    for c in range(C):
        for i in range(kd):
            for j in range(kh):
                for k in range(kw):
                    for n in range(N):
                        for a in range(od):
                            z = a * s0 + i * d0
                            for b in range(oh):
                                y = b * s1 + j * d1
                                src = xp[n, c, z, y]
                                dst = cols[c, i, j, k, n, a, b]
                                for e in range(ow):
                                    dst[e] = src[e * s2 + k * d2]


@njit(**_OPTS)
def col2im(dcols, dxp, stride, dilation):
    """The adjoint of ``im2col``: ``dxp`` (zeros on entry) receives every column element added
    back where it was read from."""
    C, kd, kh, kw, N, od, oh, ow = dcols.shape
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    for n in range(N):
        for c in range(C):
            for i in range(kd):
                for j in range(kh):
                    for k in range(kw):
                        for a in range(od):
                            z = a * s0 + i * d0
                            for b in range(oh):
                                y = b * s1 + j * d1
                                dst = dxp[n, c, z, y]
                                src = dcols[c, i, j, k, n, a, b]
                                for e in range(ow):
                                    dst[e * s2 + k * d2] += src[e]
