"""Ops eager composes of others, replayed as the same composition, so the replay computes what
eager does and the nodes' VJPs give every order of gradient: ``tril`` / ``triu``
(``numpy_dispatch/composites``: ``where(mask, x, 0)`` with the triangle's mask over the last two
dims, a constant of the traced shape and ``diagonal``) and ``rsqrt`` (``ops/extra.rsqrt``:
``1.0 / sqrt(x)`` of a floating tensor, an ``rdivc`` over a ``sqrt`` node)."""

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


def rsqrt(tr, name, a, result):
    x = a["input"]
    if not isinstance(x, Tensor) or x.dtype.kind != "f" or not isinstance(result, Tensor):
        raise Unsupported(f"{name} of an integer or complex tensor")
    tr.out(result, tr.e("rdivc", (tr.e("sqrt", (tr.v(x),)),), c=1.0), name)


HANDLERS = {"tril": triangle, "triu": triangle, "rsqrt": rsqrt}
