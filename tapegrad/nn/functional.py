"""Losses and activations built from tapegrad ops (composites: no derivative rules here)."""

import numpy as np

from ..ops import elementwise as E
from ..ops import movement as M
from ..ops.record import as_tensor


def mse_loss(input, target, reduction="mean"):
    """Mean squared error, as ``torch.nn.functional.mse_loss``."""
    d = E.sub(input, as_tensor(target))
    sq = E.mul(d, d)
    return _reduce(sq, reduction)


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits ``input`` (N, C) against class indices ``target`` (N,)."""
    from ..ops.reduce import logsumexp

    idx = np.asarray(target._data if hasattr(target, "_data") else target).astype(np.int64)
    if input.ndim != 2 or idx.ndim != 1 or idx.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input (N, C) and target (N,), got {input.shape} and "
                         f"{idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= input.shape[1]):
        raise IndexError(f"Target {int(idx.max())} is out of bounds.")
    picked = M.getitem(input, (np.arange(idx.shape[0]), idx))
    return _reduce(E.sub(logsumexp(input, 1), picked), reduction)


def relu(x):
    return E.relu(x)


def sigmoid(x):
    return E.sigmoid(x)


def tanh(x):
    return E.tanh(x)


def _reduce(t, reduction):
    if reduction == "mean":
        return M.mean(t)
    if reduction == "sum":
        return M.sum(t)
    if reduction == "none":
        return t
    raise ValueError(f"{reduction} is not a valid value for reduction")
