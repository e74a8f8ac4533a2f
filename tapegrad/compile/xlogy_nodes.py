"""``xlogy`` and ``special.xlog1py`` as replay nodes, with the eager op's values and first
derivatives (``ops/xlogy_op.py``: 0 where ``x == 0`` unless ``y`` is NaN; PyTorch's gradient
edges). Three primitives: ``xlogy`` (the value), ``xlogy_dx`` and ``xlogy_dy`` (its VJP in
each operand, at cotangent ``g``); the VJP nodes have no VJP of their own, so a second
derivative through them is refused and that call runs eagerly."""

import numpy as np

from ..ops import xlogy_op as _X
from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES

_FORMS = {"xlogy": _X._XLOGY, "xlog1py": _X._XLOG1PY}


def _cast(v, x, y):
    """``v`` in the operands' dtype (NumPy would promote a float32 array by a Python float's
    log to float64 only where both are numbers)."""
    dt = next((a.dtype for a in (x, y) if type(a) is np.ndarray), None)
    v = np.asarray(v)
    return v if dt is None or v.dtype == dt else v.astype(dt)


def value(p, x, y):
    return _cast(_X._values(_FORMS[p["form"]], x, y), x, y)


def dx(p, g, x, y):
    """``d/dx`` at cotangent ``g``: ``xlogy(g, y)``, 0 where ``x == 0`` and ``y`` is at or
    below the log's pole."""
    op = _FORMS[p["form"]]
    return _cast(_X._values(op, g, y, _X._dead(op, x, y)), g, y)


def dy(p, g, x, y):
    """``d/dy`` at cotangent ``g``: ``g * x / y`` (``/ (y + 1)``), NaN at ``x = y = 0``."""
    shift = 1.0 if p["form"] == "xlog1py" else 0.0
    with np.errstate(all="ignore"):
        return _cast(np.asarray(g * x) / (y + shift if shift else y), g, y)


ir.IMPL["xlogy"] = value
ir.IMPL["xlogy_dx"] = dx
ir.IMPL["xlogy_dy"] = dy


def _vjp(b, node, g):
    x, y = node.ins
    form = node.params["form"]
    return [b.sum_to(b.e("xlogy_dx", g, x, y, form=form), b.shape(x)),
            b.sum_to(b.e("xlogy_dy", g, x, y, form=form), b.shape(y))]


def _refused(b, node, g):
    raise Unsupported("a second derivative of xlogy/xlog1py")


RULES["xlogy"] = _vjp
RULES["xlogy_dx"] = RULES["xlogy_dy"] = _refused


def handler(form):
    """The handler of the eager op ``form`` (``xlogy`` or ``xlog1py``)."""

    def handle(tr, name, a, result):
        from .handlers import _in

        if not isinstance(result, Tensor) or result.dtype.kind != "f":
            raise Unsupported(f"{name} of these operands")
        x, y = a["input"], a["other"]
        tr.out(result, tr.e("xlogy", (_in(tr, x, result), _in(tr, y, result)), form=form),
               name)

    return handle
