"""``tril`` / ``triu`` as replay nodes, as eager composes them (``numpy_dispatch/composites``):
``where(mask, x, 0)`` with the triangle's mask over the last two dims, a constant of the traced
shape and ``diagonal``; the ``where`` node's VJP keeps the cotangent inside the triangle."""

import numpy as np

from ..tensor import Tensor
from . import ir
from .ir import Unsupported


def resolve(L):
    """The tracer's view of the shared closure: the op its ``name`` says."""
    return L["name"], {"input": L["input"], "diagonal": L["diagonal"]}


def triangle(tr, name, a, result):
    x = a["input"]
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.ndim < 2 or x.is_cuda:
        raise Unsupported(f"{name} of these operands")
    mask = (np.tril if name == "tril" else np.triu)(np.ones(x.shape[-2:], bool),
                                                    int(a["diagonal"]))
    zero = tr.g.emit("const", (), False, value=ir.norm(np.zeros((), x.dtype)))
    tr.out(result, tr.e("where", (tr.g.emit("const", (), False, value=mask), tr.v(x), zero)),
           name)


HANDLERS = {"tril": triangle, "triu": triangle}
