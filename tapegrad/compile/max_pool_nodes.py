"""``F.max_pool1d/2d/3d`` as replay nodes (batched or not; kernel, stride, padding, dilation,
ceil_mode and return_indices as PyTorch).

Three primitives: ``pool`` (each window's maximum), ``pool_grad`` (the cotangent added to each
window's maximum) and ``pool_pick`` (the cotangent read back at those positions); the last two
are each other's VJP, so gradients of any order stay in the program. The positions are eager's
(``ops/convolution.py``'s ``max_positions``: the first largest value, the last NaN, as
PyTorch; ``empty_windows`` for a dilated window holding padding only), the values gathered and
the gradient scattered in eager's order, so a replay computes what eager does; ``pool_where``
(no gradient) gives the indices.
"""

import math

import numpy as np

from ..nn.convolution import _out_size
from ..ops.convolution import empty_windows, max_positions
from . import ir
from .conv_nodes import _tuple
from .ir import Unsupported
from .vjp import RULES


def _positions(p, x):
    """``(flat, inside)``: per window, the flat index into ``x`` its gradient goes to, and
    whether it goes anywhere (None: every window's does)."""
    kernel, stride, dilation, pads, outs = (p[k] for k in ("kernel", "stride", "dilation",
                                                           "pads", "outs"))
    where, empty = empty_windows(max_positions(x, kernel, stride, dilation, pads, outs),
                                 x.shape[2:], kernel, stride, dilation, pads)
    plane = math.prod(x.shape[2:])
    inside = None if empty is None else where < plane
    at = where if inside is None else np.where(inside, where, 0)
    N, C = x.shape[:2]
    flat = at.reshape(N * C, -1) + (np.arange(N * C) * plane)[:, None]
    return flat.reshape(-1), inside, where, empty


def pool(p, x):
    flat, inside, where, empty = _positions(p, x)
    values = x.reshape(-1)[flat].reshape(where.shape)
    if empty is not None:  # (eager's padding_windows: -inf, a padding-only window's value)
        minus_inf = np.where(empty, -np.inf, 0.0).astype(values.dtype)
        values = np.where(inside, values + minus_inf, np.array(-np.inf, values.dtype))
    return values


def pool_where(p, x):  # (return_indices: eager's indices, the flat position in each plane)
    return _positions(p, x)[2]


def pool_grad(p, g, x):
    flat, inside, _, _ = _positions(p, x)
    g = np.reshape(g, -1)
    if inside is not None:
        g = np.where(inside.reshape(-1), g, 0.0)
    z = np.zeros(x.size, np.result_type(g, x))
    np.add.at(z, flat, g)  # (in eager's order: the gather's VJP adds them one by one)
    return z.reshape(x.shape)


def pool_pick(p, u, x):
    flat, inside, where, _ = _positions(p, x)
    picked = np.reshape(u, -1)[flat].reshape(where.shape)
    return picked if inside is None else np.where(inside, picked, 0.0).astype(picked.dtype)


ir.IMPL.update(pool=pool, pool_grad=pool_grad, pool_pick=pool_pick, pool_where=pool_where)
RULES["pool"] = lambda b, n, g: [b.e("pool_grad", g, n.ins[0], **n.params)]
RULES["pool_grad"] = lambda b, n, u: [b.e("pool_pick", u, n.ins[1], **n.params), None]
RULES["pool_pick"] = lambda b, n, g: [b.e("pool_grad", g, n.ins[1], **n.params), None]


def max_pool(tr, name, a, result):
    """``max_pool{1,2,3}d``, batched or not: eager's positions, its output sizes and its
    padding past the input for ``ceil_mode``."""
    nd = int(name[8])
    x = tr.v(a["input"])
    shape, dtype = tr.g.shape(x), tr.g.dtype(x)
    if len(shape) not in (nd + 1, nd + 2) or dtype not in (np.float32, np.float64):
        raise Unsupported(f"{name} of a {dtype} input")
    k = _tuple(a["kernel_size"], nd)
    st = a["stride"]
    s = k if st is None or isinstance(st, (list, tuple)) and not st else _tuple(st, nd)
    pad, dil = _tuple(a["padding"], nd), _tuple(a["dilation"], nd)
    if len(shape) == nd + 1:  # (unbatched: a batch of one, as eager)
        x = tr.e("reshape", (x,), shape=(1,) + shape)
    xs = tr.g.shape(x)[2:]
    outs = tuple(_out_size(n, kk, ss, q, d, a["ceil_mode"]) for n, kk, ss, q, d in
                 zip(xs, k, s, pad, dil))
    # (as eager: the right padding a ceil_mode window may reach past the input's padding)
    pads = tuple((q, max((o - 1) * ss + d * (kk - 1) + 1 - n - q, 0)) for n, kk, ss, q, d, o
                 in zip(xs, k, s, pad, dil, outs))
    p = dict(kernel=k, stride=s, dilation=dil, pads=pads, outs=outs)
    vids = [tr.e("pool", (x,), **p)]
    if a["return_indices"]:  # (values and indices)
        vids.append(tr.e("pool_where", (x,), **p))
    results = result if a["return_indices"] else (result,)
    if len(results) != len(vids):
        raise Unsupported(f"{name} returned a {type(result).__name__}")
    for res, vid in zip(results, vids):
        if len(shape) == nd + 1:
            vid = tr.e("reshape", (vid,), shape=tr.g.shape(vid)[1:])
        tr.out(res, vid, name)
