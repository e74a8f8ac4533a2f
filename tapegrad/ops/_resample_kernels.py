"""Numba kernels of ``grid_sample`` and ``interpolate`` (imported on the first use, not with
tapegrad).

Every kernel computes in the arrays' own dtype: the constants it needs come in a small array
of that dtype (a Python literal would promote a float32 expression to float64), so a float32
sample rounds as the composition of float32 ops it replaces, and as PyTorch's float32 loop.

``grid_sample``: ``x`` is seen as (N, C, H*W), the grid as (N, P, 2), the output as (N, C, P).
Per axis, ``k`` holds ``(0, 1, 2, size, size - 1, (size - 1) / 2, low, span, slope, 0.5)``:
the unnormalisation's constants, the reflection's interval and the unnormalisation's derivative;
``flags`` is ``(mode, padding, align_corners, x's reflection is flat, y's)`` (mode 0 bilinear,
1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection). A tap outside the image reads 0
and gets no gradient (PyTorch's masks), so a NaN coordinate makes a NaN sample and no NaN
gradient. Bicubic, as PyTorch's CPU kernel: the coordinate is unnormalised only, its 4 x 4 taps
are padded one by one (border: clamped; reflection: reflected, then clamped), and the grid's
gradient is the cubic weights' slope times the unnormalisation's (never clipped).

``interpolate``: ``x`` is seen as (P, D, H, W) planes, each spatial dim resized by its own
table: per output index two source indices and weights (``blend``), or one index (a nearest
pick, or a dim whose size is unchanged). The dims blend in order D, H, W, each sample rounded
as the composition of one resize per dim rounds it. Bicubic (2-D): four source indices and
weights per output index and dim, W blended inside H as PyTorch's ``upsample_bicubic2d``.

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


# ---- grid_sample, bicubic (entry points of their own: compiled only when used) -----------

@njit(cache=True, nogil=True, error_model="numpy")
def _cubic_axis(v, k, padding, flat):
    """The pixel index along one axis of the integer-valued tap coordinate ``v``, padded as
    PyTorch's vectorised ``compute_coordinates`` pads it; -1 outside the image (zeros
    padding) or NaN."""
    zero, one, two, size, lim, half, low, span, slope, halve = k
    if padding == 2:
        if flat:
            v = zero
        else:
            twice = two * span
            a = abs(v - low)
            extra = a - np.trunc(a / twice) * twice
            v = min(extra, twice - extra) + low
    if v != v:  # (NaN, also an infinity reflected: before the clamp, which would make it 0)
        return -1
    if padding != 0:
        v = min(lim, max(v, zero))
    if v > -one and v < size:
        return int(v)
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def _cubic_taps(gx, gy, kx, ky, W, padding, flat_x, flat_y, idx, p):
    """``idx[4 * j + i, p]``: the flat index of the tap (x0 - 1 + i, y0 - 1 + j) around the
    unnormalised (``gx``, ``gy``), -1 where it reads 0."""
    one, two = kx[1], kx[2]
    x0, y0 = np.floor(gx), np.floor(gy)
    # (the offsets in the grid's dtype: an integer would promote float32 to float64)
    ix0, ix1 = _cubic_axis(x0 - one, kx, padding, flat_x), _cubic_axis(x0, kx, padding, flat_x)
    ix2 = _cubic_axis(x0 + one, kx, padding, flat_x)
    ix3 = _cubic_axis(x0 + two, kx, padding, flat_x)
    for j in range(4):
        off = -one if j == 0 else (one if j == 2 else (two if j == 3 else one - one))
        iy = _cubic_axis(y0 + off, ky, padding, flat_y)
        for i, ix in enumerate((ix0, ix1, ix2, ix3)):
            idx[4 * j + i, p] = iy * W + ix if ix >= 0 and iy >= 0 else -1


@njit(cache=True, nogil=True, error_model="numpy")
def _cubic(t, one, two):
    """The weights of the taps at -1, 0, 1, 2 from the fractional part ``t`` (PyTorch's
    vectorised ``get_cubic_coefficients``, A = -0.75, its order of operations)."""
    three, four = one + two, two + two
    a = -(three / four)
    five, eight = four + one, four + four
    x = t + one
    c0 = ((a * x - five * a) * x + eight * a) * x - four * a
    c1 = ((a + two) * t - (a + three)) * t * t + one
    x = one - t
    c2 = ((a + two) * x - (a + three)) * x * x + one
    x = two - t
    c3 = ((a * x - five * a) * x + eight * a) * x - four * a
    return c0, c1, c2, c3


@njit(cache=True, nogil=True, error_model="numpy")
def _cubic_slopes(t, one, two):
    """Minus the derivatives of ``_cubic``'s weights in ``t`` (PyTorch's
    ``get_cubic_coefficients_grad``, its order of operations)."""
    three, four = one + two, two + two
    a = -(three / four)
    ten, eight = four + four + two, four + four
    x = -one - t
    c0 = (-three * a * x - ten * a) * x - eight * a
    x = -t
    c1 = (-three * (a + two) * x - two * (a + three)) * x
    x = one - t
    c2 = (three * (a + two) * x - two * (a + three)) * x
    x = two - t
    c3 = (three * a * x - ten * a) * x + eight * a
    return c0, c1, c2, c3


@njit(cache=True, nogil=True, error_model="numpy")
def _cubic_weights(frac, one, two, wx, wy):
    """``wx[:, p]``, ``wy[:, p]``: the four cubic weights of each axis of sample ``p``."""
    for p in range(frac.shape[1]):
        wx[0, p], wx[1, p], wx[2, p], wx[3, p] = _cubic(frac[0, p], one, two)
        wy[0, p], wy[1, p], wy[2, p], wy[3, p] = _cubic(frac[1, p], one, two)


@njit(cache=True, nogil=True, error_model="numpy")
def _blend_cubic(x, idx, wx, wy, zero, out):
    """``out[c, p]``: ``x[c]`` (C, H*W) read at the 16 taps of sample ``p``, each row of four
    blended along x, then the four rows along y (PyTorch's order)."""
    C, P = out.shape
    for c in range(C):
        row, o = x[c], out[c]
        for p in range(P):
            s = zero
            for j in range(4):
                i0, i1 = idx[4 * j, p], idx[4 * j + 1, p]
                i2, i3 = idx[4 * j + 2, p], idx[4 * j + 3, p]
                r = wx[0, p] * (row[i0] if i0 >= 0 else zero) + \
                    wx[1, p] * (row[i1] if i1 >= 0 else zero) + \
                    wx[2, p] * (row[i2] if i2 >= 0 else zero) + \
                    wx[3, p] * (row[i3] if i3 >= 0 else zero)
                s = wy[j, p] * r if j == 0 else s + wy[j, p] * r
            o[p] = s


@njit(cache=True, nogil=True, error_model="numpy")
def _spread_cubic(g, x, idx, frac, slopes, zero, one, two, dx, dgrid, want_x, want_grid, gfx,
                  gfy, w):
    """One image's VJP of ``_blend_cubic`` for ``g`` (C, P), as ``_spread``; the grid's
    gradient summed over channels and taps in PyTorch's order, then scaled by the
    unnormalisation's slope. ``w`` (4, 4, P): scratch for the weights and their slopes."""
    C, P = g.shape
    wx, wy, sx, sy = w[0], w[1], w[2], w[3]
    for p in range(P):
        wx[0, p], wx[1, p], wx[2, p], wx[3, p] = _cubic(frac[0, p], one, two)
        wy[0, p], wy[1, p], wy[2, p], wy[3, p] = _cubic(frac[1, p], one, two)
        sx[0, p], sx[1, p], sx[2, p], sx[3, p] = _cubic_slopes(frac[0, p], one, two)
        sy[0, p], sy[1, p], sy[2, p], sy[3, p] = _cubic_slopes(frac[1, p], one, two)
    gfx[:] = zero
    gfy[:] = zero
    for c in range(C):
        gr, row, d = g[c], x[c], dx[c]
        for p in range(P):
            gv = gr[p]
            ax, ay = gfx[p], gfy[p]
            for i in range(4):
                for j in range(4):
                    t = idx[4 * j + i, p]
                    if want_x and t >= 0:
                        d[t] += gv * wx[i, p] * wy[j, p]
                    if want_grid:
                        v = row[t] if t >= 0 else zero
                        ax = ax - v * gv * sx[i, p] * wy[j, p]
                        ay = ay - v * gv * sy[j, p] * wx[i, p]
            gfx[p], gfy[p] = ax, ay
    if want_grid:
        for p in range(P):
            dgrid[p, 0] = gfx[p] * slopes[0, p]
            dgrid[p, 1] = gfy[p] * slopes[1, p]


@njit(cache=True, nogil=True, error_model="numpy")
def _samples_cubic(grid, kx, ky, W, flags, idx, frac, slopes):
    """``_samples`` of the bicubic mode: ``idx`` (16, P) from ``_cubic_taps``, ``frac`` the
    fractional parts of the unnormalised coordinates (PyTorch's vectorised formula, no
    padding), ``slopes`` the unnormalisation's."""
    padding, align, flat_x, flat_y = flags[1], flags[2], flags[3], flags[4]
    one = kx[1]
    cx = (kx[0], kx[1], kx[2], kx[3], kx[4], kx[5], kx[6], kx[7], kx[8], kx[9])
    cy = (ky[0], ky[1], ky[2], ky[3], ky[4], ky[5], ky[6], ky[7], ky[8], ky[9])
    for p in range(grid.shape[0]):
        if align:
            gx, gy = (grid[p, 0] + one) * kx[5], (grid[p, 1] + one) * ky[5]
        else:
            gx = (grid[p, 0] + one) * kx[8] - kx[9]
            gy = (grid[p, 1] + one) * ky[8] - ky[9]
        frac[0, p], frac[1, p] = gx - np.floor(gx), gy - np.floor(gy)
        slopes[0, p], slopes[1, p] = kx[8], ky[8]
        _cubic_taps(gx, gy, cx, cy, W, padding, flat_x, flat_y, idx, p)


@njit(cache=True, nogil=True, error_model="numpy")
def cubic_geometry(grid, kx, ky, W, flags, idx, frac, slopes):
    """``grid_geometry`` of the bicubic mode: ``idx`` (N, 16, P)."""
    for n in range(grid.shape[0]):
        _samples_cubic(grid[n], kx, ky, W, flags, idx[n], frac[n], slopes[n])


@njit(cache=True, nogil=True, error_model="numpy")
def cubic_forward(x, grid, kx, ky, W, flags, idx, frac, slopes, out):
    """``grid_forward`` of the bicubic mode."""
    wx = np.empty((4, grid.shape[1]), x.dtype)
    wy = np.empty((4, grid.shape[1]), x.dtype)
    for n in range(grid.shape[0]):
        _samples_cubic(grid[n], kx, ky, W, flags, idx[n], frac[n], slopes[n])
        _cubic_weights(frac[n], kx[1], kx[2], wx, wy)
        _blend_cubic(x[n], idx[n], wx, wy, kx[0], out[n])


@njit(cache=True, nogil=True, error_model="numpy")
def cubic_blend(x, idx, frac, k, out):
    """``grid_blend`` of the bicubic mode."""
    wx = np.empty((4, idx.shape[2]), x.dtype)
    wy = np.empty((4, idx.shape[2]), x.dtype)
    for n in range(out.shape[0]):
        _cubic_weights(frac[n], k[1], k[2], wx, wy)
        _blend_cubic(x[n], idx[n], wx, wy, k[0], out[n])


@njit(cache=True, nogil=True, error_model="numpy")
def cubic_backward(g, x, idx, frac, slopes, k, dx, dgrid, want_x, want_grid):
    """``grid_backward`` of the bicubic mode: the grid's gradient is never clipped."""
    P = idx.shape[2]
    gfx = np.empty(P, x.dtype)
    gfy = np.empty(P, x.dtype)
    w = np.empty((4, 4, P), x.dtype)
    for n in range(g.shape[0]):
        _spread_cubic(g[n], x[n], idx[n], frac[n], slopes[n], k[0], k[1], k[2], dx[n],
                      dgrid[n], want_x, want_grid, gfx, gfy, w)


@njit(cache=True, nogil=True, error_model="numpy")
def cubic_tangent(x, idx, frac, slopes, k, t, out):
    """``grid_tangent`` of the bicubic mode: its slopes along x and y are the taps weighted
    by the derivative of one axis's weights and the other axis's weights."""
    K, N, C, P = out.shape
    zero, one, two = k[0], k[1], k[2]
    for n in range(N):
        for p in range(P):
            wx, wy = _cubic(frac[n, 0, p], one, two), _cubic(frac[n, 1, p], one, two)
            sx, sy = _cubic_slopes(frac[n, 0, p], one, two), _cubic_slopes(frac[n, 1, p], one,
                                                                            two)
            mx, my = slopes[n, 0, p], slopes[n, 1, p]
            for c in range(C):
                row = x[n, c]
                ddx, ddy = zero, zero
                for i in range(4):
                    for j in range(4):
                        i_ = idx[n, 4 * j + i, p]
                        v = row[i_] if i_ >= 0 else zero
                        ddx = ddx - v * sx[i] * wy[j]
                        ddy = ddy - v * sy[j] * wx[i]
                for q in range(K):
                    out[q, n, c, p] += ddx * (t[q, n, p, 0] * mx) + ddy * (t[q, n, p, 1] * my)


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


@njit(cache=True, nogil=True, error_model="numpy")
def resample_cubic(x, out, index, weight):
    """``out`` (P, Ho, Wo) from ``x`` (P, H, W), bicubic: output ``(oh, ow)`` blends the four
    source rows ``index[0, :, oh]`` (weights ``weight[0, :, oh]``), each itself a blend of the
    four columns ``index[1, :, ow]`` (weights ``weight[1, :, ow]``), summed tap by tap as
    PyTorch's ``upsample_bicubic2d`` (the column blend inside, the row blend outside). The
    column blend of every source row is made once and shared by the output rows reading it."""
    P, H = x.shape[0], x.shape[1]
    Ho, Wo = out.shape[1], out.shape[2]
    c0, c1, c2, c3 = index[1, 0], index[1, 1], index[1, 2], index[1, 3]
    v0, v1, v2, v3 = weight[1, 0], weight[1, 1], weight[1, 2], weight[1, 3]
    rows = np.empty((H, Wo), x.dtype)
    for p in range(P):
        for h in range(H):
            r, s = x[p, h], rows[h]
            for ow in range(Wo):
                s[ow] = r[c0[ow]] * v0[ow] + r[c1[ow]] * v1[ow] + r[c2[ow]] * v2[ow] + \
                    r[c3[ow]] * v3[ow]
        for oh in range(Ho):
            r0, r1 = rows[index[0, 0, oh]], rows[index[0, 1, oh]]
            r2, r3 = rows[index[0, 2, oh]], rows[index[0, 3, oh]]
            w0, w1, w2, w3 = weight[0, 0, oh], weight[0, 1, oh], weight[0, 2, oh], \
                weight[0, 3, oh]
            o = out[p, oh]
            for ow in range(Wo):
                o[ow] = r0[ow] * w0 + r1[ow] * w1 + r2[ow] * w2 + r3[ow] * w3


@njit(cache=True, nogil=True, error_model="numpy")
def resample_cubic_adjoint(dx, g, index, weight):
    """The VJP of ``resample_cubic``: ``g`` (P, Ho, Wo) spread back into ``dx`` (P, H, W),
    zeros on entry: each gradient row onto its four source rows (as column-blended rows), then
    each of those onto the four columns of every output column."""
    P, H = dx.shape[0], dx.shape[1]
    Ho, Wo = g.shape[1], g.shape[2]
    c0, c1, c2, c3 = index[1, 0], index[1, 1], index[1, 2], index[1, 3]
    v0, v1, v2, v3 = weight[1, 0], weight[1, 1], weight[1, 2], weight[1, 3]
    rows = np.empty((H, Wo), dx.dtype)
    for p in range(P):
        rows[:] = 0
        for oh in range(Ho):
            gr = g[p, oh]
            for j in range(4):
                r, w = rows[index[0, j, oh]], weight[0, j, oh]
                for ow in range(Wo):
                    r[ow] += gr[ow] * w
        for h in range(H):
            d, s = dx[p, h], rows[h]
            for ow in range(Wo):
                v = s[ow]
                d[c0[ow]] += v * v0[ow]
                d[c1[ow]] += v * v1[ow]
                d[c2[ow]] += v * v2[ow]
                d[c3[ow]] += v * v3[ow]
