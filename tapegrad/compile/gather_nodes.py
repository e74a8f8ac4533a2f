"""``gather(x, dim, index)`` as replay nodes, as eager computes it (``ops/extra.gather``): the
flat positions of ``x[..., index[p], ...]`` (eager's ``_along_ids``; no gradient) from the
index, a value of the program under a range guard (an index out of range runs eagerly and
raises eager's error), and the values gathered there by ``take_nodes``' ``take``, whose VJP
adds the cotangent at those positions (repeats accumulate), so gradients of any order stay in
the program."""

import numpy as np

from ..ops.extra import _along_ids
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .take_nodes import _positions


def along_positions(p, index):
    idx = np.asarray(index)
    return _along_ids(p["shape"], p["dim"], idx, negative=False).reshape(idx.shape)


ir.IMPL["along_positions"] = along_positions


def gather(tr, name, a, result):
    x, index = a["input"], a["index"]
    if not isinstance(x, Tensor) or not isinstance(index, Tensor) or x.is_cuda or \
            not isinstance(result, Tensor) or x.ndim == 0 or index.ndim != x.ndim:
        raise Unsupported(f"{name} of these operands")
    d = norm_dim(int(a["dim"]), x.ndim)
    idx = _positions(tr, index, name)
    ok = tr.e("index_ok", (idx,), lo=0, hi=x.shape[d])
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{name}: a position is out of range")
    flat = tr.e("along_positions", (idx,), shape=tuple(x.shape), dim=d)
    tr.out(result, tr.e("take", (tr.e("reshape", (tr.v(x),), shape=(-1,)), flat), axis=0),
           name)


HANDLERS = {"gather": gather}
