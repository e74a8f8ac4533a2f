"""``grid_sample`` of CPU float tensors as one op, as PyTorch records it
(``GridSampler2DBackward0``), instead of the ~20 records of its composition (unnormalise, pad,
floor, four gathers and their weights; ``nn/grid_sample.py``, which still serves CUDA tensors,
mixed dtypes, vmap and ``tg.compile``'s tracer).

The forward, the numeric VJP (image and grid) and forward mode are compiled loops
(``_resample_kernels``): bilinear, nearest and bicubic (16 taps, each padded on its own). The
forward computes each image's geometry (its samples' taps, fractional parts and the
derivatives of their coordinates) and blends each channel; the geometry stays on the record
until the VJP takes it. Under ``create_graph`` the VJP is recorded in tapegrad ops from the
same geometry: the image's gradient is the weights times ``g`` scattered onto the taps, the
grid's the taps' differences (bicubic: the weights' slopes) times ``g``, summed over the
channels; the fractional parts enter as tensors of the grid (value exact, slope the
coordinate's), so the gradient is differentiable in ``g``, the image and the grid, as the
composition's was.
"""

import numpy as np

from .._bounded_cache import bounded_cache
from ..registry import Op, defop
from ..tensor import _make
from . import record as R
from .activations import fusable_array
from ._lazy import kernel_array, kernels

_kernels = kernels("_resample_kernels")  # (loads Numba: on the first grid_sample)


_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_TAPS = (4, 1, 16)  # per mode
_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}
_PARAMS, _keep_params = bounded_cache(256)  # (shapes, dtype, mode, padding, align, needs) -> params


def _axis(size, align, dtype):
    """An axis's constants (see ``_resample_kernels``), rounded to ``dtype`` as the composition's
    Python numbers are."""
    low, span = (0.0, size - 1.0) if align else (-0.5, float(size))
    slope = (size - 1) / 2 if align else size / 2
    return np.array([0, 1, 2, size, size - 1, (size - 1) / 2, low, span, slope, 0.5], dtype)


def params_for(x_shape, grid_shape, dtype, mode, padding_mode, align, needs):
    key = (x_shape, grid_shape, dtype, mode, padding_mode, align, needs)
    p = _PARAMS.get(key)
    if p is None:
        h, w = x_shape[2], x_shape[3]
        flags = np.array([_MODES[mode], _PADDINGS[padding_mode], align, align and w == 1,
                          align and h == 1], np.int64)
        p = _keep_params(key, dict(x_shape=x_shape, grid_shape=grid_shape, dtype=dtype,
                                   kx=_axis(w, align, dtype), ky=_axis(h, align, dtype),
                                   flags=flags, needs=needs))
    return p


def _kernel(p, name):
    """The compiled ``grid_<name>`` (bilinear, nearest) or ``cubic_<name>`` (bicubic, its own
    kernels: the others' users do not wait for its compilation)."""
    return getattr(_kernels(), ("cubic_" if p["flags"][0] == 2 else "grid_") + name)


def _grid(gd, p):
    n, ho, wo = p["grid_shape"][:3]
    return kernel_array(gd, p["dtype"], (n, ho * wo, 2))


def _empty_geometry(p):
    n, ho, wo = p["grid_shape"][:3]
    taps = _TAPS[p["flags"][0]]
    return (np.empty((n, taps, ho * wo), np.int32), np.empty((n, 2, ho * wo), p["dtype"]),
            np.empty((n, 2, ho * wo), p["dtype"]))


def _geometry(gd, p):
    """The geometry of the grid ``gd`` (``_resample_kernels.grid_geometry``): taps
    (N, taps, P), fractional parts and slopes (N, 2, P). The forward's, kept for the first
    rule that reads it (the VJP), else computed again."""
    kept = p.get("geometry")
    if kept:
        return kept.pop()
    idx, frac, slopes = geometry = _empty_geometry(p)
    _kernel(p, "geometry")(_grid(gd, p), p["kx"], p["ky"], p["x_shape"][3], p["flags"], idx,
                           frac, slopes)
    return geometry


def _image(xd, p, dtype=None):
    n, c, h, w = p["x_shape"]
    return kernel_array(xd, dtype or p["dtype"], (n, c, h * w))


def takes(x, grid):
    """Whether this op samples ``x`` at ``grid``: plain CPU tensors of one dtype, float32 or
    float64 (outside ``tg.compile``'s tracer), with pixel indices that fit in int32."""
    if not (fusable_array(x) and fusable_array(grid)):
        return False
    xd = x._data
    return xd.dtype == grid._data.dtype and xd.ndim == 4 and xd.shape[2] * xd.shape[3] < 2 ** 31


def grid_sample(x, grid, mode, padding_mode, align):
    """``x`` (N, C, H, W) sampled at ``grid`` (N, Ho, Wo, 2): plain CPU tensors of one float
    dtype (float32 or float64), arguments checked by the caller; one record when either
    requires grad."""
    R.refresh_views(x, grid)
    xd, gd = x._data, grid._data
    needs = R.needs_grad(x, grid)
    p = params_for(xd.shape, gd.shape, xd.dtype, mode, padding_mode, bool(align),
                   (x._rg, grid._rg) if needs else (False, False))
    n, c = xd.shape[:2]
    ho, wo = gd.shape[1:3]
    out = np.empty((n, c, ho * wo), xd.dtype)
    geometry = _empty_geometry(p)
    _kernel(p, "forward")(_image(xd, p), _grid(gd, p), p["kx"], p["ky"], xd.shape[3],
                          p["flags"], *geometry, out)
    value = out.reshape(n, c, ho, wo)
    if not needs:
        return _make(value)
    # (the geometry rides along until the VJP takes it: its recomputation was ~1/6 of a
    # backward, and it is released there, as PyTorch releases a node's saved values)
    return R.python_result(value, Op.GRID_SAMPLE, (x, grid), save_inputs=(0, 1),
                           params=dict(p, geometry=[geometry]))


def _vjp_into(g, saved, out, targets, **p):
    x, grid = saved
    n, c, h, w = p["x_shape"]
    dtype, needs = p["dtype"], p["needs"]
    t = targets[0]  # (an unreached arena slot of the right dtype: written in place)
    dx = t if needs[0] and t is not None and t.dtype == dtype else np.empty(p["x_shape"], dtype)
    if needs[0]:
        dx.fill(0.0)
    t = targets[1]
    dgrid = t if needs[1] and t is not None and t.dtype == dtype else \
        np.empty(p["grid_shape"], dtype)
    idx, frac, slopes = _geometry(grid, p)
    p3 = idx.shape[2]
    _kernel(p, "backward")(kernel_array(g, dtype, (n, c, p3)), _image(x, p), idx, frac,
                           slopes, p["kx"], dx.reshape(n, c, h * w), dgrid.reshape(n, p3, 2),
                           needs[0], needs[1])
    return (dx if needs[0] else None), (dgrid if needs[1] else None)


def _vjp_np(g, saved, out, **p):
    return _vjp_into(g, saved, out, (None, None), **p)


def _jvp_np(tangents, saved, out, **p):
    """Forward mode, in float64: the sample of the image's tangents (the geometry repeated
    for each) plus the sample's slope along the grid's tangents (bilinear, bicubic)."""
    tx, tgrid = tangents
    x, grid = saved
    n, c, h, w = p["x_shape"]
    idx, frac, slopes = _geometry(grid, p)
    k = (tx if tx is not None else tgrid).shape[0]
    p3 = idx.shape[2]
    res = np.zeros((k, n, c, p3))
    one = _axis(1, True, np.float64)
    frac, slopes = frac.astype(np.float64), slopes.astype(np.float64)
    if tx is not None:
        _kernel(p, "blend")(kernel_array(tx, np.float64, (k * n, c, h * w)),
                            np.tile(idx, (k, 1, 1)), np.tile(frac, (k, 1, 1)), one,
                            res.reshape(k * n, c, p3))
    if tgrid is not None and idx.shape[1] != 1:
        _kernel(p, "tangent")(_image(x, p, np.float64), idx, frac, slopes, one,
                              kernel_array(tgrid, np.float64, (k, n, p3, 2)), res)
    return res.reshape((k, n, c) + tuple(p["grid_shape"][1:3]))


def _vjp(g, inputs, out, **p):
    """The VJP in tapegrad ops (re-taping): differentiable in ``g``, the image and the grid."""
    from .elementwise import where
    from .join import stack
    from .movement import gather_index, reshape, scatter_index, sum as sum_, unsqueeze

    x, grid = inputs
    n, c, h, w = p["x_shape"]
    needs, dtype = p["needs"], p["dtype"]
    idx, frac, slopes = _geometry(grid._data, p)
    p3 = idx.shape[2]
    g3 = reshape(g, (n, c, p3))
    idx = idx.transpose(1, 0, 2)  # (taps, N, P)
    inside = idx >= 0
    base = (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1)
    flat = [(base + np.where(m, i, 0)[:, None, :]).reshape(-1) for m, i in zip(inside, idx)]
    masks = [np.broadcast_to(m[:, None, :], (n, c, p3)) for m in inside]
    if idx.shape[0] == 1:
        dx = reshape(scatter_index(where(masks[0], g3, 0.0), flat[0], n * c * h * w),
                     p["x_shape"]) if needs[0] else None
        return dx, (_make(np.zeros(p["grid_shape"], dtype)) if needs[1] else None)
    coords = reshape(grid, (n, p3, 2))
    fx, fy = (_fraction(coords[..., k], frac[:, k], slopes[:, k]) for k in (0, 1))
    if idx.shape[0] == 16:
        return _cubic_vjp(g3, x, fx, fy, masks, flat, slopes, p)
    wx, wy = 1 - fx, 1 - fy
    dx = dgrid = None
    if needs[0]:
        for m, i, weight in zip(masks, flat, (wx * wy, fx * wy, wx * fy, fx * fy)):
            part = scatter_index(where(m, g3 * unsqueeze(weight, 1), 0.0), i, n * c * h * w)
            dx = part if dx is None else dx + part
        dx = reshape(dx, p["x_shape"])
    if needs[1]:
        xf = reshape(x, (n * c * h * w,))
        v0, v1, v2, v3 = (where(m, reshape(gather_index(xf, i), (n, c, p3)), 0.0)
                          for m, i in zip(masks, flat))
        ddx = sum_(g3 * ((v1 - v0) * unsqueeze(wy, 1) + (v3 - v2) * unsqueeze(fy, 1)), 1)
        ddy = sum_(g3 * ((v2 - v0) * unsqueeze(wx, 1) + (v3 - v1) * unsqueeze(fx, 1)), 1)
        sx, sy = np.ascontiguousarray(slopes[:, 0]), np.ascontiguousarray(slopes[:, 1])
        dgrid = reshape(stack([where(sx != 0, ddx * _make(sx), 0.0),
                               where(sy != 0, ddy * _make(sy), 0.0)], -1), p["grid_shape"])
    return dx, dgrid


def _cubic_vjp(g3, x, fx, fy, masks, flat, slopes, p):
    """The bicubic VJP in tapegrad ops: the weights and their slopes as polynomials of the
    fractional parts (tensors of the grid), each of the 16 taps scattered (image) or read
    (grid)."""
    from .elementwise import where
    from .join import stack
    from .movement import gather_index, reshape, scatter_index, sum as sum_, unsqueeze

    n, c, h, w = p["x_shape"]
    needs = p["needs"]
    (wx, dwx), (wy, dwy) = _cubic_polynomials(fx), _cubic_polynomials(fy)
    taps = [(4 * j + i, i, j) for j in range(4) for i in range(4)]
    dx = dgrid = None
    if needs[0]:
        for t, i, j in taps:
            part = scatter_index(where(masks[t], g3 * unsqueeze(wx[i] * wy[j], 1), 0.0), flat[t],
                                 n * c * h * w)
            dx = part if dx is None else dx + part
        dx = reshape(dx, p["x_shape"])
    if needs[1]:
        xf = reshape(x, (n * c * h * w,))
        ddx = ddy = None
        for t, i, j in taps:
            v = where(masks[t], reshape(gather_index(xf, flat[t]), masks[t].shape), 0.0)
            a, b = v * unsqueeze(dwx[i] * wy[j], 1), v * unsqueeze(wx[i] * dwy[j], 1)
            ddx, ddy = (a, b) if ddx is None else (ddx + a, ddy + b)
        sx, sy = (_make(np.ascontiguousarray(slopes[:, k])) for k in (0, 1))
        dgrid = reshape(stack([sum_(g3 * ddx, 1) * sx, sum_(g3 * ddy, 1) * sy], -1),
                        p["grid_shape"])
    return dx, dgrid


def _cubic_polynomials(t):
    """The cubic weights of the taps at -1, 0, 1, 2 from the fractional part ``t`` (a tensor),
    A = -0.75, and their derivatives in ``t``."""
    a = -0.75

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    def near_slope(d):
        return (3 * (a + 2) * d - 2 * (a + 3)) * d

    def far_slope(d):
        return (3 * a * d - 10 * a) * d + 8 * a

    s, r = 1 - t, 2 - t
    return ((far(t + 1), near(t), near(s), far(r)),
            (far_slope(t + 1), near_slope(t), -near_slope(s), -far_slope(r)))


def _fraction(coord, frac, slope):
    """The fractional part of the pixel coordinate as a tensor of the normalised ``coord``:
    the value ``frac`` exactly, the derivative ``slope`` (0 where clipped, also at inf)."""
    from .elementwise import where

    frac, slope = np.ascontiguousarray(frac), np.ascontiguousarray(slope)
    moved = _make(frac) + (coord - _make(np.array(coord._data))) * _make(slope)
    return where(slope != 0, moved, _make(frac))


defop(Op.GRID_SAMPLE, "_grid_sample", "python", "GridSampler2DBackward0", vjp=_vjp,
      vjp_np=_vjp_np, vjp_into=_vjp_into, jvp_np=_jvp_np)
