"""``interpolate``'s nearest, linear and bicubic modes on CPU float tensors as one op, as PyTorch
records them (``UpsampleBilinear2DBackward0``...), instead of one to three ``index_select``s and
blends per spatial dim (``nn/interpolate.py`` builds the per-dim tables and keeps that
composition for other tensors).

A resize is linear: each output sample is a blend of at most two source positions per dim
(bicubic: four, over H and W), the dims blended in order (the composition's rounding). The VJP
spreads the gradient back with the same weights: the transposed map, recorded (under
``create_graph``) as the op ``RESIZE_BACKWARD`` whose own VJP is the resize again, so every
order is exact and cheap; forward mode resizes the tangents.
"""

import numpy as np

from .._bounded_cache import bounded_cache
from ..registry import Op, defop
from ..tensor import _make
from . import record as R
from ._lazy import kernel_array, kernels

_kernels = kernels("_resample_kernels")  # (loads Numba: on the first resize)


# (shape, dtype, mode, sizes, scales, align_corners) -> params
_PARAMS, _keep_params = bounded_cache(256)


def cached(key, make):
    """The params of ``key``, made by ``make()`` the first time: a model resizes the same
    shapes call after call."""
    p = _PARAMS.get(key)
    return _keep_params(key, make()) if p is None else p


def make_params(x_shape, steps, dtype, node=None):
    """The kernels' tables for resizing the spatial dims of ``x_shape`` (N, C, *spatial) by
    ``steps``, one per dim: None (unchanged), an index array (a nearest pick) or
    ``(lo, hi, w)`` (the blend ``x[lo] * (1 - w) + x[hi] * w``); ``node``: PyTorch's name of
    the resize's node (``UpsampleNearest2DBackward0``...)."""
    spatial = tuple(x_shape[2:])
    lead = [None] * (3 - len(spatial))
    sizes = (1,) * len(lead) + spatial
    outs = []
    longest = max([1] + [len(s) if not isinstance(s, tuple) else len(s[0])
                         for s in steps if s is not None] + list(spatial))
    index = np.zeros((3, 2, longest), np.int64)
    weight = np.zeros((3, 2, longest), dtype)
    blend = np.zeros(3, np.int64)
    for k, (n, step) in enumerate(zip(sizes, lead + list(steps))):
        if step is None:
            step = np.arange(n)
        if isinstance(step, tuple):
            lo, hi, w = step
            index[k, 0, :len(lo)], index[k, 1, :len(lo)] = lo, hi
            weight[k, 0, :len(lo)], weight[k, 1, :len(lo)] = (1 - w), w
            blend[k] = 1
        else:
            lo = step
            index[k, 0, :len(lo)] = lo
        outs.append(len(lo))
    y_shape = tuple(x_shape[:2]) + tuple(outs[3 - len(spatial):])
    return dict(x_shape=tuple(x_shape), y_shape=y_shape, planes_in=tuple(sizes),
                planes_out=tuple(outs), index=index, weight=weight, blend=blend,
                dtype=np.dtype(dtype), node=node)


def make_cubic_params(x_shape, taps, dtype):
    """The tables of a bicubic resize of (N, C, H, W) ``x_shape``: ``taps`` holds, for H and
    for W, the four source indices (4, n_out) and their weights (4, n_out) of each output
    position."""
    longest = max(len(t[0][0]) for t in taps)
    index = np.zeros((2, 4, longest), np.int64)
    weight = np.zeros((2, 4, longest), dtype)
    for k, (idx, w) in enumerate(taps):
        index[k, :, :idx.shape[1]], weight[k, :, :idx.shape[1]] = idx, w
    outs = tuple(t[0].shape[1] for t in taps)
    return dict(x_shape=tuple(x_shape), y_shape=tuple(x_shape[:2]) + outs,
                planes_in=tuple(x_shape[2:]), planes_out=outs, index=index, weight=weight,
                cubic=True, dtype=np.dtype(dtype), node="UpsampleBicubic2DBackward0")


def _shapes(p, batch):
    if batch is None:
        return p["x_shape"], p["y_shape"]
    return (batch,) + p["x_shape"][1:], (batch,) + p["y_shape"][1:]


def _planes(shape, p, key):
    return (shape[0] * shape[1],) + p[key]


def _resize_np(xd, p, batch=None):
    x_shape, y_shape = _shapes(p, batch)
    y = np.empty(_planes(y_shape, p, "planes_out"), p["dtype"])
    xd = kernel_array(xd, p["dtype"], _planes(x_shape, p, "planes_in"))
    if p.get("cubic"):
        _kernels().resample_cubic(xd, y, p["index"], p["weight"])
    else:
        _kernels().resample(xd, y, p["index"], p["weight"], p["blend"])
    return y.reshape(y_shape)


def _spread_np(gd, p, batch=None, out=None):
    x_shape, y_shape = _shapes(p, batch)
    if out is None or out.dtype != p["dtype"]:
        out = np.zeros(x_shape, p["dtype"])
    else:
        out.fill(0.0)
    gd = kernel_array(gd, p["dtype"], _planes(y_shape, p, "planes_out"))
    dx = out.reshape(_planes(x_shape, p, "planes_in"))
    if p.get("cubic"):
        _kernels().resample_cubic_adjoint(dx, gd, p["index"], p["weight"])
    else:
        _kernels().resample_adjoint(dx, gd, p["index"], p["weight"], p["blend"])
    return out


def _record(value, code, t, params):
    if t._rg and R._grad_on():
        return R.python_result(value, code, (t,), params=params)
    return _make(value)


def resize(x, params):
    """The resize of the CPU float tensor ``x`` (N, C, *spatial) by ``params``
    (``make_params``); one record when ``x`` requires grad."""
    R.refresh_views(x)
    return _record(_resize_np(x._data, params), Op.INTERPOLATE, x, params)


def spread(g, params):
    """The transposed map (the VJP of ``resize``) of ``g``; one record when ``g`` requires
    grad (re-taping)."""
    R.refresh_views(g)
    return _record(_spread_np(g._data, params), Op.INTERPOLATE_BACKWARD, g, params)


def _resize_vjp_into(g, saved, out, targets, **params):
    return (_spread_np(g, params, out=targets[0]),)


def _spread_vjp_into(g, saved, out, targets, **params):
    return (_resize_np(g, params),)


def _resize_vjp(g, inputs, out, **params):
    return (spread(g, params),)


def _spread_vjp(g, inputs, out, **params):
    return (resize(g, params),)


def _tangents(f, src, dst):
    """The map ``f`` applied to ``k`` tangent directions (a leading dim) at once, as a batch
    ``k`` times as large, in float64."""
    def jvp(tangents, inputs, out, **params):
        t = tangents[0]
        k = t.shape[0]
        p64 = dict(params, dtype=np.dtype(np.float64), weight=params["weight"].astype(np.float64))
        batch = k * params["x_shape"][0]
        return f(t.reshape(_shapes(params, batch)[src]), p64, batch).reshape(
            (k,) + params[dst])
    return jvp


def _vjp_np(vjp_into):
    return lambda g, saved, out, **params: vjp_into(g, saved, out, [None], **params)


def _node_name(params):
    return params.get("node")


def _backward_node_name(params):
    node = params.get("node")
    return None if node is None else node[:-1] + "Backward0"


defop(Op.INTERPOLATE, "_resize", "python", "UpsampleBilinear2DBackward0", vjp=_resize_vjp,
      vjp_np=_vjp_np(_resize_vjp_into), vjp_into=_resize_vjp_into,
      jvp_np=_tangents(_resize_np, 0, "y_shape"), grad_fn_of=_node_name)
defop(Op.INTERPOLATE_BACKWARD, "_resize_backward", "python",
      "UpsampleBilinear2DBackwardBackward0", vjp=_spread_vjp,
      vjp_np=_vjp_np(_spread_vjp_into), vjp_into=_spread_vjp_into,
      jvp_np=_tangents(_spread_np, 1, "x_shape"), grad_fn_of=_backward_node_name)
