"""``masked_fill`` and the logical ops (``logical_and/or/not``) as replay nodes.

``masked_fill(x, mask, value)`` is eager's ``where(mask, value, x)`` (the input broadcast to a
larger mask, a number filled in the input's dtype, a 0-d tensor value cast to it), so its
gradient is the ``where`` node's: the cotangent outside the mask to the input, its sum over the
mask to a tensor value. The logical ops give masks (no gradient), as NumPy's ufuncs eagerly;
``F.hardtanh``'s composition reads them.
"""

import numpy as np

from ..promotion import fill_number
from ..tensor import Tensor
from . import ir
from .ir import Unsupported

_LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or}

for _name, _uf in _LOGICAL.items():
    ir.IMPL[_name] = (lambda uf: lambda p, a, b: np.asarray(uf(a, b)))(_uf)
ir.IMPL["logical_not"] = lambda p, a: np.asarray(np.logical_not(a))


def logical(tr, name, a, result):
    from .handlers import _first

    ins = [tr.v(_first(a, "input", "x"))]
    if name != "logical_not":
        ins.append(tr.v(_first(a, "other", "y")))
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


HANDLERS = {"masked_fill": masked_fill, **{n: logical for n in (*_LOGICAL, "logical_not")}}
