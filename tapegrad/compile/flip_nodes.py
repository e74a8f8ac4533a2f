"""``flip`` as a replay node: eager's values (``np.flip`` of the input, copied, as
``ops/movement.flip``); its own VJP (the cotangent flipped back), so gradients of any order stay
in the program."""

import numpy as np

from ..ops.shapes import norm_dims
from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES


def flip(p, x):
    return ir.norm(np.flip(np.asarray(x), p["axes"]).copy())


ir.IMPL["flip"] = flip
RULES["flip"] = lambda b, n, g: [b.e("flip", g, **n.params)]


def flip_handler(tr, name, a, result):
    x, dims = a["input"], a["dims"]
    if dims is None:
        args = a["args"]
        dims = args[0] if len(args) == 1 else args
    if not isinstance(x, Tensor) or not isinstance(result, Tensor) or x.is_cuda:
        raise Unsupported(f"{name} of these operands")
    axes = tuple(norm_dims(dims, x.ndim)) if x.ndim else ()
    tr.out(result, tr.e("flip", (tr.v(x),), axes=axes), name)


HANDLERS = {"flip": flip_handler}
