"""Elementwise ops that derivative formulas record under ``create_graph``.

A re-taped derivative is a graph of its own, differentiated again for Hessians; a formula
spelled out in several ops costs a record (and a later sweep step) per op. These are the
formulas PyTorch also records as one node (tanh's, sigmoid's), each a binary op with its own
first and second derivatives: ``x`` is the incoming gradient, ``y`` the value the forward
saved.
"""

from ..registry import Op
from .elementwise import _binary


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
