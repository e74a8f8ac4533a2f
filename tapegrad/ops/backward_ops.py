"""Ops that derivative formulas record under ``create_graph``.

A re-taped derivative is a graph of its own, differentiated again for Hessians; a formula
spelled out in several ops costs a record (and a later sweep step) per op. These are the
formulas PyTorch also records as one node (tanh's, sigmoid's), each a binary op with its own
first and second derivatives: ``x`` is the incoming gradient, ``y`` the value the forward
saved. ``depends`` keeps a derivative that only compares saved values (relu's) connected to
them, as PyTorch's graph does.
"""

import numpy as np

from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .elementwise import _binary

_DEPENDS = int(Op.DEPENDS)


def _tanh_backward_np(g, out):
    return g * (1.0 - out * out)


def _tanh_backward_py(g, out):
    return g * (1.0 - out * out)


# PyTorch's tanh_backward(grad, output) and its derivatives (TanhBackwardBackward0)
tanh_backward = _binary(Op.TANH_BACKWARD, "tanh_backward", _tanh_backward_np, _tanh_backward_py,
                        ("x", "y"), "g * (1.0 - y * y)", "g * (-2.0 * y * x)",
                        "TanhBackwardBackward0")


def _sigmoid_backward_np(g, out):
    return g * out * (1.0 - out)


def _sigmoid_backward_py(g, out):
    return g * out * (1.0 - out)


# PyTorch's sigmoid_backward(grad, output) and its derivatives (SigmoidBackwardBackward0)
sigmoid_backward = _binary(Op.SIGMOID_BACKWARD, "sigmoid_backward", _sigmoid_backward_np,
                           _sigmoid_backward_py, ("x", "y"), "g * y * (1.0 - y)",
                           "g * x * (1.0 - 2.0 * y)", "SigmoidBackwardBackward0")


# ---- a derivative's value depending on saved values with a zero derivative ----------------

def _depends_vjp_np(g, inputs, out, shapes):
    g = np.asarray(g)
    return (g,) + tuple(np.zeros(s, g.dtype) for s in shapes)


def _depends_vjp(g, inputs, out, shapes):
    return (g,) + tuple(_make(np.zeros(s, g.dtype)) for s in shapes)


def _depends_jvp_np(tangents, inputs, out, shapes):
    return 0.0 if tangents[0] is None else tangents[0]


defop(Op.DEPENDS, "_depends", "python", "ThresholdBackwardBackward0", vjp=_depends_vjp,
      vjp_np=_depends_vjp_np, jvp_np=_depends_jvp_np)


def depends(value, deps):
    """``value`` (a CPU tensor that requires no grad) recorded as depending on the tensors
    ``deps`` with a zero derivative.

    Under ``create_graph`` PyTorch records a derivative as an op whose inputs include the values
    its formula reads (relu's ``threshold_backward(grad, result)``), so the derivative requires
    grad whenever they do, with zero gradients for them, also where the formula only compares
    them (relu, hardtanh, a max pool's scatter): a gradient penalty on a ReLU layer then
    differentiates to zeros, not to an error. The re-taping sweep links such values here."""
    return R.python_result(_wrap(value._data), _DEPENDS, (value,) + tuple(deps),
                           params={"shapes": tuple(tuple(d.shape) for d in deps)})
