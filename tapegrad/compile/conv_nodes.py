"""``F.conv1d``, ``F.conv2d`` and ``F.conv3d`` as replay nodes (any stride, padding (numbers,
'same', 'valid'), dilation and groups, batched or not).

Convolution: three primitives, each bilinear, whose VJPs are each other, so gradients of any
order stay in the program: ``conv``, ``conv_dx`` (its VJP in the input) and ``conv_dw`` (its
VJP in the weight), each eager's array function (``ops/convolution.py``'s columns and BLAS
products), so a replay computes what eager does. The bias is an ordinary broadcast ``add``.
"""

import numpy as np

from ..ops.convolution import _conv_vjp_np, conv_np, input_grad_np
from .ir import Unsupported
from . import ir
from .vjp import RULES


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


ir.IMPL.update(conv=conv, conv_dw=conv_dw, conv_dx=conv_dx)


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
