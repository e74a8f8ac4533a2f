"""``xlogy`` and ``special.xlog1py`` as ops of their own, with PyTorch's derivatives.

``x * log(y)`` (``x * log1p(y)``) is 0 where ``x == 0`` unless ``y`` is NaN, whatever the log
(inf included). PyTorch's derivatives, which no composition of products and logs reproduces
at the edges: in ``x``, ``xlogy(g, y)`` (inf at ``y = inf``, as the log) set to 0 where
``x == 0`` and ``y <= 0`` (``y <= -1``); in ``y``, ``g * x / y`` (``g * x / (y + 1)``: NaN at
``x = y = 0``). The re-taping rule is the same expression in tapegrad ops (``xlogy`` itself,
``masked_fill``, a product and a division), so the second derivatives are PyTorch's as well:
the mixed one through the ``y`` gradient is ``1 / y`` at ``x = 0`` (inf at ``y = 0``).
"""

import functools

import numpy as np

from ..creation import get_default_dtype
from ..registry import Op, defop
from ..tensor import Tensor, _make, _wrap
from . import record as R
from .complex_refusals import refuse_pair
from .cuda_linalg import on_host
from .movement import broadcast_to
from .numpy_rules import tensors_promoted

_XLOGY, _XLOG1PY = int(Op.XLOGY), int(Op.XLOG1PY)
# per op: the log, the shift of y in the y gradient, the y at or below which a zero x's
# gradient is 0
_FORMS = {_XLOGY: (np.log, 0.0, 0.0), _XLOG1PY: (np.log1p, 1.0, -1.0)}


def _values(op, x, y, dead=None):
    """The op's values of NumPy float arrays (or numbers) of one dtype; also 0 where ``dead``
    (a mask or None). The zeros are written into the product only where some are due: the
    masks' tests cost less than a select over every element (large arrays: ~1.5x faster)."""
    with np.errstate(all="ignore"):
        v = np.asarray(x * _FORMS[op][0](y))
        zero = np.asarray(x) == 0
        if zero.any():
            np.copyto(v, 0.0, where=zero & ~np.isnan(y))
        if dead is not None:
            np.copyto(v, 0.0, where=dead)
        return v


def _dead(op, x, y):
    """Where the x gradient is 0: ``x == 0`` and ``y`` at or below the log's pole; None
    where no x is 0."""
    zero = np.asarray(x) == 0
    if not zero.any():
        return None
    with np.errstate(invalid="ignore"):
        dead = zero & (np.asarray(y) <= _FORMS[op][2])
    return dead if dead.any() else None


def _vjp_np(op):
    def vjp_np(g, inputs, out, **_):
        x, y = (np.asarray(a) for a in inputs)
        g = np.asarray(g, x.dtype)
        shift = _FORMS[op][1]
        gx = _values(op, g, y, _dead(op, x, y))
        with np.errstate(all="ignore"):
            gy = np.asarray(g * x)
            gy /= y + shift if shift else y
        return gx, gy
    return vjp_np


def _vjp(op):
    def vjp(g, inputs, out, **_):
        from .extra import masked_fill

        x, y = inputs
        dead = _dead(op, x.detach()._arr(), y.detach()._arr())
        gx = _apply(op, g, y)
        if dead is not None:
            gx = masked_fill(gx, _make(dead), 0.0)
        shift = _FORMS[op][1]
        with np.errstate(all="ignore"):  # (0 / 0 at x = y = 0: NaN, silently as PyTorch's)
            return gx, g * x / (y + shift if shift else y)
    return vjp


def _jvp_np(op):
    def jvp_np(tangents, inputs, out, **_):
        """PyTorch's forward formula: the x tangent's ``xlogy`` (0 where dead) plus the y
        tangent times ``x / y``."""
        x, y = (np.asarray(a) for a in inputs)
        tx, ty = tangents
        shift = _FORMS[op][1]
        with np.errstate(all="ignore"):
            r = 0.0
            if tx is not None:
                r = _values(op, np.asarray(tx), y, _dead(op, x, y))
            if ty is not None:
                r = r + ty * x / (y + shift if shift else y)
        return r
    return jvp_np


def _node_name(params):
    return params.get("name")


for _op, _name, _node in ((Op.XLOGY, "xlogy", "XlogyBackward0"),
                          (Op.XLOG1PY, "xlog1py", "SpecialXlog1PyBackward0")):
    defop(_op, _name, "python", _node, vjp=_vjp(int(_op)), vjp_np=_vjp_np(int(_op)),
          jvp_np=_jvp_np(int(_op)), grad_fn_of=_node_name)


def _apply(op, x, y, node=None):
    """The op of two promoted floating tensors, recorded where one requires grad."""
    value = _wrap(_values(op, x._arr(), y._arr()))
    if not R.needs_grad(x, y):
        return _make(value)
    shape = np.shape(value)
    x = x if x.shape == shape else broadcast_to(x, shape)
    y = y if y.shape == shape else broadcast_to(y, shape)
    return R.python_result(value, op, (x, y), save_inputs=(0, 1),
                           params={"name": node} if node else None)


# CUDA tensors: through the host (ops/cuda_linalg.py); a 0-d CPU tensor may meet CUDA ones,
# as in PyTorch's binary ops (torch.xlogy(x_cuda, torch.tensor(2.)))
_host_taking_cpu_scalars = functools.partial(on_host, scalars=True)


def _scalar_node(input, other, base):
    """PyTorch's node for a Python number among the operands (``...Backward1``: the first,
    ``...Backward2``: the second)."""
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return base + "Backward2"
    if isinstance(input, (int, float)) and not isinstance(input, bool):
        return base + "Backward1"
    return None


def _refuse_numbers(name, input, other):
    """PyTorch's refusal of two numbers (each overload takes a tensor)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            " * (Tensor input, Tensor other, *, Tensor out = None)\n"
            " * (Number self, Tensor other, *, Tensor out = None)\n"
            " * (Tensor input, Number other, *, Tensor out = None)\n")


@_host_taking_cpu_scalars
def xlogy(input, other):
    """``input * log(other)``, 0 where ``input == 0`` unless ``other`` is NaN; PyTorch's
    derivatives (see the module docstring)."""
    _refuse_numbers("xlogy", input, other)
    refuse_pair("xlogy", input, other)  # (its zero tests are real-only)
    x, y = tensors_promoted(input, other)
    if x.dtype.kind != "f" and y.dtype.kind != "f":  # integers: a float result, as PyTorch's
        x, y = x.to(np.float64), y.to(np.float64)
    return _apply(_XLOGY, x, y, _scalar_node(input, other, "Xlogy"))


def _floating(x):
    """Integers and bools as the default float dtype (PyTorch's rule for float functions)."""
    return x if x.dtype.kind in "fc" else x.to(get_default_dtype())


@_host_taking_cpu_scalars
def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input == 0`` unless ``other`` is NaN; PyTorch's
    derivatives (see the module docstring)."""
    _refuse_numbers("special_xlog1py", input, other)
    refuse_pair("xlog1py", input, other)
    x, y = tensors_promoted(input, other)
    return _apply(_XLOG1PY, _floating(x), _floating(y), _scalar_node(input, other, "SpecialXlog1Py"))
