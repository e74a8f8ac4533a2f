"""The derivative rules of ``var`` and ``std`` of real tensors (``VarBackward0``,
``StdBackward0``), PyTorch's ``var_backward``/``std_backward`` and their tangents: the forward
is ``ops/reduce.py``'s, which records them with the reduced ``dims``, ``keepdim`` and ``dof``,
``N - correction`` (not clamped at 0 as the value's divisor is: past the sample size the
gradient's scale is negative, as PyTorch's), and ``whole`` for a reduction over every element
(no ``dim``, or a 0-d input) with ``dof <= 0``: PyTorch's gradient there is ``g * inf``, nan
where ``x`` equals its mean, a constant (no second derivative).
"""

import math

import numpy as np

from ..registry import Op, defop
from . import reduce as _reduce  # (which imports this module: its names are read at call time)
from .movement import reshape


def _infinite_scale(x):
    """The factor of ``g`` in PyTorch's gradient of a whole ``var`` with ``dof <= 0``."""
    with np.errstate(all="ignore"):  # (an empty x: no "Mean of empty slice" warning)
        return np.where(x == np.add.reduce(x, axis=None) / x.size, np.nan, np.inf)


def _var_vjp_np(g, inputs, out, dims, keepdim, dof, whole=False):
    """PyTorch's var_backward: ``2 / (N - correction) * g * (x - mean)``."""
    x = np.asarray(inputs[0], np.float64)
    gk = np.asarray(g, np.float64).reshape(_reduce._kept_shape(x.shape, dims))
    with np.errstate(divide="ignore", invalid="ignore"):
        if whole:
            return (gk * _infinite_scale(x),)
        return (np.float64(2.0) / dof * gk * (x - _reduce._mean_values(x, dims)),)


def _var_vjp(g, inputs, out, dims, keepdim, dof, whole=False):
    from .elementwise import mul, sub

    x = inputs[0]
    gk = reshape(g, _reduce._kept_shape(x.shape, dims))
    if whole:  # (a constant: it does not depend on x)
        return (mul(gk, _reduce._const(_infinite_scale(_reduce._host(x)).astype(x.dtype), x)),)
    scale = 2.0 / dof if dof else math.inf
    return (mul(mul(gk, scale), sub(x, _reduce.mean(x, dims, keepdim=True))),)


def _var_jvp_np(tangents, inputs, out, dims, keepdim, dof, whole=False):
    """PyTorch's var_jvp, in its order: ``sum 2 / dof (t - mean t) (x - mean x)``."""
    x, t, axes = np.asarray(inputs[0], np.float64), tangents[0], tuple(d + 1 for d in dims)
    with np.errstate(divide="ignore", invalid="ignore"):  # (dof 0: inf meets both signs, nan)
        return np.add.reduce(np.float64(2.0) / dof * (t - _reduce._mean_values(t, axes)) * (
            x - _reduce._mean_values(x, dims)), axis=axes, keepdims=keepdim)


defop(Op.VAR, "var", "python", "VarBackward0", vjp=_var_vjp, vjp_np=_var_vjp_np,
      jvp_np=_var_jvp_np)


def _std_vjp_np(g, inputs, out, dims, keepdim, dof, whole=False):
    """PyTorch's std_backward: var_backward of ``g / (2 * std)``, 0 where std is 0."""
    o = np.asarray(out, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gv = np.where(o == 0, 0.0, np.asarray(g, np.float64) / (2.0 * o))
    return _var_vjp_np(gv, inputs, None, dims, keepdim, dof, whole)


def _std_vjp(g, inputs, out, dims, keepdim, dof, whole=False):
    from .elementwise import div, mul, where

    gv = where(_reduce._host(out) == 0, 0.0, div(g, mul(out, 2.0)))
    return _var_vjp(gv, inputs, None, dims, keepdim, dof, whole)


def _std_jvp_np(tangents, inputs, out, dims, keepdim, dof, whole=False):
    o = np.asarray(out, np.float64)  # var's tangent over 2 std; 0 where std is 0 (PyTorch's)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(o == 0, 0.0, _var_jvp_np(tangents, inputs, 0, dims, keepdim, dof) / o / 2)


defop(Op.STD, "std", "python", "StdBackward0", vjp=_std_vjp, vjp_np=_std_vjp_np,
      jvp_np=_std_jvp_np)
