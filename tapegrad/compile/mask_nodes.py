"""``masked_fill``, the logical ops (``logical_and/or/not``) and the bitwise ones of bool or
integer tensors (``&``, ``|``, ``^``, ``~``: NumPy's ufuncs on the operands eager casts them to)
as replay nodes.

``masked_fill(x, mask, value)`` is eager's ``where(mask, value, x)`` (the input broadcast to a
larger mask, a number filled in the input's dtype, a 0-d tensor value cast to it), so its
gradient is the ``where`` node's: the cotangent outside the mask to the input, its sum over the
mask to a tensor value. The logical and bitwise ops have no gradient, as eagerly;
``F.hardtanh``'s composition reads them.
"""

import numpy as np

from ..promotion import fill_number
from ..tensor import Tensor
from . import ir
from .ir import Unsupported

_LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or,
            "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
            "bitwise_xor": np.bitwise_xor}

for _name, _uf in _LOGICAL.items():
    ir.IMPL[_name] = (lambda uf: lambda p, a, b: np.asarray(uf(a, b)))(_uf)
ir.IMPL["logical_not"] = lambda p, a: np.asarray(np.logical_not(a))
ir.IMPL["bitwise_not"] = lambda p, a: np.asarray(np.invert(a))  # (a mask's: logical not)


def logical(tr, name, a, result):
    from .handlers import _first, _in

    ins = [tr.v(_first(a, "input", "x"))]
    if name in ("__invert__", "invert", "bitwise_not"):
        if tr.g.dtype(ins[0]).kind not in "iub":
            raise Unsupported(f"{name} of a floating tensor")
        name = "bitwise_not"
    elif name != "logical_not":
        y = _first(a, "other", "y")
        if name.startswith("bitwise"):  # (in the result's dtype: a number is weak, as eager)
            ins = [_in(tr, _first(a, "input", "x"), result), _in(tr, y, result)]
        else:
            ins.append(tr.v(y))
    tr.out(result, tr.e(name, tuple(ins)), name)


def masked_fill(tr, name, a, result):
    from .handlers import _in

    x, mask, value = a["input"], a["mask"], a["value"]
    if not isinstance(x, Tensor) or not isinstance(mask, Tensor) or not isinstance(result,
                                                                                  Tensor):
        raise Unsupported("masked_fill of these operands")
    if isinstance(value, Tensor):
        v = _in(tr, value, result)
    elif isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        dt = result.dtype
        v = tr.g.emit("const", (), False, value=ir.norm(np.asarray(fill_number(value, dt), dt)))
    else:
        raise Unsupported(f"masked_fill with a {type(value).__name__} value")
    tr.out(result, tr.e("where", (tr.v(mask), v, tr.v(x))), name)


HANDLERS = {"masked_fill": masked_fill, **{n: logical for n in (
    *_LOGICAL, "logical_not", "__invert__", "invert", "bitwise_not")}}
