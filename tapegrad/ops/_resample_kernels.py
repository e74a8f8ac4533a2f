"""Numba kernels of ``grid_sample`` and ``interpolate`` (imported on the first use, not with
tapegrad).

Every kernel computes in the arrays' own dtype: the constants it needs come in a small array
of that dtype (a Python literal would promote a float32 expression to float64), so a float32
sample rounds as the composition of float32 ops it replaces, and as PyTorch's float32 loop.

``grid_sample``: ``x`` is seen as (N, C, H*W), the grid as (N, P, 2), the output as (N, C, P).
Per axis, ``k`` holds ``(0, 1, 2, size, size - 1, (size - 1) / 2, low, span, slope, 0.5)``:
the unnormalisation's constants, the reflection's interval and the unnormalisation's derivative;
``flags`` is ``(mode, padding, align_corners, x's reflection is flat, y's)`` (mode 0 bilinear,
1 nearest; padding 0 zeros, 1 border, 2 reflection). A tap outside the image reads 0 and gets
no gradient (PyTorch's masks), so a NaN coordinate makes a NaN sample and no NaN gradient.

``interpolate``: ``x`` is seen as (P, D, H, W) planes, each spatial dim resized by its own
table: per output index two source indices and weights (``blend``), or one index (a nearest
pick, or a dim whose size is unchanged). The dims blend in order D, H, W, each sample rounded
as the composition of one resize per dim rounds it.

Helpers take scalars only: an array passed to a compiled function that is not inlined costs
two reference count updates per call (a (4, 8, 32, 32) sample's taps took 60 µs that way).
"""

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


# ---- grid_sample -----------------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def _coord(v, k, padding, align, flat):
    """The pixel coordinate of the normalised ``v`` and its derivative (0 where clipped):
    PyTorch's ``grid_sampler_compute_source_index_set_grad``. ``k``: the axis's constants, a
    tuple of scalars."""
    zero, one, two, size, lim, half, low, span, slope, halve = k
    if align:
        x = (v + one) * half
    else:
        x = ((v + one) * size - one) / two
    if padding == 0:
        return x, slope
    if padding == 2:
        if flat:  # one pixel with align_corners: every coordinate reflects onto it
            x, slope = x * zero, zero
        else:
            d = x - low
            if d < zero:
                slope = -slope
            dist = abs(d)
            flips = np.floor(dist / span)
            extra = dist - flips * span
            # (even: flips % 2 == 0, NaN and inf not; exact for an integer-valued float, and
            # cheaper than a float modulo or a division)
            if flips - two * np.floor(flips * halve) == zero:
                x = extra + low
            else:
                x = (span - extra) + low
                slope = -slope
    if not (x > zero and x < lim):  # clipped (NaN stays NaN): no derivative at either end
        slope = zero
        if x <= zero:
            x = zero
        elif x >= lim:
            x = lim
    return x, slope


@njit(cache=True, nogil=True, error_model="numpy")
def _tap(ix, iy, zero, xmax, ymax, W):
    """The flat pixel index of integer-valued coordinates, -1 outside the image (or NaN)."""
    if ix >= zero and ix <= xmax and iy >= zero and iy <= ymax:
        return int(iy) * W + int(ix)
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def _samples(grid, kx, ky, W, flags, idx, frac, slopes):
    """One image's samples: for each ``p`` of ``grid`` (P, 2), the flat indices of its taps
    ``idx[:, p]`` (bilinear: the neighbours (x0, y0), (x1, y0), (x0, y1), (x1, y1); nearest:
    one), the fractional parts ``frac[:, p]`` (bilinear) and the coordinates' derivatives
    ``slopes[:, p]``."""
    mode, padding, align, flat_x, flat_y = flags[0], flags[1], flags[2], flags[3], flags[4]
    zero, one, xmax, ymax = kx[0], kx[1], kx[4], ky[4]
    cx = (kx[0], kx[1], kx[2], kx[3], kx[4], kx[5], kx[6], kx[7], kx[8], kx[9])
    cy = (ky[0], ky[1], ky[2], ky[3], ky[4], ky[5], ky[6], ky[7], ky[8], ky[9])
    for p in range(grid.shape[0]):
        gx, sx = _coord(grid[p, 0], cx, padding, align, flat_x)
        gy, sy = _coord(grid[p, 1], cy, padding, align, flat_y)
        slopes[0, p], slopes[1, p] = sx, sy
        if mode == 1:
            idx[0, p] = _tap(np.rint(gx), np.rint(gy), zero, xmax, ymax, W)
            continue
        x0, y0 = np.floor(gx), np.floor(gy)
        frac[0, p], frac[1, p] = gx - x0, gy - y0
        x1, y1 = x0 + one, y0 + one
        idx[0, p] = _tap(x0, y0, zero, xmax, ymax, W)
        idx[1, p] = _tap(x1, y0, zero, xmax, ymax, W)
        idx[2, p] = _tap(x0, y1, zero, xmax, ymax, W)
        idx[3, p] = _tap(x1, y1, zero, xmax, ymax, W)


@njit(cache=True, nogil=True, error_model="numpy")
def grid_geometry(grid, kx, ky, W, flags, idx, frac, slopes):
    """``_samples`` of every image: ``grid`` (N, P, 2), ``idx`` (N, taps, P), ``frac`` and
    ``slopes`` (N, 2, P)."""
    for n in range(grid.shape[0]):
        _samples(grid[n], kx, ky, W, flags, idx[n], frac[n], slopes[n])


@njit(cache=True, nogil=True, error_model="numpy")
def _weights(frac, one, weights):
    """The four taps' weights from the fractional parts, as the composition computes them."""
    for p in range(frac.shape[1]):
        fx, fy = frac[0, p], frac[1, p]
        wx, wy = one - fx, one - fy
        weights[0, p], weights[1, p], weights[2, p], weights[3, p] = \
            wx * wy, fx * wy, wx * fy, fx * fy


@njit(cache=True, nogil=True, error_model="numpy")
def _blend(x, idx, weights, zero, out):
    """``out[c, p]``: ``x[c]`` (C, H*W) read at the taps of sample ``p`` and blended by their
    ``weights`` (bilinear: four taps) or at its one tap (nearest), in the composition's
    order."""
    C, P = out.shape
    for c in range(C):
        row, o = x[c], out[c]
        if idx.shape[0] == 1:
            for p in range(P):
                i = idx[0, p]
                o[p] = row[i] if i >= 0 else zero
            continue
        for p in range(P):
            i0, i1, i2, i3 = idx[0, p], idx[1, p], idx[2, p], idx[3, p]
            s = (row[i0] if i0 >= 0 else zero) * weights[0, p]
            s = s + (row[i1] if i1 >= 0 else zero) * weights[1, p]
            s = s + (row[i2] if i2 >= 0 else zero) * weights[2, p]
            o[p] = s + (row[i3] if i3 >= 0 else zero) * weights[3, p]


@njit(cache=True, nogil=True, error_model="numpy")
def grid_forward(x, grid, kx, ky, W, flags, idx, frac, slopes, out):
    """``out`` (N, C, P): ``x`` (N, C, H*W) sampled at ``grid`` (N, P, 2); its geometry
    written to ``idx``, ``frac`` and ``slopes`` (as ``grid_geometry``) for the VJP."""
    weights = np.empty((4, grid.shape[1]), x.dtype)
    for n in range(grid.shape[0]):
        _samples(grid[n], kx, ky, W, flags, idx[n], frac[n], slopes[n])
        if idx.shape[1] == 4:
            _weights(frac[n], kx[1], weights)
        _blend(x[n], idx[n], weights, kx[0], out[n])


@njit(cache=True, nogil=True, error_model="numpy")
def grid_blend(x, idx, frac, k, out):
    """``_blend`` of every image from its ``grid_geometry``."""
    weights = np.empty((4, idx.shape[2]), x.dtype)
    for n in range(out.shape[0]):
        if idx.shape[1] == 4:
            _weights(frac[n], k[1], weights)
        _blend(x[n], idx[n], weights, k[0], out[n])


@njit(cache=True, nogil=True, error_model="numpy")
def _spread(g, x, idx, frac, slopes, weights, zero, one, dx, dgrid, want_x, want_grid, gfx,
            gfy):
    """One image's VJP of ``_blend`` for ``g`` (C, P): added into ``dx`` (C, H*W) if
    ``want_x``, written to ``dgrid`` (P, 2) if ``want_grid``; ``gfx``, ``gfy``: scratch."""
    C, P = g.shape
    gfx[:] = zero
    gfy[:] = zero
    for c in range(C):
        gr, row, d = g[c], x[c], dx[c]
        if idx.shape[0] == 1:
            if want_x:
                for p in range(P):
                    i = idx[0, p]
                    if i >= 0:
                        d[i] += gr[p]
            continue
        for p in range(P):
            gv = gr[p]
            i0, i1, i2, i3 = idx[0, p], idx[1, p], idx[2, p], idx[3, p]
            if want_x:
                if i0 >= 0:
                    d[i0] += gv * weights[0, p]
                if i1 >= 0:
                    d[i1] += gv * weights[1, p]
                if i2 >= 0:
                    d[i2] += gv * weights[2, p]
                if i3 >= 0:
                    d[i3] += gv * weights[3, p]
            if want_grid:
                fx, fy = frac[0, p], frac[1, p]
                v0, v1 = (row[i0] if i0 >= 0 else zero), (row[i1] if i1 >= 0 else zero)
                v2, v3 = (row[i2] if i2 >= 0 else zero), (row[i3] if i3 >= 0 else zero)
                gfx[p] += gv * ((v1 - v0) * (one - fy) + (v3 - v2) * fy)
                gfy[p] += gv * ((v2 - v0) * (one - fx) + (v3 - v1) * fx)
    if want_grid:
        for p in range(P):
            sx, sy = slopes[0, p], slopes[1, p]
            # (where the coordinate is clipped, 0 even after a NaN, as the composition's
            # select gives)
            dgrid[p, 0] = gfx[p] * sx if sx != zero else zero
            dgrid[p, 1] = gfy[p] * sy if sy != zero else zero


@njit(cache=True, nogil=True, error_model="numpy")
def grid_backward(g, x, idx, frac, slopes, k, dx, dgrid, want_x, want_grid):
    """The VJP of ``grid_forward`` for ``g`` (N, C, P), from its geometry: added into ``dx``
    (N, C, H*W, zeros on entry) if ``want_x`` and written to ``dgrid`` (N, P, 2) if
    ``want_grid``. A clipped coordinate's gradient is 0 (PyTorch's clip rule)."""
    P = idx.shape[2]
    weights = np.empty((4, P), x.dtype)
    gfx = np.empty(P, x.dtype)
    gfy = np.empty(P, x.dtype)
    for n in range(g.shape[0]):
        if idx.shape[1] == 4:
            _weights(frac[n], k[1], weights)
        _spread(g[n], x[n], idx[n], frac[n], slopes[n], weights, k[0], k[1], dx[n], dgrid[n],
                want_x, want_grid, gfx, gfy)


@njit(cache=True, nogil=True, error_model="numpy")
def grid_tangent(x, idx, frac, slopes, k, t, out):
    """Forward mode in the grid: ``out[j, n, c, p]`` += the bilinear sample's derivative along
    the grid tangent ``t[j, n, p, :]`` (K tangents at once), from ``grid_geometry``."""
    K, N, C, P = out.shape
    zero, one = k[0], k[1]
    for n in range(N):
        for p in range(P):
            fx, fy = frac[n, 0, p], frac[n, 1, p]
            wx, wy = one - fx, one - fy
            sx, sy = slopes[n, 0, p], slopes[n, 1, p]
            i0, i1, i2, i3 = idx[n, 0, p], idx[n, 1, p], idx[n, 2, p], idx[n, 3, p]
            for c in range(C):
                row = x[n, c]
                v0, v1 = (row[i0] if i0 >= 0 else zero), (row[i1] if i1 >= 0 else zero)
                v2, v3 = (row[i2] if i2 >= 0 else zero), (row[i3] if i3 >= 0 else zero)
                ddx = (v1 - v0) * wy + (v3 - v2) * fy
                ddy = (v2 - v0) * wx + (v3 - v1) * fx
                for j in range(K):
                    a = t[j, n, p, 0] * sx if sx != zero else zero
                    b = t[j, n, p, 1] * sy if sy != zero else zero
                    out[j, n, c, p] += ddx * a + ddy * b


# ---- interpolate -----------------------------------------------------------------------------

@njit(cache=True, nogil=True, error_model="numpy")
def resample(x, out, index, weight, blend):
    """``out`` (P, Do, Ho, Wo) from ``x`` (P, D, H, W). Dim ``k``'s output position ``o``
    reads source positions ``index[k, 0, o]`` and ``index[k, 1, o]`` with weights
    ``weight[k, 0, o]`` and ``weight[k, 1, o]`` where ``blend[k]``, else position
    ``index[k, 0, o]`` as it is. Each output row is read from one source row blended along D,
    then H (contiguous loops), then along W."""
    P, D, H, W = x.shape
    Do, Ho, Wo = out.shape[1], out.shape[2], out.shape[3]
    b0, b1, b2 = blend[0] != 0, blend[1] != 0, blend[2] != 0
    lo, hi, wl, wh = index[2, 0], index[2, 1], weight[2, 0], weight[2, 1]
    row = np.empty(W, x.dtype)
    for p in range(P):
        for od in range(Do):
            d0, d1, a0, c0 = index[0, 0, od], index[0, 1, od], weight[0, 0, od], weight[0, 1, od]
            for oh in range(Ho):
                h0, h1, a1, c1 = index[1, 0, oh], index[1, 1, oh], weight[1, 0, oh], \
                    weight[1, 1, oh]
                r00 = x[p, d0, h0]
                if b0 and b1:
                    r10, r01, r11 = x[p, d1, h0], x[p, d0, h1], x[p, d1, h1]
                    for w in range(W):
                        row[w] = (r00[w] * a0 + r10[w] * c0) * a1 + \
                            (r01[w] * a0 + r11[w] * c0) * c1
                elif b0:
                    r10 = x[p, d1, h0]
                    for w in range(W):
                        row[w] = r00[w] * a0 + r10[w] * c0
                elif b1:
                    r01 = x[p, d0, h1]
                    for w in range(W):
                        row[w] = r00[w] * a1 + r01[w] * c1
                else:
                    row[:] = r00
                o = out[p, od, oh]
                if b2:
                    for ow in range(Wo):
                        o[ow] = row[lo[ow]] * wl[ow] + row[hi[ow]] * wh[ow]
                else:
                    for ow in range(Wo):
                        o[ow] = row[lo[ow]]


@njit(cache=True, nogil=True, error_model="numpy")
def resample_adjoint(dx, g, index, weight, blend):
    """The VJP of ``resample``: ``g`` (P, Do, Ho, Wo) spread back into ``dx`` (P, D, H, W),
    which holds zeros on entry: each gradient row gathered onto a source row along W, then
    spread along H and D."""
    P, D, H, W = dx.shape
    Do, Ho, Wo = g.shape[1], g.shape[2], g.shape[3]
    b0, b1, b2 = blend[0] != 0, blend[1] != 0, blend[2] != 0
    lo, hi, wl, wh = index[2, 0], index[2, 1], weight[2, 0], weight[2, 1]
    row = np.empty(W, dx.dtype)
    for p in range(P):
        for od in range(Do):
            d0, d1, a0, c0 = index[0, 0, od], index[0, 1, od], weight[0, 0, od], weight[0, 1, od]
            for oh in range(Ho):
                h0, h1, a1, c1 = index[1, 0, oh], index[1, 1, oh], weight[1, 0, oh], \
                    weight[1, 1, oh]
                gr = g[p, od, oh]
                row[:] = 0
                if b2:
                    for ow in range(Wo):
                        v = gr[ow]
                        row[lo[ow]] += v * wl[ow]
                        row[hi[ow]] += v * wh[ow]
                else:
                    for ow in range(Wo):
                        row[lo[ow]] += gr[ow]
                r00 = dx[p, d0, h0]
                if b0 and b1:
                    r10, r01, r11 = dx[p, d1, h0], dx[p, d0, h1], dx[p, d1, h1]
                    for w in range(W):
                        v0, v1 = row[w] * a1, row[w] * c1
                        r00[w] += v0 * a0
                        r10[w] += v0 * c0
                        r01[w] += v1 * a0
                        r11[w] += v1 * c0
                elif b0:
                    r10 = dx[p, d1, h0]
                    for w in range(W):
                        r00[w] += row[w] * a0
                        r10[w] += row[w] * c0
                elif b1:
                    r01 = dx[p, d0, h1]
                    for w in range(W):
                        r00[w] += row[w] * a1
                        r01[w] += row[w] * c1
                else:
                    for w in range(W):
                        r00[w] += row[w]
