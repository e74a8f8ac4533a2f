"""``F.binary_cross_entropy`` (probabilities in) as replay nodes, with eager's and PyTorch's
derivatives.

``bce`` is the per-element loss with the logs bounded at -100; its VJP in the probability is
``bce_grad``, ``g (x - t) / max((1 - x) x, 1e-12)`` (finite at 0 and 1, where a clamped log's
slope would give ``0 * inf``), in the target ``-g logit(x)``. ``bce_grad``'s own VJP is composed
of existing nodes as eager re-tapes it (PyTorch's double-backward formulas), so gradients of
any order stay in the program. A guard checks the input's range on each replay (one outside
[0, 1] runs eagerly, which raises PyTorch's error). Weights and the reduction are ordinary
nodes, as eager computes them.
"""

import numpy as np

from ..ops import bce as _bce
from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES


def bce(p, x, t):
    return _bce._loss_values(x, t)


def bce_grad(p, g, x, t):
    return _bce._dx_np(np.asarray(g, x.dtype), x, t)


def neglogit(p, x):
    with np.errstate(divide="ignore"):  # (infinite at 0 and 1, silently as eager and PyTorch)
        return -np.log(x / (1 - x))


def bce_range_ok(p, x):
    return bool(not (np.any(x < 0) or np.any(x > 1) or np.any(np.isnan(x))))


ir.IMPL.update(bce=bce, bce_grad=bce_grad, bce_range_ok=bce_range_ok, neglogit=neglogit)


def _bce_vjp(b, n, g):
    x, t = n.ins
    dx = b.e("bce_grad", g, x, t) if b.g.rg[x] else None
    dt = None
    if b.g.rg[t]:  # -g log(x / (1 - x)), as eager
        dt = b.e("mul", b.e("neglogit", x), g)
    return [dx, dt]


def _neglogit_vjp(b, n, g):  # -g / (x (1 - x))
    (x,) = n.ins
    return [b.e("div", b.e("neg", g), b.e("mul", x, b.e("rsubc", x, c=1.0)))]


def _bce_grad_vjp(b, n, gg):
    g, x, t = n.ins
    e = _bce._DOUBLE_EPS
    rg = b.g.rg
    both = b.e("mul", gg, g) if rg[x] or rg[t] else None
    dx = dt = None
    if rg[x]:  # (x x - 2 x t + t) / ((x + e)^2 (1 - x + e)^2) gg g
        num = b.e("add", b.e("sub", b.e("mul", x, x), b.e("mul", b.e("mulc", x, c=2.0), t)), t)
        den = b.e("mul", b.e("powc", b.e("addc", x, c=e), c=2),
                  b.e("powc", b.e("addc", b.e("rsubc", x, c=1.0), c=e), c=2))
        dx = b.e("mul", b.e("div", num, den), both)
    if rg[t]:  # -gg g / max((1 - x) x, e)
        bound = b.e("clamp", b.e("mul", b.e("rsubc", x, c=1.0), x), lo=e, hi=np.inf)
        dt = b.e("div", b.e("neg", both), bound)
    return [b.e("bce_grad", gg, x, t) if rg[g] else None, dx, dt]


RULES["bce"] = _bce_vjp
RULES["bce_grad"] = _bce_grad_vjp
RULES["neglogit"] = _neglogit_vjp


def binary_cross_entropy(tr, name, a, result):
    x, t, w = a["input"], a["target"], a["weight"]
    if a.get("size_average") is not None or a.get("reduce") is not None or \
            a["reduction"] not in ("none", "mean", "sum"):
        raise Unsupported(f"{name} with the legacy size_average/reduce arguments")
    if not isinstance(x, Tensor) or not isinstance(t, Tensor) or x.shape != t.shape or \
            x.dtype != t.dtype or x.dtype.kind != "f" or x.ndim == 0 or \
            w is not None and not isinstance(w, Tensor):
        raise Unsupported(f"{name} of targets of another shape or dtype, or a 0-d input")
    xv = tr.v(x)
    ok = tr.g.emit("bce_range_ok", (xv,), False)
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{name}: an input outside [0, 1]")
    vid = tr.e("bce", (xv, tr.v(t)))
    if w is not None:
        vid = tr.e("mul", (vid, tr.v(w)))
    if a["reduction"] != "none":
        vid = tr.e("sum", (vid,), axis=None, keepdims=False)
    if a["reduction"] == "mean":
        vid = tr.e("divc", (vid,), c=int(np.prod(x.shape)))
    tr.out(result, vid, name)
