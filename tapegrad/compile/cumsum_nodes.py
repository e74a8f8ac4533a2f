"""``cumsum`` as replay nodes: ``cumsum`` (the running sum along an axis) and ``cumsum_rev``
(summed from the axis's end: cumsum's VJP), each the other's VJP, so gradients of any order
stay in the program. Both call eager's array functions (``ops/cumulative.py``: its compiled
running sums or NumPy's ``add.accumulate``, as eager picks them by size and dtype), so a replay
computes what eager does. ``dtype=`` casts first (eager accumulates each element in it)."""

import numpy as np

from ..ops.cumulative import _compiled, _cumsum_vjp_np, running
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES


def cumsum(p, x):
    x = np.asarray(x)
    d = p["axis"]
    if _compiled(x):
        return running(x, d)
    with np.errstate(all="ignore"):  # (eager's overflow is silent, as PyTorch)
        v = np.add.accumulate(x, axis=d)
    return v.astype(np.int64) if v.dtype.kind in "biu" else v


def cumsum_rev(p, g):
    g = np.asarray(g)
    return _cumsum_vjp_np(g, None, None, p["axis"])[0].astype(g.dtype, copy=False)


ir.IMPL.update(cumsum=cumsum, cumsum_rev=cumsum_rev)
RULES["cumsum"] = lambda b, n, g: [b.e("cumsum_rev", g, **n.params)]
RULES["cumsum_rev"] = lambda b, n, g: [b.e("cumsum", g, **n.params)]


def cumsum_handler(tr, name, a, result):
    x, dtype = a["input"], a.get("dtype")
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.is_cuda or \
            result.dtype.kind not in "fbiu" or x.dtype.kind == "c":
        raise Unsupported(f"{name} of these operands")
    vid = tr.v(x)
    if x.ndim == 0:
        if dtype is not None and np.dtype(dtype) != x.dtype:
            vid = tr.e("astype", (vid,), dtype=np.dtype(dtype))
        tr.out(result, tr.e("copy", (vid,)), name)
        return
    if dtype is not None and np.dtype(dtype) != x.dtype:
        vid = tr.e("astype", (vid,), dtype=np.dtype(dtype))
    tr.out(result, tr.e("cumsum", (vid,), axis=norm_dim(int(a["dim"]), x.ndim)), name)


HANDLERS = {"cumsum": cumsum_handler}
