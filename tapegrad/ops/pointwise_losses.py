"""The regression losses per element as one record each, as PyTorch records them before their
reduction (``MseLossBackward0``, ``HuberLossBackward0``, ``SmoothL1LossBackward0``), instead of
the differences, absolute values, compares, products and selects of their compositions
(``huber_loss`` was eight records; forward and backward of a (64, 128) batch 334 µs, PyTorch's
47). ``d = x - y`` of input ``x`` and target ``y``; values and derivatives are PyTorch's:

* mse: ``d * d``; ``d/dx = 2 d g``, ``d/dy = -d/dx``;
* huber (``c0 = delta``): ``0.5 d²`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``;
  ``d/dx = g d`` clamped to ``[-delta g, delta g]``, the bound where ``d`` is at it or beyond;
* smooth_l1 (``c0 = beta > 0``): ``0.5 d² / beta`` where ``|d| < beta``, else
  ``|d| - 0.5 beta``; ``d/dx = g d / beta`` clamped to ``[-g, g]`` likewise.

The selects test ``d`` against the bounds in an order that gives ``g d`` (NaN) at a NaN ``d``, as
PyTorch's, and a zero second derivative at ``|d| = bound``, as PyTorch's double backward. Inputs
of other shapes or dtypes, views, CUDA tensors, complex values, vmap's batched tensors and
``tg.compile``'s tracer take the compositions.
"""

import numpy as np

from .. import vecmath
from .._float_warnings import quiet
from ..registry import Op, defop
from ..tensor import _make
from . import record as R
from .activations import _in_dtype, fusable_array

_MSE, _HUBER, _SMOOTH_L1 = int(Op.MSE_LOSS), int(Op.HUBER_LOSS), int(Op.SMOOTH_L1_LOSS)

defop(Op.MSE_LOSS, "_mse_loss_c", "binary", "MseLossBackward0", saves=("x", "y"),
      dx="2.0 * (x - y) * g", dy="-(2.0 * (x - y) * g)")
_HUBER_DX = ("where(x - y < c0, where(x - y > -c0, (x - y) * g, -(g * c0)), "
             "where(x - y >= c0, g * c0, (x - y) * g))")
defop(Op.HUBER_LOSS, "_huber_loss_c", "binary", "HuberLossBackward0", saves=("x", "y"),
      dx=_HUBER_DX, dy=f"-{_HUBER_DX}", nconst=1)
_SMOOTH_L1_DX = ("where(x - y < c0, where(x - y > -c0, (x - y) * g / c0, -g), "
                 "where(x - y >= c0, g, (x - y) * g / c0))")
defop(Op.SMOOTH_L1_LOSS, "_smooth_l1_loss_c", "binary", "SmoothL1LossBackward0",
      saves=("x", "y"), dx=_SMOOTH_L1_DX, dy=f"-{_SMOOTH_L1_DX}", nconst=1)


def _arrays(x, y):
    """``x`` and ``y``'s arrays where the two take the one-record form (CPU real float arrays
    of one shape and dtype, neither a view), else None; 0-d ones as one element (NumPy's
    arithmetic on 0-d arrays gives scalars, which take no ``out=``)."""
    if not (fusable_array(x) and fusable_array(y)):
        return None
    xd, yd = x._data, y._data
    if xd.dtype != yd.dtype or xd.shape != yd.shape or x._base is not None or \
            y._base is not None:
        return None
    return (xd, yd) if xd.ndim else (xd.reshape(1), yd.reshape(1))


def _result(r, code, x, y, c0=None):
    if x.ndim == 0:
        r = r.reshape(())
    if not ((x._rg or y._rg) and R._grad_on()):
        return _make(r)
    if c0 is None:
        return R.result_arrays(r, code, x, y, True, True, False)
    seg = R.segment_for_pair(x, y)  # the constant goes to the segment the record goes to
    aux = len(seg.faux)
    seg.faux.append(c0)
    return R.result_arrays(r, code, x, y, True, True, False, aux, seg)


def mse(x, y):
    """``(x - y)²`` per element, one record; None where the composition must do it."""
    arrays = _arrays(x, y)
    if arrays is None:
        return None
    try:
        d = arrays[0] - arrays[1]
        r = np.multiply(d, d, out=d)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        r = quiet(np.square, quiet(np.subtract, *arrays))
    return _result(r, _MSE, x, y)


def huber(x, y, delta):
    """Huber's loss per element, one record; None where the composition must do it."""
    arrays = _arrays(x, y)
    if arrays is None:
        return None
    with np.errstate(all="ignore"):  # (inf - inf: nan, as PyTorch's)
        z = arrays[0] - arrays[1]
        delta = _in_dtype(z, delta)
        np.abs(z, out=z)
        # m (z - m / 2), m = min(z, delta): PyTorch's 0.5 z * z below delta (z - z / 2 is
        # z / 2 exactly), its delta (z - 0.5 delta) from it on, NaN at NaN; three passes fewer
        m = np.minimum(z, delta)
        r = np.multiply(m, 0.5)
        np.subtract(z, r, out=r)
        np.multiply(m, r, out=r)
    return _result(r, _HUBER, x, y, delta)


def smooth_l1(x, y, beta):
    """The smooth L1 loss per element (``beta > 0``), one record; None where the composition
    must do it."""
    arrays = _arrays(x, y)
    if arrays is None:
        return None
    with np.errstate(all="ignore"):
        z = arrays[0] - arrays[1]
        beta = _in_dtype(z, beta)
        np.abs(z, out=z)
        square = np.multiply(z, 0.5)
        np.multiply(square, z, out=square)
        np.divide(square, beta, out=square)
        r = vecmath.where(z < beta, square, np.subtract(z, 0.5 * beta))
    return _result(r, _SMOOTH_L1, x, y, beta)
