"""The regression losses of ``torch.nn.functional`` (re-exported there): mean squared error,
L1, smooth L1 and Huber. Plain CPU float tensors of one shape take one record per element
(``ops/pointwise_losses.py``), then the reduction; anything else their compositions."""

import warnings

from .. import ops as O
from ..ops import pointwise_losses as _pointwise
from ..ops.complex_refusals import refuse_pair
from ..ops.node_names import name_node
from ..ops.record import as_tensor as _t
from ..ops.shapes import torch_dtype_name
from ..promotion import can_cast, promote_types
from .more_losses import _reduce, check_reduction, legacy_reduction, reduced_node


def size_text(shape):
    return f"torch.Size({list(shape)})"


def size_warning(input, target, deprecated=False):
    """PyTorch's warning (or, ``deprecated``, its error) for a target of another shape."""
    if tuple(target.shape) != tuple(input.shape):
        if deprecated:
            raise ValueError(f"Using a target size ({size_text(target.shape)}) that is "
                             f"different to the input size ({size_text(input.shape)}) is "
                             "deprecated. Please ensure they have the same size.")
        warnings.warn(f"Using a target size ({size_text(target.shape)}) that is different to "
                      f"the input size ({size_text(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", UserWarning, stacklevel=3)


def _checked(input, target, reduction):
    x, y = _t(input), _t(target)
    size_warning(x, y)
    check_reduction(reduction)
    return x, y


def float_pair(name, x, y):
    """``x, y`` for a loss whose kernel computes in their promoted dtype: PyTorch's refusal of
    an integer or bool pair (no integer kernel), a bool operand of a float pair cast (it
    enters no subtraction there)."""
    dt = promote_types(x.dtype, y.dtype)
    if name == "huber" and not can_cast(dt, x.dtype):  # (its result takes the input's dtype)
        raise RuntimeError(f"result type {torch_dtype_name(dt)} can't be cast to the desired "
                           f"output type {torch_dtype_name(x.dtype)}")
    if dt.kind in "iub":
        raise NotImplementedError(f'"{name}_{"cuda" if x.is_cuda else "cpu"}" not implemented '
                                  f"for '{torch_dtype_name(dt)}'")
    return tuple(t.to(dt) if t.dtype.kind == "b" else t for t in (x, y))


def _weighted(loss, weight, reduction, x, by_weight=True):
    """``loss`` times ``weight`` (of the input's shape, as PyTorch requires), reduced; the
    mean of mse_loss and l1_loss divides by the weights' sum (huber_loss's by the count)."""
    if weight is None:
        return _reduce(loss, reduction)
    weight = _t(weight)
    if tuple(weight.shape) != tuple(x.shape):
        raise ValueError("Weights and input must have the same size.")
    if reduction == "mean" and by_weight:
        return O.sum(loss * weight) / O.sum(weight)
    return _reduce(loss * weight, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error, as ``torch.nn.functional.mse_loss``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _checked(input, target, reduction)
    x, y = float_pair("mse", x, y)
    loss = _pointwise.mse(x, y)
    if loss is not None and weight is None:  # one op per element: PyTorch's node's name
        return reduced_node(loss, reduction, "MseLossBackward0")
    if loss is not None:
        return _weighted(loss, weight, reduction, x)
    refuse_pair("mse_loss", x, y)  # (complex operands come here: the square is not |d|^2)
    d = x - y
    return _composed_node(_weighted(d * d, weight, reduction, x), weight, "MseLossBackward0", d)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _checked(input, target, reduction)
    return _weighted(O.abs(x - y), weight, reduction, x)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d²/beta`` where ``|d| < beta``, ``|d| - 0.5 beta`` elsewhere."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    x, y = _checked(input, target, reduction)
    if beta == 0.0:
        return l1_loss(x, y, reduction=reduction)
    x, y = float_pair("smooth_l1", x, y)
    loss = _pointwise.smooth_l1(x, y, beta)
    if loss is not None:
        return reduced_node(loss, reduction, "SmoothL1LossBackward0")
    refuse_pair("smooth_l1_loss", x, y)  # (complex operands come here: |d| < beta orders them)
    d = x - y
    a = O.abs(d)
    return _composed_node(_reduce(O.where(a < beta, d * d * 0.5 / beta, a - 0.5 * beta),
                                  reduction), None, "SmoothL1LossBackward0", d)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d²`` where ``|d| < delta``, ``delta (|d| - 0.5 delta)`` elsewhere."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, y = _checked(input, target, reduction)
    x, y = float_pair("huber", x, y)
    loss = _pointwise.huber(x, y, delta)
    if loss is not None and weight is None:
        return reduced_node(loss, reduction, "HuberLossBackward0")
    if loss is not None:
        return _weighted(loss, weight, reduction, x, by_weight=False)
    refuse_pair("huber_loss", x, y)  # (complex operands come here: |d| < delta orders them)
    d = x - y
    a = O.abs(d)
    loss = O.where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return _composed_node(_weighted(loss, weight, reduction, x, by_weight=False), weight,
                          "HuberLossBackward0", d)


def _composed_node(out, weight, name, d):
    """The composition of a loss (views, other shapes, CUDA: not one record per element) named
    as PyTorch's one node of it, whose next functions are those of ``d = input - target``; a
    weighted loss is PyTorch's composition too, and keeps its names."""
    return out if weight is not None else name_node(out, name, d)
