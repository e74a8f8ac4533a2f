"""``clamp`` (``clip``) with number bounds, and ``var`` / ``std``, as replay nodes.

``clamp``: one primitive with eager's values (NaN stays NaN) whose VJP is
``where(lo <= x <= hi, g, 0)`` (``clamp_keep`` is the test), eager's and PyTorch's gradient,
boundaries included. ``var`` / ``std`` are composed of existing primitives as eager computes
them, ``sum((x - mean)^2) / (n - correction)``, so their gradients of any order follow; ``std``
is the root with eager's mask where the variance is 0 (gradient 0 there, not NaN)."""

import numpy as np

from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES


def clamp(p, x):
    lo, hi = p["lo"], p["hi"]
    if type(x) is float:
        return x if x != x else (lo if x < lo else hi if x > hi else x)
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)


def clamp_keep(p, x):
    return np.asarray((x >= p["lo"]) & (x <= p["hi"]))


ir.IMPL["clamp"] = clamp
ir.IMPL["clamp_keep"] = clamp_keep


def _clamp_vjp(b, n, g):
    keep = b.e("clamp_keep", n.ins[0], **n.params)
    return [b.e("where", keep, g, b.g.emit("const", (), False, value=0.0))]


RULES["clamp"] = _clamp_vjp


def clamp_handler(tr, name, a, result):
    x = a.get("input", a.get("x", a.get("self")))
    lo, hi = a.get("min"), a.get("max")
    if isinstance(lo, Tensor) or isinstance(hi, Tensor) or not isinstance(x, Tensor) or \
            x.dtype.kind != "f" or not isinstance(result, Tensor):
        raise Unsupported(f"{name} with tensor bounds or of a non-float tensor")
    lo = -np.inf if lo is None else float(lo)
    hi = np.inf if hi is None else float(hi)
    tr.out(result, tr.e("clamp", (tr.v(x),), lo=lo, hi=hi), name)


def var_handler(tr, name, a, result):
    from ..ops.reduce import _correction, _reduce_dims

    x = a["input"]
    if not isinstance(x, Tensor) or x.dtype.kind != "f" or not isinstance(result, Tensor):
        raise Unsupported(f"{name} of a non-float tensor")
    dim, correction = _correction(a["dim"], a["unbiased"], a["correction"])
    v = tr.v(x)
    if x.dtype == np.float16:
        raise Unsupported(f"{name} of a float16 tensor")
    shape = tr.g.shape(v)
    dims = tuple(sorted(_reduce_dims(dim, x.ndim)))
    n = int(np.prod([shape[d] for d in dims])) if shape else 1
    if n - correction <= 0 or not shape:
        raise Unsupported(f"{name} without degrees of freedom or of a 0-d tensor")
    mean = tr.e("divc", (tr.e("sum", (v,), axis=dims, keepdims=True),), c=n)
    dev = tr.e("sub", (v, mean))
    out = tr.e("divc", (tr.e("sum", (tr.e("mul", (dev, dev)),), axis=dims,
                             keepdims=bool(a["keepdim"])),), c=float(n - correction))
    if name == "std":  # where(v == 0, 0, sqrt(where(v == 0, 1, v))), as eager's
        zero = tr.e("eq", (out, tr.v(0.0)))
        root = tr.e("sqrt", (tr.e("where", (zero, tr.v(1.0), out)),))
        out = tr.e("where", (zero, tr.v(0.0), root))
    tr.out(result, out, name)
