"""``max(x, dim)`` / ``min(x, dim)`` (values and indices) as replay nodes, as eager computes
them (``ops/reduce._max_dim``): the first extremum's index along the dim (``arg_extremum``, no
gradient), its flat position in the input (``dim_positions``, no gradient) and the values
gathered there by ``take_nodes``' ``take``, whose VJP adds the cotangent at those positions
(the gradient routed to the first extremum, as eager and PyTorch), so gradients of any order
stay in the program."""

import numpy as np

from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import ir
from .ir import Unsupported


def dim_positions(p, x):
    xm = np.asarray(x)
    xm = xm.reshape(1) if xm.ndim == 0 else xm
    f, d = np.argmax if p["kind"] == "max" else np.argmin, p["axis"]
    idx = np.asarray(f(xm, axis=d, keepdims=True), np.int64)
    flat = np.take_along_axis(np.arange(xm.size, dtype=np.int64).reshape(xm.shape), idx, d)
    return flat.reshape(p["shape"])


ir.IMPL["dim_positions"] = dim_positions


def max_dim(tr, name, x, dim, keepdim, result):
    if not isinstance(x, Tensor) or not isinstance(result, tuple) or len(result) != 2 or \
            x.is_cuda or x.dtype.kind not in "fiu":
        raise Unsupported(f"{name} over a dim of these operands")
    values, indices = result
    d = norm_dim(int(dim), max(x.ndim, 1))
    a = tr.v(x)
    flat = tr.e("dim_positions", (a,), kind=name, axis=d, shape=tuple(values.shape))
    vid = tr.e("take", (tr.e("reshape", (a,), shape=(-1,)), flat), axis=0)
    tr.out(values, vid, name)
    tr.out(indices, tr.e("arg_extremum", (a,), kind="arg" + name, dim=d if x.ndim else 0,
                         keepdim=bool(keepdim)), name)
