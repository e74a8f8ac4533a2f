"""``F.conv1d``, ``F.conv2d``, ``F.conv3d`` and ``F.max_pool2d`` as replay nodes (a convolution
of any stride, padding (numbers, 'same', 'valid'), dilation and groups, batched or not; a
pooling of 4-D input without padding, dilation or ceil_mode).

Convolution: three primitives, each bilinear, whose VJPs are each other, so gradients of any
order stay in the program: ``conv``, ``conv_dx`` (its VJP in the input) and ``conv_dw`` (its
VJP in the weight), each eager's array function (``ops/convolution.py``'s columns and BLAS
products), so a replay computes what eager does. The bias is an ordinary broadcast ``add``.

Max pooling: ``pool`` (each window's maximum), ``pool_grad`` (the cotangent scattered to each
window's maximum: the first largest value, the last NaN, as eager and PyTorch choose) and
``pool_pick`` (the cotangent read back at those positions); the last two are each other's VJP.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view as _windows

from ..ops.convolution import _conv_vjp_np, conv_np, input_grad_np
from .ir import Unsupported
from . import ir
from .vjp import RULES


def _win(x, k, s, pad):
    """(B, C, Ho, Wo, kh, kw): the windows of ``x`` zero-padded by ``pad``, stride ``s``."""
    if pad[0] or pad[1]:
        x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    return _windows(x, tuple(k), axis=(2, 3))[:, :, ::s[0], ::s[1]]


def conv(p, x, w):  # (eager's convolution: the same columns and products)
    return conv_np(x, w, p["stride"], p["pads"], p["dilation"], p["groups"])


def conv_dw(p, x, g):
    # (the weight only matters by its shape here: a broadcast view, nothing allocated)
    w = np.broadcast_to(np.zeros((), np.result_type(x, g)),
                        (g.shape[1], x.shape[1] // p["groups"]) + tuple(p["kshape"]))
    return _conv_vjp_np(g, (x, w), None, p["stride"], p["pads"], p["dilation"], p["groups"],
                        (False, True))[1]


def conv_dx(p, g, w):
    dx = input_grad_np(g, w.astype(np.result_type(g, w), copy=False), p["xshape"],
                       p["stride"], p["pads"], p["dilation"], p["groups"])
    return np.ascontiguousarray(dx)


def _where(p, x):
    """Per window, the flat position in its plane of the element the gradient goes to."""
    k, s = p["kernel"], p["stride"]
    flat = _win(x, k, s, (0, 0))
    flat = flat.reshape(flat.shape[:4] + (-1,))
    at = np.argmax(flat, -1)
    nan = np.isnan(flat)
    if nan.any():  # (the last NaN of a window, as PyTorch's)
        last = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1)
        at = np.where(nan.any(-1), last, at)
    Ho, Wo = at.shape[2:]
    rows = np.arange(Ho)[:, None] * s[0] + at // k[1]
    cols = np.arange(Wo)[None, :] * s[1] + at % k[1]
    return rows * x.shape[3] + cols


def pool(p, x):
    flat = _win(x, p["kernel"], p["stride"], (0, 0))
    return np.ascontiguousarray(np.max(flat, axis=(4, 5)))


def pool_grad(p, g, x):
    B, C = x.shape[:2]
    z = np.zeros((B, C, x.shape[2] * x.shape[3]), np.result_type(g, x))
    pos = _where(p, x).reshape(B, C, -1)
    np.add.at(z, (np.arange(B)[:, None, None], np.arange(C)[None, :, None], pos),
              np.reshape(g, (B, C, -1)))
    return z.reshape(x.shape)


def pool_pick(p, u, x):
    B, C = x.shape[:2]
    pos = _where(p, x)
    flat = np.reshape(u, (B, C, -1))
    return np.take_along_axis(flat, pos.reshape(B, C, -1), -1).reshape(pos.shape)


ir.IMPL.update(conv=conv, conv_dw=conv_dw, conv_dx=conv_dx, pool=pool, pool_grad=pool_grad,
               pool_pick=pool_pick)


def _p(n):
    return {k: n.params[k] for k in ("stride", "pads", "dilation", "groups", "xshape", "kshape")}


def _conv_vjp(b, n, g):
    x, w = n.ins
    return [b.e("conv_dx", g, w, **_p(n)), b.e("conv_dw", x, g, **_p(n))]


def _conv_dx_vjp(b, n, u):
    g, w = n.ins
    return [b.e("conv", u, w, **_p(n)), b.e("conv_dw", u, g, **_p(n))]


def _conv_dw_vjp(b, n, v):
    x, g = n.ins
    return [b.e("conv_dx", g, v, **_p(n)), b.e("conv", x, v, **_p(n))]


RULES.update(conv=_conv_vjp, conv_dx=_conv_dx_vjp, conv_dw=_conv_dw_vjp)
RULES["pool"] = lambda b, n, g: [b.e("pool_grad", g, n.ins[0], **n.params)]
RULES["pool_grad"] = lambda b, n, u: [b.e("pool_pick", u, n.ins[1], **n.params), None]
RULES["pool_pick"] = lambda b, n, g: [b.e("pool_grad", g, n.ins[1], **n.params), None]


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)


def _tuple(v, nd):
    return (int(v),) * nd if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)


def convolution(tr, name, a, result):
    """``conv{1,2,3}d`` (``nn/convolution._conv``'s arguments), batched or not: eager's one op
    (its padding strings resolved as eager does)."""
    nd = int(name[4])  # (conv1d, conv2d, conv3d)
    x, w = tr.v(a["input"]), tr.v(a["weight"])
    xs, ws, dtype = tr.g.shape(x), tr.g.shape(w), tr.g.dtype(x)
    same = a["bias"] is None or tr.g.dtype(tr.v(a["bias"])) == dtype
    if len(xs) not in (nd + 1, nd + 2) or len(ws) != nd + 2 or tr.g.dtype(w) != dtype or \
            dtype not in (np.float32, np.float64) or not same:
        raise Unsupported(f"{name} of mixed or non-float dtypes")
    stride, dilation = _tuple(a["stride"], nd), _tuple(a["dilation"], nd)
    pad = a["padding"]
    if pad == "valid":
        pads = ((0, 0),) * nd
    elif pad == "same":
        totals = [d * (k - 1) for d, k in zip(dilation, ws[2:])]
        pads = tuple((t // 2, t - t // 2) for t in totals)
    else:
        pads = tuple((q, q) for q in _tuple(pad, nd))
    if len(xs) == nd + 1:  # (unbatched: a batch of one, as eager)
        x = tr.e("reshape", (x,), shape=(1,) + xs)
    p = {"stride": stride, "pads": pads, "dilation": dilation, "groups": int(a["groups"]),
         "xshape": tr.g.shape(x), "kshape": ws[2:]}
    vid = tr.e("conv", (x, w), **p)
    if a["bias"] is not None:
        bias = tr.e("reshape", (tr.v(a["bias"]),), shape=(1, -1) + (1,) * nd)
        vid = tr.e("add", (vid, bias))
    if len(xs) == nd + 1:
        vid = tr.e("reshape", (vid,), shape=tr.g.shape(vid)[1:])
    tr.out(result, vid, name)


def max_pool2d(tr, name, a, result):
    x = tr.v(a["input"])
    k = _pair(a["kernel_size"])
    s = k if a["stride"] is None or a["stride"] == [] else _pair(a["stride"])
    if len(tr.g.shape(x)) != 4 or _pair(a["padding"]) != (0, 0) or a["ceil_mode"] or \
            _pair(a["dilation"]) != (1, 1) or a["return_indices"] or \
            tr.g.dtype(x).kind != "f":
        raise Unsupported(f"{name} of 3-d input, with padding, dilation, ceil_mode or indices")
    tr.out(result, tr.e("pool", (x,), kernel=k, stride=s), name)
