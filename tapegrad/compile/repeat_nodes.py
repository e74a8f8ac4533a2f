"""``x.repeat(*sizes)`` and ``repeat_interleave`` with number repeats as replay nodes, as eager
computes them (``ops/extra``): the input's flat positions tiled (``np.tile``) or repeated
(``np.repeat``), a constant of the traced shape and sizes, and the values gathered there by
``take_nodes``' ``take``, whose VJP adds the cotangent at those positions (in eager's order),
so gradients of any order stay in the program. Tensor repeats run eagerly."""

import numpy as np

from ..ops.extra import _ids
from ..ops.shapes import norm_dim
from ..size import int_sizes, keyword_size
from ..tensor import Tensor
from .ir import Unsupported


def _gathered(tr, name, x, flat, result):
    pos = tr.g.emit("const", (), False, value=np.ascontiguousarray(flat, np.int64))
    vid = tr.e("take", (tr.e("reshape", (tr.v(x),), shape=(-1,)), pos), axis=0)
    tr.out(result, vid, name)


def repeat(tr, name, a, result):
    x, sizes = a["input"], a["sizes"]
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.is_cuda:
        raise Unsupported(f"{name} of these operands")
    if a["repeats"] is not None:
        sizes = keyword_size("repeat", sizes, a["repeats"], "repeats")
    sizes = int_sizes("repeat", sizes, "repeats")
    ids = _ids(x.shape).reshape((1,) * (len(sizes) - x.ndim) + x.shape)
    _gathered(tr, name, x, np.tile(ids, sizes), result)


def repeat_interleave(tr, name, a, result):
    x, repeats, dim = a["input"], a["repeats"], a["dim"]
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.is_cuda or \
            isinstance(repeats, (Tensor, np.ndarray)) or not isinstance(repeats, int):
        raise Unsupported(f"{name} with tensor repeats")
    ids = _ids(x.shape)
    if dim is None:
        flat = np.repeat(ids.reshape(-1), repeats)
    else:
        flat = np.repeat(ids.reshape(ids.shape or (1,)), repeats,
                         axis=norm_dim(int(dim), max(x.ndim, 1)))
    _gathered(tr, name, x, flat, result)


HANDLERS = {"repeat": repeat, "repeat_interleave": repeat_interleave}
