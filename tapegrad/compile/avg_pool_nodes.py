"""``F.avg_pool2d`` as replay nodes (4-D input; kernel, stride, padding, count_include_pad and
divisor_override as PyTorch; ceil_mode still runs eagerly).

Two primitives, both linear, each the other's VJP, so gradients of any order stay in the
program: ``avgpool`` (each window's mean) and ``avgpool_grad`` (the cotangent spread back over
each window, divided by its divisor). Both are eager's array functions (``ops/avg_pool.py``'s
``_pool_np`` and ``_unpool_np``, its compiled window loop over the windows' bounds and divisors
as ``pool_geometry`` gives them), so a replay computes what eager does.
"""

import numpy as np

from ..ops.avg_pool import _pool_np, _unpool_np, avg_params
from . import ir
from .conv_nodes import _pair
from .ir import Unsupported
from .vjp import RULES


def avgpool(p, x):
    return _pool_np(x, p["eager"])


def avgpool_grad(p, g):
    return _unpool_np(g, p["eager"])


ir.IMPL.update(avgpool=avgpool, avgpool_grad=avgpool_grad)
RULES["avgpool"] = lambda b, n, g: [b.e("avgpool_grad", g, **n.params)]
RULES["avgpool_grad"] = lambda b, n, u: [b.e("avgpool", u, **n.params)]


def avg_pool2d(tr, name, a, result):
    x = tr.v(a["input"])
    k = _pair(a["kernel_size"])
    st = a["stride"]
    s = k if st is None or isinstance(st, (list, tuple)) and not st else _pair(st)
    shape, dtype = tr.g.shape(x), tr.g.dtype(x)
    if len(shape) != 4 or a["ceil_mode"] or dtype not in (np.float32, np.float64):
        raise Unsupported(f"{name} of 3-d input or with ceil_mode")
    pad = _pair(a["padding"])
    outs = [(n + 2 * q - kk) // ss + 1 for n, kk, ss, q in zip(shape[2:], k, s, pad)]
    eager = avg_params(shape, dtype, k, s, pad, outs, bool(a["count_include_pad"]),
                       a["divisor_override"])
    tr.out(result, tr.e("avgpool", (x,), eager=eager), name)
