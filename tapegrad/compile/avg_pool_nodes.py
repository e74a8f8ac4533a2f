"""``F.avg_pool1d/2d/3d`` as replay nodes (batched or not; kernel, stride, padding, ceil_mode,
count_include_pad and divisor_override as PyTorch).

Two primitives, both linear, each the other's VJP, so gradients of any order stay in the
program: ``avgpool`` (each window's mean) and ``avgpool_grad`` (the cotangent spread back over
each window, divided by its divisor). Both are eager's array functions (``ops/avg_pool.py``'s
``_pool_np`` and ``_unpool_np``, its compiled window loop over the windows' bounds and divisors
as ``pool_geometry`` gives them), so a replay computes what eager does.
"""

import numpy as np

from ..ops.avg_pool import _pool_np, _unpool_np, avg_params
from . import ir
from ..nn.convolution import _out_size
from .conv_nodes import _tuple
from .ir import Unsupported
from .vjp import RULES


def avgpool(p, x):
    return _pool_np(x, p["eager"])


def avgpool_grad(p, g):
    return _unpool_np(g, p["eager"])


ir.IMPL.update(avgpool=avgpool, avgpool_grad=avgpool_grad)
RULES["avgpool"] = lambda b, n, g: [b.e("avgpool_grad", g, **n.params)]
RULES["avgpool_grad"] = lambda b, n, u: [b.e("avgpool", u, **n.params)]


def avg_pool(tr, name, a, result):
    """``avg_pool{1,2,3}d``, batched or not, ``ceil_mode`` too: eager's one op with eager's
    output sizes."""
    nd = int(name[8])
    x = tr.v(a["input"])
    k = _tuple(a["kernel_size"], nd)
    st = a["stride"]
    s = k if st is None or isinstance(st, (list, tuple)) and not st else _tuple(st, nd)
    pad = _tuple(a["padding"], nd)
    shape, dtype = tr.g.shape(x), tr.g.dtype(x)
    if len(shape) not in (nd + 1, nd + 2) or dtype not in (np.float32, np.float64):
        raise Unsupported(f"{name} of a {dtype} input")
    if len(shape) == nd + 1:  # (unbatched: a batch of one, as eager)
        x = tr.e("reshape", (x,), shape=(1,) + shape)
    xs = tr.g.shape(x)
    outs = [_out_size(n, kk, ss, q, 1, a["ceil_mode"]) for n, kk, ss, q in
            zip(xs[2:], k, s, pad)]
    eager = avg_params(xs, dtype, k, s, pad, outs, bool(a["count_include_pad"]),
                       a.get("divisor_override"))
    vid = tr.e("avgpool", (x,), eager=eager)
    if len(shape) == nd + 1:
        vid = tr.e("reshape", (vid,), shape=tr.g.shape(vid)[1:])
    tr.out(result, vid, name)
