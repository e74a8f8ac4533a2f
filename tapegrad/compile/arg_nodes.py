"""``argmax`` / ``argmin`` as replay nodes: eager's NumPy call (``ops/reduce.py``: the first
extremum's position, int64, over one dim or the flattened input, ``keepdim`` as there); no
gradient. Complex and bool input, and an empty reduction, raise eagerly before a trace."""

import numpy as np

from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import ir
from .ir import Unsupported

_FUNCS = {"argmax": np.argmax, "argmin": np.argmin}


def arg_extremum(p, x):
    f, xd, dim, keepdim = _FUNCS[p["kind"]], np.asarray(x), p["dim"], p["keepdim"]
    if dim is None:
        i = np.asarray(f(xd.reshape(-1)), dtype=np.int64)
        return i.reshape((1,) * xd.ndim) if keepdim else i
    if xd.ndim == 0:
        return np.zeros((), np.int64)
    return np.asarray(f(xd, axis=dim, keepdims=keepdim), dtype=np.int64)


ir.IMPL["arg_extremum"] = arg_extremum


def resolve(L):
    """The tracer's view of the shared closure: the op its ``name`` says."""
    return L["name"], {"x": L["x"], "dim": L["dim"], "keepdim": L["keepdim"]}


def handler(tr, name, a, result):
    x, dim = a["x"], a["dim"]
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.is_cuda:
        raise Unsupported(f"{name} of these operands")
    d = None if dim is None else 0 if x.ndim == 0 else norm_dim(int(dim), x.ndim)
    tr.out(result, tr.e("arg_extremum", (tr.v(x),), kind=name, dim=d,
                        keepdim=bool(a["keepdim"])), name)


HANDLERS = {"argmax": handler, "argmin": handler}
