"""Numba kernel of ``convolution`` (imported on the first convolution, not with tapegrad).

It sees three spatial dims (a 1-D or 2-D convolution has leading ones) and the columns laid
out as ``(C, *kernel, N, *out)``: one row per (channel, kernel position), the batch and the
output positions along it, so that the forward and both gradients are single matrix products,
and the innermost loop runs along a row of the input (contiguous at stride 1).
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True)
def windows(xp, cols, stride, dilation, back):
    """im2col: ``cols[c, i, j, k, n, a, b, e] = xp[n, c, a*s0 + i*d0, b*s1 + j*d1, e*s2 + k*d2]``;
    with ``back``, its adjoint col2im: every element of ``cols`` added into ``xp`` where it was
    read from (``xp`` holds zeros on entry)."""
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
                                row = xp[n, c, z, b * s1 + j * d1]
                                col = cols[c, i, j, k, n, a, b]
                                if back:
                                    for e in range(ow):
                                        row[e * s2 + k * d2] += col[e]
                                else:
                                    for e in range(ow):
                                        col[e] = row[e * s2 + k * d2]
