"""Batching rules of the losses that read their values: the class-index losses (``nll_loss``,
``cross_entropy``) read their targets: the batch of examples joins the loss's own batch dim,
one call computes every element's loss (``reduction='none'``), and each example is then
reduced on its own, its 'mean' divided by the summed weights of its used targets as PyTorch's
weighted mean is. ``binary_cross_entropy`` checks its input's range: one elementwise call on
the whole batch, then each example's reduction."""

import inspect

import numpy as np

from .. import ops
from ..tensor import Tensor, _make
from .batched import RULES, BatchedTensor, _unwrap, dispatch
from .batching_rules import _batched_at


def _physical(level, t, size):
    """``t``'s batch (an unbatched ``t`` repeated ``size`` times, as a broadcast view)."""
    p, batched = _unwrap(level, t)
    if batched:
        return p
    p = p if isinstance(p, Tensor) else _make(np.asarray(p))
    return dispatch("broadcast_to", ops.broadcast_to, (p, (size,) + tuple(p.shape)), {})


def _rule_class_loss(level, name, raw, args, kwargs):
    try:
        p = inspect.signature(raw).bind(*args, **kwargs).arguments
    except TypeError:
        return NotImplemented  # the loop raises the call's own error
    x, target, weight = p["input"], p["target"], p.get("weight")
    if p.get("size_average") is not None or p.get("reduce") is not None or \
            _batched_at(level, [weight]) or not isinstance(x, Tensor) or x.ndim == 0:
        return NotImplemented
    tdtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if tdtype.kind == "f":  # class probabilities: ops on the values alone, batched op by op
        return raw(*args, **kwargs)
    size = (x if _batched_at(level, [x]) else target)._phys.shape[0]
    px, pt = _physical(level, x, size), _physical(level, target, size)
    tshape = tuple(pt.shape[1:])
    if x.ndim > 1:  # (B, N, C, ...) -> (B*N, C, ...): one loss batch
        px = ops.reshape(px, (-1,) + tuple(px.shape[2:]))
        pt = ops.reshape(pt, (-1,) + tshape[1:])
    reduction = p.get("reduction", "mean")
    p = dict(p, input=px, target=pt, reduction="none")
    per = ops.reshape(raw(**p), (size, -1))
    if reduction == "none":
        return BatchedTensor(ops.reshape(per, (size,) + tshape), level)
    total = ops.sum(per, 1)
    if reduction == "sum":
        return BatchedTensor(total, level)
    t = np.asarray(pt._data).reshape(size, -1)  # the examples' targets, as the loss read them
    used = t != p.get("ignore_index", -100)
    w = used.astype(x.dtype)
    if weight is not None:
        wv = np.asarray(weight._data if isinstance(weight, Tensor) else weight)
        w = w * wv.astype(x.dtype)[np.where(used, t, 0)]
    den = w.sum(1)
    # nothing left to average: nan with a zero gradient (the weighted mean's rule)
    safe = _make(np.where(den > 0, den, 1.0).astype(x.dtype))
    mean = ops.where(_make(den > 0), total / safe, float("nan"))
    return BatchedTensor(mean, level)


RULES["nll_loss"] = RULES["cross_entropy"] = _rule_class_loss


def _rule_pointwise_loss(level, name, raw, args, kwargs):
    try:
        p = inspect.signature(raw).bind(*args, **kwargs).arguments
    except TypeError:
        return NotImplemented
    x, target, weight = p["input"], p["target"], p.get("weight")
    if p.get("size_average") is not None or p.get("reduce") is not None or \
            _batched_at(level, [weight]) or not isinstance(x, Tensor) or \
            not isinstance(target, Tensor) or tuple(x.shape) != tuple(target.shape):
        return NotImplemented  # (the loop: the call's own warnings and errors)
    size = (x if _batched_at(level, [x]) else target)._phys.shape[0]
    px, pt = _physical(level, x, size), _physical(level, target, size)
    reduction = p.get("reduction", "mean")
    per = raw(**dict(p, input=px, target=pt, reduction="none"))  # (weight: trailing dims)
    if reduction == "none":
        return BatchedTensor(per, level)
    flat = ops.reshape(per, (size, -1))
    return BatchedTensor(ops.sum(flat, 1) if reduction == "sum" else ops.mean(flat, 1), level)


RULES["binary_cross_entropy"] = _rule_pointwise_loss
