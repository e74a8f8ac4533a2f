"""``F.avg_pool2d`` as replay nodes (4-D input; kernel, stride, padding, count_include_pad and
divisor_override as PyTorch; ceil_mode still runs eagerly).

Two primitives, both linear, each the other's VJP, so gradients of any order stay in the
program: ``avgpool`` (each window of the zero-padded input summed, divided by its count: the
window's elements inside the input, or inside input and padding with ``count_include_pad``, or
``divisor_override``) and ``avgpool_grad`` (the cotangent divided by those counts, added back
over each window's positions, the padding cropped).
"""

import numpy as np

from . import ir
from .conv_nodes import _pair, _win
from .ir import Unsupported
from .vjp import RULES


def _counts(p, H, W, dtype):
    """(Ho, Wo): each window's divisor."""
    if p["divisor"]:
        return np.asarray(float(p["divisor"]), dtype)
    (p0, p1) = p["padding"]
    ones = np.zeros((1, 1, H + 2 * p0, W + 2 * p1), dtype)
    if p["include_pad"]:
        ones[:] = 1.0
    else:
        ones[:, :, p0:p0 + H, p1:p1 + W] = 1.0
    return _win(ones, p["kernel"], p["stride"], (0, 0)).sum(axis=(4, 5))[0, 0]


def avgpool(p, x):
    total = _win(x, p["kernel"], p["stride"], p["padding"]).sum(axis=(4, 5))
    return np.ascontiguousarray(total / _counts(p, *x.shape[2:], x.dtype))


def avgpool_grad(p, g):
    (s0, s1), (p0, p1), (k0, k1) = p["stride"], p["padding"], p["kernel"]
    B, C, H, W = p["xshape"]
    Ho, Wo = g.shape[2:]
    share = g / _counts(p, H, W, g.dtype)
    out = np.zeros((B, C, H + 2 * p0, W + 2 * p1), share.dtype)
    for i in range(k0):
        for j in range(k1):
            out[:, :, i:i + s0 * Ho:s0, j:j + s1 * Wo:s1] += share
    return np.ascontiguousarray(out[:, :, p0:p0 + H, p1:p1 + W])


ir.IMPL.update(avgpool=avgpool, avgpool_grad=avgpool_grad)
RULES["avgpool"] = lambda b, n, g: [b.e("avgpool_grad", g, **n.params)]
RULES["avgpool_grad"] = lambda b, n, u: [b.e("avgpool", u, **n.params)]


def avg_pool2d(tr, name, a, result):
    x = tr.v(a["input"])
    k = _pair(a["kernel_size"])
    st = a["stride"]
    s = k if st is None or isinstance(st, (list, tuple)) and not st else _pair(st)
    if len(tr.g.shape(x)) != 4 or a["ceil_mode"] or tr.g.dtype(x).kind != "f":
        raise Unsupported(f"{name} of 3-d input or with ceil_mode")
    tr.out(result, tr.e("avgpool", (x,), kernel=k, stride=s, padding=_pair(a["padding"]),
                        include_pad=bool(a["count_include_pad"]),
                        divisor=a["divisor_override"] or None, xshape=tr.g.shape(x)), name)
