"""Numba kernels over sliding windows: ``convolution``'s im2col/col2im and max pooling's
positions and average pooling's window means (imported on the first use, not with tapegrad).

They see three spatial dims (a 1-D or 2-D window has leading ones). ``windows`` lays the
columns out as ``(C, *kernel, N, *out)``: one row per (channel, kernel position), the batch and the
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


@njit(cache=True, nogil=True)
def max_positions(x, where, stride, dilation, pad, kernel):
    """Per window of ``x`` (N, C, D, H, W), the flat index within its (D, H, W) plane of its
    maximum, as PyTorch's max pooling picks it: the first largest value, or the last NaN;
    positions outside the input (padding, ``ceil_mode``) are never picked."""
    N, C, D, H, W = x.shape
    od, oh, ow = where.shape[2], where.shape[3], where.shape[4]
    s0, s1, s2 = stride
    d0, d1, d2 = dilation
    p0, p1, p2 = pad
    kd, kh, kw = kernel
    for n in range(N):
        for c in range(C):
            plane = x[n, c]
            for a in range(od):
                for b in range(oh):
                    for e in range(ow):
                        best = plane[0, 0, 0]  # (typed as the input; replaced first)
                        at = -1
                        for i in range(kd):
                            z = a * s0 - p0 + i * d0
                            if z < 0 or z >= D:
                                continue
                            for j in range(kh):
                                y = b * s1 - p1 + j * d1
                                if y < 0 or y >= H:
                                    continue
                                for k in range(kw):
                                    u = e * s2 - p2 + k * d2
                                    if u < 0 or u >= W:
                                        continue
                                    v = plane[z, y, u]
                                    if at < 0 or v > best or v != v:
                                        best = v
                                        at = (z * H + y) * W + u
                        where[n, c, a, b, e] = at


@njit(cache=True, nogil=True)
def max_positions_2x2(x, where):
    """``max_positions`` of 2x2 windows every 2 (max pooling's commonest form) inside ``x``
    (N, C, H, W): each window's four values loaded, their maximum, and the first of them equal
    to it; the last NaN of a window that has one. 4-5x quicker than the general loop, whose
    running select LLVM keeps as a chain of branches."""
    N, C, H, W = x.shape
    oh, ow = where.shape[2], where.shape[3]
    for n in range(N):
        for c in range(C):
            plane = x[n, c]
            for b in range(oh):
                r0 = plane[2 * b]
                r1 = plane[2 * b + 1]
                out = where[n, c, b]
                base = 2 * b * W
                for e in range(ow):
                    a0, a1, a2, a3 = r0[2 * e], r0[2 * e + 1], r1[2 * e], r1[2 * e + 1]
                    m = max(max(a0, a1), max(a2, a3))
                    k = 2 if a2 == m else 3
                    k = 1 if a1 == m else k
                    k = 0 if a0 == m else k
                    if (a0 != a0) | (a1 != a1) | (a2 != a2) | (a3 != a3):
                        k = 3 if a3 != a3 else 2 if a2 != a2 else 1 if a1 != a1 else 0
                    out[e] = base + (k >> 1) * W + 2 * e + (k & 1)


@njit(cache=True, nogil=True)
def window_means(x, y, bounds, divisor, back):
    """Average pooling of ``x`` (N, C, D, H, W) into ``y`` (N, C, od, oh, ow): output cell
    ``(a, b, e)`` is the sum of ``x`` over ``[lo, hi)`` along each dim, ``bounds[dim] = (lo, hi)``
    arrays per output index (inside the input), divided by ``divisor[a, b, e]``. With ``back``
    its adjoint: each cell of ``y`` divided by its divisor, added into ``x`` over its window
    (``x`` holds zeros on entry)."""
    N, C = x.shape[0], x.shape[1]
    od, oh, ow = y.shape[2], y.shape[3], y.shape[4]
    lo0, hi0, lo1, hi1, lo2, hi2 = bounds
    for n in range(N):
        for c in range(C):
            plane, cells = x[n, c], y[n, c]
            for a in range(od):
                for b in range(oh):
                    for e in range(ow):
                        if back:
                            v = cells[a, b, e] / divisor[a, b, e]
                            for z in range(lo0[a], hi0[a]):
                                for u in range(lo1[b], hi1[b]):
                                    row = plane[z, u]
                                    for w in range(lo2[e], hi2[e]):
                                        row[w] += v
                        else:
                            s = 0.0
                            for z in range(lo0[a], hi0[a]):
                                for u in range(lo1[b], hi1[b]):
                                    row = plane[z, u]
                                    for w in range(lo2[e], hi2[e]):
                                        s += row[w]
                            cells[a, b, e] = s / divisor[a, b, e]


@njit(cache=True, nogil=True)
def cell_max_positions(planes, pos, count, where):
    """Per row of ``planes`` (P, S) and per cell ``c`` of ``pos`` (cells, K; its first
    ``count[c]`` entries the cell's flat positions in scan order): the position of the cell's
    maximum, as PyTorch's adaptive max pooling picks it (the first largest value, or the last
    NaN), into ``where`` (P, cells)."""
    P = planes.shape[0]
    cells = pos.shape[0]
    for p in range(P):
        plane = planes[p]
        for c in range(cells):
            at = pos[c, 0]
            best = plane[at]
            for k in range(1, count[c]):
                j = pos[c, k]
                v = plane[j]
                if v > best or v != v:
                    best = v
                    at = j
            where[p, c] = at
