"""``copysign`` of CPU float tensors as an op of its own (``CopysignBackward0``), with PyTorch's
derivatives: in the input, ``g * result / input``, 0 where the input is 0 (so NaN where the
input is infinite or NaN: ``inf / inf``); in ``other``, zeros. The re-taping rule is the same
expression in tapegrad ops on the recorded result (a division, ``masked_fill``, a product), so
the second derivatives are PyTorch's too: zeros in ``other`` (the result's own derivative
there), NaN at an input of 0 (the division's ``0 / 0``), 0 elsewhere.
"""

import numpy as np

from ..registry import Op, defop
from ..tensor import Tensor, _make, _wrap
from . import record as R
from .movement import broadcast_to

_COPYSIGN = int(Op.COPYSIGN)


def _ratio(x, out):
    """``out / x``, 0 where ``x`` is 0 (PyTorch's masked_fill)."""
    with np.errstate(all="ignore"):
        return np.where(x == 0, np.zeros((), x.dtype), np.asarray(out) / x)


def _vjp_np(g, inputs, out, **_):
    x = np.asarray(inputs[0])
    ratio = _ratio(x, out)
    return np.asarray(g, x.dtype) * ratio, np.zeros_like(np.asarray(inputs[1]))


def _vjp(g, inputs, out, **_):
    from .elementwise import div, mul
    from .extra import masked_fill

    x, y = inputs
    with np.errstate(all="ignore"):
        ratio = masked_fill(div(out, x), _make(x.detach()._arr() == 0), 0.0)
    return mul(g, ratio), _make(np.zeros(y.shape, y.dtype))


def _jvp_np(tangents, inputs, out, **_):
    ratio = _ratio(np.asarray(inputs[0]), out)
    return 0.0 if tangents[0] is None else tangents[0] * ratio


defop(Op.COPYSIGN, "copysign", "python", "CopysignBackward0", vjp=_vjp, vjp_np=_vjp_np,
      jvp_np=_jvp_np)


def applies(x, y):
    """Whether ``copysign`` of the tensors ``x`` and ``y`` (one float dtype) takes this op
    (fmod's and remainder's too, ``rounded_remainder``): plain CPU tensors, one of them
    requiring grad, outside ``tg.compile``'s tracer."""
    return type(x) is Tensor and type(y) is Tensor and type(x._data) in _HOST and \
        type(y._data) in _HOST and x.dtype == y.dtype and R.needs_grad(x, y) and \
        not R.compile_tracing()


_HOST = (np.ndarray, float)  # (a 0-d float64 tensor's value may be a Python float)


def copysign(x, y):
    """``|x|`` with ``y``'s sign, recorded as one op (``applies(x, y)``)."""
    value = _wrap(np.copysign(x._arr(), y._arr()))
    shape = np.shape(value)
    x = x if x.shape == shape else broadcast_to(x, shape)
    y = y if y.shape == shape else broadcast_to(y, shape)
    return R.python_result(value, _COPYSIGN, (x, y), save_inputs=(0, 1), save_out=True)
