"""More of ``torch.nn.functional``'s losses, written as PyTorch computes them (re-exported
by ``nn.functional``): Gaussian and Poisson negative log-likelihoods, the margin and
embedding losses, and the soft-margin losses."""

import math
import warnings

import numpy as np

from .. import ops as O
from ..grad_mode import is_grad_enabled
from ..ops.cuda_linalg import on_host
from ..ops.node_names import name_node, name_record
from ..ops.record import as_tensor as _t
from ..registry import Op
from .distances import pairwise_distance
from .more_activations import logsigmoid


def check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def nll_weight_check(weight, ndim):
    """PyTorch's nll_loss kernels have no derivative for ``weight``: with grad on, a weight
    requiring grad is refused before they run (``nll_loss2d_forward`` for inputs of 3 or more
    dims, which PyTorch reshapes to 4)."""
    if weight is not None and getattr(weight, "requires_grad", False) and is_grad_enabled():
        fn = "nll_loss2d_forward" if ndim >= 3 else "nll_loss_forward"
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           "'weight'. This input cannot have requires_grad True.")


def nll_weight_shape(weight, C, ndim, prefix=""):
    """PyTorch's check of the class weights' shape: its 2-d kernel's words (``prefix``
    'cross_entropy: ' for class probabilities), or its spatial kernel's (3 or more dims)."""
    if weight is None or tuple(weight.shape) == (C,):
        return
    if ndim >= 3 and not prefix:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    raise RuntimeError(f"{prefix}weight tensor should be defined either for all {C} classes or "
                       f"no classes but got weight tensor of shape: {list(weight.shape)}")


def _reduce(t, reduction):
    """``t`` reduced as ``reduction`` says (``"none"``: as it is)."""
    if reduction == "mean":
        return O.mean(t)
    if reduction == "sum":
        return O.sum(t)
    if reduction == "none":
        return t
    raise ValueError(f"{reduction} is not a valid value for reduction")


def reduced_node(loss, reduction, name):
    """``_reduce(loss, reduction)`` of a loss recorded as one op per element, its node named
    ``name`` as PyTorch's one node of the loss, whose inputs are the elementwise op's."""
    out = _reduce(loss, reduction)
    return out if out is loss else name_node(out, name, loss)


def legacy_reduction(size_average, reduce, reduction):
    """The ``reduction`` meant by PyTorch's deprecated ``size_average``/``reduce`` (warned)."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  + ("none" if reduce is False else "mean" if size_average in (None, True)
                     else "sum") + "' instead.", UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "mean" if size_average in (None, True) else "sum"


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` if ``full``); ``var``
    is clamped to ``eps`` in value only (its gradient is unchanged), as PyTorch does."""
    x, y = _t(input), _t(target)
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _t(np.full(x.shape, var, dtype=x.dtype)).to(x.device)
    var = _t(var)
    if (var.detach().cpu().numpy() < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:
            var = O.unsqueeze(var, -1)
        elif not (x.ndim == var.ndim and sum(b for a, b in zip(x.shape, var.shape) if a != b)
                  == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    v = var.detach()
    var = var + (O.clamp(v, min=eps) - v)  # max(var, eps) in value, var's gradient
    loss = (O.log(var) + (x - y) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """``exp(input) - target * input`` (``log_input``), else ``input - target log(input +
    eps)``; ``full`` adds Stirling's term where ``target > 1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    loss = O.exp(x) - y * x if log_input else x - y * O.log(x + eps)
    if full:
        big = y > 1
        ys = O.where(big, y, 2.0)  # Stirling's term only where target > 1 (no log 0)
        stirling = ys * O.log(ys) - ys + 0.5 * O.log(ys * (2 * math.pi))
        loss = loss + O.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x1, x2, y = _t(input1), _t(input2), _t(target)
    if x1.ndim != x2.ndim or x1.ndim != y.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {_size(x1)}, input2: {_size(x2)}, target: "
                           f"{_size(y)} ")
    return _reduce(_clamp_min(-y * (x1 - x2) + margin), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    margin_part = O.where(y != 1, O.clamp(margin - x, min=0.0), 0.0)
    return _reduce(margin_part + O.where(y != -1, x, 0.0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    return _reduce(O.log1p(O.exp(-x * y)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Binary cross-entropy of ``sigmoid(input)`` per class, averaged over the classes."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x, y = _t(input), _t(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    loss = O.sum(loss, x.ndim - 1) / x.shape[-1]
    return _reduce(loss, reduction)


def _clamp_min(t):
    """``max(t, 0)`` named as PyTorch's ``clamp_min`` node (ClampMinBackward0)."""
    return name_record(O.clamp(t, min=0.0), Op.CLAMP, "ClampMinBackward0")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos - margin)`` where it is -1
    (PyTorch's cosine: squared norms plus 1e-12)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x1, x2, y = _t(input1), _t(input2), _t(target)
    d = y.ndim  # (PyTorch's checks; inputs of other sizes fail in their product)
    if d not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if x1.ndim != d + 1 or x2.ndim != d + 1:
        raise RuntimeError(f"{d}D target tensor expects {d + 1}D input tensors, but found "
                           f"inputs with sizes {_size(x1)} and {_size(x2)}.")
    prod = O.sum(x1 * x2, d)
    mag1 = O.sum(x1 * x1, d) + 1e-12
    mag2 = O.sum(x2 * x2, d) + 1e-12
    cos = prod / O.sqrt(mag1 * mag2)
    pos = O.where(y == 1, 1 - cos, 0.0)
    neg = O.where(y == -1, O.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(pos + neg, reduction)


def _same_ndim(a, pos, neg):
    """PyTorch's check of the triplet losses' inputs, before any broadcasting."""
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a.ndim}D, positive "
                           f"{pos.ndim}D, and negative {neg.ndim}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with
    ``pairwise_distance`` (``swap``: the nearer of the two negatives' distances)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    _same_ndim(a, pos, neg)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = O.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(_clamp_min(margin + d_pos - d_neg), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: ``sum over i != y of max(0, margin - x[y] + x[i]) ** p / C``
    (each term times ``weight[y]``)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = _t(input)
    if x.ndim not in (1, 2) or x.ndim == 2 and x.shape[1] == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(x.shape)}")
    x2 = x if x.ndim == 2 else O.unsqueeze(x, 0)
    n, c = x2.shape
    y = np.asarray(_t(target)._data).reshape(-1).astype(np.int64)
    if y.shape[0] != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got "
                           f"{list(np.asarray(_t(target)._data).shape)}")
    if ((y < 0) | (y >= c)).any():
        raise RuntimeError("target out of range")
    rows = np.arange(n)
    x_y = O.unsqueeze(x2[rows, y], 1)
    z = O.relu(margin - x_y + x2)
    terms = z if p == 1 else z * z
    others = np.ones((n, c), x2.dtype)
    others[rows, y] = 0.0
    terms = terms * O.record.as_tensor(others)
    if weight is not None:
        weight = _t(weight)
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError("The function 'multi_margin_loss' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
        terms = terms * O.unsqueeze(weight[y], 1)
    loss = O.sum(terms, 1) / c
    return _reduce(loss if x.ndim == 2 else O.reshape(loss, ()), reduction)


# their class targets are read on the host: CUDA tensors take the differentiable round trip
multi_margin_loss = on_host(multi_margin_loss, traced=True)  # (tg.compile: as before)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: for each target class j (listed in ``target`` up to the first
    -1) and each non-target class i, ``max(0, 1 - (x[j] - x[i])) / C``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    x = _t(input)
    t = np.asarray(_t(target)._data).astype(np.int64)
    if tuple(t.shape) != tuple(x.shape) or x.ndim not in (1, 2):
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)}")
    x2 = x if x.ndim == 2 else O.unsqueeze(x, 0)
    t2 = t.reshape(x2.shape)
    n, c = x2.shape
    counts = np.zeros((n, c), x2.dtype)  # how often each class is listed before the first -1
    for r in range(n):
        for j in t2[r]:
            if j < 0:
                break
            if j >= c:
                raise RuntimeError("target out of range")
            counts[r, j] += 1
    others = (counts == 0).astype(x2.dtype)
    hinge = O.relu(1.0 - O.unsqueeze(x2, 2) + O.unsqueeze(x2, 1))  # [n, j, i]
    pairs = O.record.as_tensor(counts[:, :, None] * others[:, None, :])
    loss = O.sum(hinge * pairs, (1, 2)) / c
    return _reduce(loss if x.ndim == 2 else O.reshape(loss, ()), reduction)


multilabel_margin_loss = on_host(multilabel_margin_loss, traced=True)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """``triplet_margin_loss`` with any distance (``pairwise_distance`` by default)."""
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    _same_ndim(a, pos, neg)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = O.minimum(d_neg, dist(pos, neg))
    return _reduce(_clamp_min(margin + d_pos - d_neg), reduction)


def _size(t):
    return f"[{', '.join(str(s) for s in t.shape)}]"


__all__ = ["gaussian_nll_loss", "poisson_nll_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]

from .ctc import ctc_loss  # noqa: E402 (F.ctc_loss, through this list)
