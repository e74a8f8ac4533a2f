"""``binary_cross_entropy`` of CPU probabilities as one op per element, as PyTorch records it
(``BinaryCrossEntropyBackward0``), with PyTorch's derivatives.

The loss ``(t - 1) max(log1p(-x), -100) - t max(log x, -100)`` (PyTorch's expression) has a
derivative that no composition of clamped logs gives: at a probability of exactly 0 or 1
(a saturated sigmoid, common in float32) the clamp's zero slope meets the log's infinite one,
``0 * inf = nan``. PyTorch differentiates the unclamped loss with the denominator bounded:

* ``d/dx = g (x - t) / max((1 - x) x, EPS)``, ``EPS`` the float 1e-12 (so ±~1e12, not nan, at
  0 and 1 against the other target); ``d/dt = -g logit(x)``;
* the first derivative is an op of its own (``BCE_BACKWARD``, PyTorch's
  ``binary_cross_entropy_backward``), whose derivatives are PyTorch's double-backward
  formulas: ``d/dx = gg g (x² - 2xt + t) / ((x + 1e-12)² (1 - x + 1e-12)²)``, ``d/dt =
  -gg g / max((1 - x) x, 1e-12)`` (both 1e-12 a double there), ``d/dg`` the first derivative
  again.

Weights and the reduction stay separate ops (a product and a sum or mean), as before.
"""

import numpy as np

from ..registry import Op, defop
from ..tensor import Tensor, _make
from . import record as R
from .elementwise import clamp, log, mul, neg, sub

_BCE, _BCE_BACKWARD = int(Op.BCE), int(Op.BCE_BACKWARD)
EPS = float(np.float32(1e-12))  # PyTorch's EPSILON: a C++ float, 1e-12 rounded to float32
_DOUBLE_EPS = 1e-12  # its double backward's bounds, doubles


def _cpu_pair(x, t):
    """Whether ``x`` and ``t`` take the one-op form: plain CPU float arrays of one shape and
    dtype (the composition handles the rest: other devices, vmap). Under tg.compile's tracer
    too: it records ``binary_cross_entropy`` whole, and the gradients of its tracing call must
    be the op's (the composition's are nan at 0 and 1)."""
    if type(x) is not Tensor or type(t) is not Tensor:
        return False
    xd, td = x._data, t._data
    return type(xd) is np.ndarray and type(td) is np.ndarray and xd.dtype.kind == "f" and \
        xd.shape == td.shape and xd.dtype == td.dtype


def _loss_values(xd, td):
    """PyTorch's per-element loss, in its order of operations."""
    with np.errstate(divide="ignore"):
        return (td - 1) * np.maximum(np.log1p(-xd), -100) - td * np.maximum(np.log(xd), -100)


def bce(x, t):
    """The per-element loss of probabilities ``x`` at targets ``t`` (None where the
    composition must compute it: see ``_cpu_pair``)."""
    if not _cpu_pair(x, t):
        return None
    R.refresh_views(x, t)
    value = _loss_values(x._data, t._data)
    if not R.needs_grad(x, t):
        return _make(value)
    # (``needs``: no logit for a target that needs no gradient, the usual case)
    return R.python_result(value, _BCE, (x, t), save_inputs=(0, 1), params=None if (
        x._rg and t._rg) else {"needs": (x._rg, t._rg)})


def _denominator(x, eps=EPS):
    """``max((1 - x) x, eps)`` in ``x``'s dtype."""
    return np.maximum((1 - x) * x, x.dtype.type(eps))


def _dx_np(g, x, t):
    return g * (x - t) / _denominator(x)


def _dt_np(g, x):
    with np.errstate(divide="ignore"):
        return -np.log(x / (1 - x)) * g


def _bce_vjp_np(g, inputs, out, needs=(True, True)):
    x, t = inputs
    g = np.asarray(g, x.dtype)
    return _dx_np(g, x, t) if needs[0] else None, _dt_np(g, x) if needs[1] else None


def _bce_vjp(g, inputs, out, needs=(True, True)):
    x, t = inputs
    with np.errstate(divide="ignore"):  # (logit at 0 and 1: infinite, silently as PyTorch)
        return (bce_backward(g, x, t) if needs[0] else None,
                mul(neg(log(x / sub(1.0, x))), g) if needs[1] else None)


def _bce_jvp_np(tangents, inputs, out, needs=(True, True)):
    x, t = inputs
    tx, tt = tangents
    res = 0.0
    if tx is not None:
        res = res + _dx_np(tx, x[None], t[None])
    if tt is not None:
        res = res + _dt_np(tt, x[None])
    return res


defop(Op.BCE, "_binary_cross_entropy", "python", "BinaryCrossEntropyBackward0", vjp=_bce_vjp,
      vjp_np=_bce_vjp_np, jvp_np=_bce_jvp_np)


# ---- its derivative, an op of its own (re-taping: derivatives of the second order) ------------

def bce_backward(g, x, t):
    """``g (x - t) / max((1 - x) x, EPS)`` of tensors of one shape, recorded as one op (the
    re-taped derivative of ``BCE``: its incoming gradient has the loss's shape)."""
    R.refresh_views(g, x, t)
    xd = x._arr()
    value = _dx_np(np.asarray(g._arr(), xd.dtype), xd, t._arr())
    if not (g._rg or x._rg or t._rg) or not R._grad_on():
        return _make(value)
    return R.python_result(value, _BCE_BACKWARD, (g, x, t), save_inputs=(0, 1, 2))


def _double_np(gg, g, x, t):
    """PyTorch's ``binary_cross_entropy_double_backward``: the derivative in ``x``."""
    e = _DOUBLE_EPS
    return (x * x - 2 * x * t + t) / ((x + e) ** 2 * (1 - x + e) ** 2) * (gg * g)


def _bce_backward_vjp_np(gg, inputs, out):
    g, x, t = inputs
    gg = np.asarray(gg, x.dtype)
    return (_dx_np(gg, x, t), _double_np(gg, g, x, t), -gg * g / _denominator(x, _DOUBLE_EPS))


def _bce_backward_vjp(gg, inputs, out):
    g, x, t = inputs
    e = _DOUBLE_EPS
    d = (x * x - 2.0 * x * t + t) / ((x + e) ** 2 * (sub(1.0, x) + e) ** 2)
    return (bce_backward(gg, x, t), mul(d, gg * g),
            neg(gg * g) / clamp(sub(1.0, x) * x, min=e))


def _bce_backward_jvp_np(tangents, inputs, out):
    """The VJP's three factors on the tangents (elementwise: PyTorch's forward-mode formula
    is its double-backward one too)."""
    tg_, tx, tt = tangents
    g, x, t = (a[None] for a in inputs)
    res = 0.0
    if tg_ is not None:
        res = res + _dx_np(tg_, x, t)
    if tx is not None:
        res = res + _double_np(tx, g, x, t)
    if tt is not None:
        res = res - tt * g / _denominator(x, _DOUBLE_EPS)
    return res


defop(Op.BCE_BACKWARD, "_binary_cross_entropy_backward", "python",
      "BinaryCrossEntropyBackwardBackward0", vjp=_bce_backward_vjp,
      vjp_np=_bce_backward_vjp_np, jvp_np=_bce_backward_jvp_np)
