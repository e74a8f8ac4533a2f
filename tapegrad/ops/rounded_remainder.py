"""``fmod`` and ``remainder`` of CPU float tensors as ops of their own (``FmodBackward1``,
``RemainderBackward1``), with PyTorch's derivatives: ``g`` for the dividend, ``-g * q`` for the
divisor, ``q`` the quotient rounded as the op rounds it (``trunc(x / y)``; Python's floor
division), wherever it is: also where the divisor is infinite or NaN (a composition
``x - y * q`` cannot be evaluated there, ``inf * q``). The values are NumPy's. Under
``create_graph`` the divisor's gradient is an op of the inputs with a zero derivative, as
PyTorch's (``-g * div(x, y, rounding_mode=...)``).
"""

import numpy as np

from ..registry import Op, defop
from ..tensor import Tensor, _wrap
from . import record as R
from .copysign_op import _HOST, applies  # noqa: F401 (applies: the operands these ops take)
from .movement import broadcast_to

_FMOD, _REMAINDER = int(Op.FMOD), int(Op.REMAINDER)
_QUOTIENT = {_FMOD: lambda a, b: np.trunc(a / b), _REMAINDER: np.floor_divide}


def _quotient(op, inputs):
    x, y = (np.asarray(a) for a in inputs)
    with np.errstate(all="ignore"):
        return np.asarray(_QUOTIENT[op](x, y), x.dtype)


def _vjp_np(op):
    def vjp_np(g, inputs, out, **_):
        g = np.asarray(g)
        return g, -g * _quotient(op, inputs)
    return vjp_np


def _vjp(op):
    def vjp(g, inputs, out, **_):
        from .backward_ops import depends
        from .elementwise import mul, neg

        x, y = inputs
        q = depends(_make_const(_quotient(op, (x.detach()._arr(), y.detach()._arr()))),
                    [t for t in (x, y) if t.requires_grad])
        return g, mul(neg(g), q)
    return vjp


def _make_const(a):
    from ..tensor import _make

    return _make(_wrap(a))


def _jvp_np(op):
    def jvp_np(tangents, inputs, out, **_):
        tx, ty = tangents
        r = 0.0 if tx is None else tx
        return r if ty is None else r - ty * _quotient(op, inputs)
    return jvp_np


for _op, _name, _node in ((Op.FMOD, "fmod", "FmodBackward1"),
                          (Op.REMAINDER, "remainder", "RemainderBackward1")):
    defop(_op, _name, "python", _node, vjp=_vjp(int(_op)), vjp_np=_vjp_np(int(_op)),
          jvp_np=_jvp_np(int(_op)))

def rounded_remainder(name, value, x, y):
    """``value`` (NumPy's fmod or remainder of ``x`` and ``y``) recorded as the op ``name``."""
    shape = np.shape(value)
    x = x if x.shape == shape else broadcast_to(x, shape)
    y = y if y.shape == shape else broadcast_to(y, shape)
    op = _FMOD if name == "fmod" else _REMAINDER
    return R.python_result(_wrap(value), op, (x, y), save_inputs=(0, 1))


def values_only(x, y):
    """Whether ``fmod``/``remainder`` of the tensors ``x`` and ``y`` is their values alone: plain
    CPU tensors, neither requiring grad nor a forward-mode dual, outside ``tg.compile``'s tracer."""
    return type(x) is Tensor and type(y) is Tensor and type(x._data) in _HOST and \
        type(y._data) in _HOST and not R.needs_grad(x, y) and not R.compile_tracing()
