"""``F.conv2d`` and ``F.max_pool2d`` as replay nodes (4-D input; a convolution without groups
or dilation, a pooling without padding, dilation or ceil_mode).

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


def _pads(p):
    return tuple((a, a) for a in p["padding"])


def conv(p, x, w):  # (eager's convolution: the same columns and products)
    return conv_np(x, w, p["stride"], _pads(p), (1, 1), 1)


def conv_dw(p, x, g):
    # (the weight only matters by its shape here: a broadcast view, nothing allocated)
    w = np.broadcast_to(np.zeros((), np.result_type(x, g)),
                        (g.shape[1], x.shape[1]) + tuple(p["kshape"]))
    return _conv_vjp_np(g, (x, w), None, p["stride"], _pads(p), (1, 1), 1, (False, True))[1]


def conv_dx(p, g, w):
    dx = input_grad_np(g, w.astype(np.result_type(g, w), copy=False), p["xshape"],
                       p["stride"], _pads(p), (1, 1), 1)
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
    return {k: n.params[k] for k in ("stride", "padding", "xshape", "kshape")}


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


def conv2d(tr, name, a, result):
    x, w = tr.v(a["input"]), tr.v(a["weight"])
    pad = a["padding"]
    pad = (0, 0) if pad == "valid" else pad
    if len(tr.g.shape(x)) != 4 or len(tr.g.shape(w)) != 4 or a["groups"] != 1 or \
            _pair(a["dilation"]) != (1, 1) or isinstance(pad, str):
        raise Unsupported(f"{name} of 3-d input, with groups, dilation or padding='same'")
    p = {"stride": _pair(a["stride"]), "padding": _pair(pad), "xshape": tr.g.shape(x),
         "kshape": tr.g.shape(w)[2:]}
    vid = tr.e("conv", (x, w), **p)
    if a["bias"] is not None:
        bias = tr.e("reshape", (tr.v(a["bias"]),), shape=(1, -1, 1, 1))
        vid = tr.e("add", (vid, bias))
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
