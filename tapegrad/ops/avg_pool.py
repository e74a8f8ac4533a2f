"""Average pooling of CPU float tensors as one op, as PyTorch records it (``AvgPool2DBackward0``,
``AdaptiveAvgPool2DBackward0``), instead of the composition's padding, strided windows, window
sums and division (a (8, 3, 16, 16) batch pooled by 2: forward 113 µs, PyTorch's 11; adaptive
pooling built a stack of one mean per output cell).

Pooling is linear: each output cell is the mean of its window, ``sum(x[window]) / divisor``. The
windows are given per spatial dim as ``[lo, hi)`` bounds per output index (inside the input),
the divisor per output cell, as PyTorch's kernels compute them:

* ``avg_pool``: ``start = o s - p``, ``end = min(start + k, n + p)``, the bounds clamped to the
  input; the divisor ``divisor_override``, else the product of ``end - start`` (with
  ``count_include_pad``) or of the clamped lengths;
* ``adaptive_avg_pool``: bounds ``floor(o n / out)`` to ``ceil((o + 1) n / out)``, the divisor
  their product.

The VJP spreads each cell's gradient divided by its divisor over its window: the transposed
map, recorded (under ``create_graph``) as the op ``*Backward`` whose own VJP is the pooling
again, so every order is exact and cheap; forward mode pools the tangents.
"""

import numpy as np

from .._bounded_cache import bounded_cache
from ..registry import Op, defop
from ..tensor import _make
from . import record as R
from ._lazy import kernels

_kernels = kernels("_window_kernels")  # (loads Numba: on the first pooling)


def pool_geometry(sizes, kernel, stride, padding, outs, count_include_pad, divisor_override):
    """``(bounds, divisor)`` of ``avg_pool`` over spatial ``sizes`` (1 to 3 dims)."""
    spans, clamped, bounds = [], [], []
    for n, k, s, p, o in zip(sizes, kernel, stride, padding, outs):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        lo, hi = np.maximum(start, 0), np.minimum(end, n)
        spans.append(end - start)
        clamped.append(hi - lo)
        bounds.append((lo, hi))
    if divisor_override:
        divisor = np.full(tuple(outs), float(divisor_override))
    else:
        divisor = _outer(spans if count_include_pad else clamped)
    return bounds, divisor


def adaptive_geometry(sizes, outs):
    """``(bounds, divisor)`` of ``adaptive_avg_pool``: PyTorch's bins."""
    bounds = []
    for n, o in zip(sizes, outs):
        i = np.arange(o)
        bounds.append(((i * n) // o, -((-(i + 1) * n) // o)))
    return bounds, _outer([hi - lo for lo, hi in bounds])


def _outer(lengths):
    out = np.ones(())
    for v in lengths:
        out = np.multiply.outer(out, v.astype(np.float64))
    return out


def _planes(shape):
    """(N, C, D, H, W) for a shape (N, C, *spatial) of 1 to 3 spatial dims."""
    return tuple(shape[:2]) + (1,) * (5 - len(shape)) + tuple(shape[2:])


def _params(x_shape, y_shape, bounds, divisor, dtype, codes):
    lead = [(np.zeros(1, np.int64), np.ones(1, np.int64))] * (3 - len(bounds))
    flat = tuple(np.ascontiguousarray(a, np.int64) for lo_hi in lead + bounds for a in lo_hi)
    return dict(x_shape=tuple(x_shape), y_shape=tuple(y_shape), bounds=flat,
                divisor=np.ascontiguousarray(divisor.reshape(_planes((1, 1) + divisor.shape)[2:])),
                dtype=np.dtype(dtype), codes=codes)


def _shapes(p, batch):
    """The input's and output's shapes of ``p``, for a batch of ``batch`` (None: its own)."""
    if batch is None:
        return p["x_shape"], p["y_shape"]
    return (batch,) + p["x_shape"][1:], (batch,) + p["y_shape"][1:]


def _pool_np(xd, p, batch=None):
    x_shape, y_shape = _shapes(p, batch)
    x = np.ascontiguousarray(xd, p["dtype"]).reshape(_planes(x_shape))
    if not x.flags.writeable:  # (one compiled signature: the adjoint writes this argument)
        x = x.copy()
    y = np.empty(_planes(y_shape), p["dtype"])
    _kernels().window_means(x, y, p["bounds"], p["divisor"], False)
    return y.reshape(y_shape)


def _unpool_np(gd, p, batch=None, out=None):
    x_shape, y_shape = _shapes(p, batch)
    g = np.ascontiguousarray(gd, p["dtype"]).reshape(_planes(y_shape))
    if not g.flags.writeable:
        g = g.copy()
    if out is None or out.dtype != p["dtype"]:
        out = np.zeros(x_shape, p["dtype"])
    else:
        out.fill(0.0)
    _kernels().window_means(out.reshape(_planes(x_shape)), g, p["bounds"], p["divisor"], True)
    return out


def _record(value, code, t, params):
    if t._rg and R._grad_on():
        return R.python_result(value, code, (t,), params=params)
    return _make(value)


def pool(x, params):
    """The pooling of the CPU float tensor ``x`` (N, C, *spatial) by ``params`` (``_params``);
    one record when ``x`` requires grad."""
    R.refresh_views(x)
    return _record(_pool_np(x._data, params), params["codes"][0], x, params)


def unpool(g, params):
    """The transposed map (the VJP of ``pool``) of ``g`` (N, C, *out); one record when ``g``
    requires grad (re-taping)."""
    R.refresh_views(g)
    return _record(_unpool_np(g._data, params), params["codes"][1], g, params)


def _pool_vjp_into(g, saved, out, targets, **params):
    return (_unpool_np(g, params, out=targets[0]),)


def _unpool_vjp_into(g, saved, out, targets, **params):
    return (_pool_np(g, params),)


def _pool_vjp(g, inputs, out, **params):
    return (unpool(g, params),)


def _unpool_vjp(g, inputs, out, **params):
    return (pool(g, params),)


def _tangents(f, src, dst):
    """The map ``f`` of one example applied to ``k`` tangent directions (a leading dim) at
    once, as a batch ``k`` times as large."""
    def jvp(tangents, inputs, out, **params):
        t = tangents[0]
        k = t.shape[0]
        batch = k * params["x_shape"][0]
        return f(t.reshape(_shapes(params, batch)[src]), params, batch).reshape(
            (k,) + params[dst])
    return jvp


def _vjp_np(vjp_into):
    return lambda g, saved, out, **params: vjp_into(g, saved, out, [None], **params)


for _code, _back, _name in ((Op.AVG_POOL, Op.AVG_POOL_BACKWARD, "AvgPool2D"),
                            (Op.ADAPTIVE_AVG_POOL, Op.ADAPTIVE_AVG_POOL_BACKWARD,
                             "AdaptiveAvgPool2D")):
    defop(_code, f"_{_name.lower()}", "python", f"{_name}Backward0", vjp=_pool_vjp,
          vjp_np=_vjp_np(_pool_vjp_into), vjp_into=_pool_vjp_into,
          jvp_np=_tangents(_pool_np, 0, "y_shape"))
    defop(_back, f"_{_name.lower()}_backward", "python", f"{_name}BackwardBackward0",
          vjp=_unpool_vjp, vjp_np=_vjp_np(_unpool_vjp_into), vjp_into=_unpool_vjp_into,
          jvp_np=_tangents(_unpool_np, 1, "x_shape"))

AVG_CODES = (int(Op.AVG_POOL), int(Op.AVG_POOL_BACKWARD))
ADAPTIVE_CODES = (int(Op.ADAPTIVE_AVG_POOL), int(Op.ADAPTIVE_AVG_POOL_BACKWARD))


_PARAMS, _keep_params = bounded_cache(256)  # (the arguments) -> params


def _cached(key, make):
    """The params of ``key``, ``make()`` the first time: a model pools the same shapes call
    after call."""
    params = _PARAMS.get(key)
    return _keep_params(key, make()) if params is None else params


def avg_params(shape, dtype, kernel, stride, padding, outs, count_include_pad,
               divisor_override):
    """The params of ``avg_pool`` of an input of ``shape`` and ``dtype`` (for ``_pool_np`` and
    ``_unpool_np``)."""
    shape, y_shape = tuple(shape), tuple(shape[:2]) + tuple(outs)

    def make():
        bounds, divisor = pool_geometry(shape[2:], kernel, stride, padding, outs,
                                        count_include_pad, divisor_override)
        return _params(shape, y_shape, bounds, divisor, dtype, AVG_CODES)
    key = (shape, dtype, tuple(kernel), tuple(stride), tuple(padding), tuple(outs),
           bool(count_include_pad), divisor_override)
    return _cached(key, make)


def avg_pool(x, kernel, stride, padding, outs, count_include_pad, divisor_override):
    """``avg_pool{1,2}d`` of ``x`` (N, C, *spatial), its arguments checked by the caller."""
    return pool(x, avg_params(x.shape, x.dtype, kernel, stride, padding, outs,
                              count_include_pad, divisor_override))


def adaptive_avg_pool(x, outs):
    """``adaptive_avg_pool{1,2}d`` of ``x`` (N, C, *spatial) into ``outs`` cells."""
    shape, y_shape = tuple(x.shape), tuple(x.shape[:2]) + tuple(outs)

    def make():
        bounds, divisor = adaptive_geometry(shape[2:], outs)
        return _params(shape, y_shape, bounds, divisor, x.dtype, ADAPTIVE_CODES)
    return pool(x, _cached((shape, x.dtype, tuple(outs)), make))

