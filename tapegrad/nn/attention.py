"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``, written with
tapegrad ops (every order of derivative is theirs); ``SDPBackend`` and ``sdpa_kernel`` (the
backends it may use, ``sdpa_backend.py``), as ``torch.nn.attention``'s."""

import math
import warnings

import numpy as np

from .. import ops as O
from ..device import host_array
from ..ops.record import as_tensor
from ..tensor import Tensor, _make
from .sdpa_backend import SDPBackend, check_backend, sdpa_kernel

__all__ = ["scaled_dot_product_attention", "SDPBackend", "sdpa_kernel"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(q k^T * scale + mask) v`` over the last two dims (batch dims broadcast).

    ``attn_mask``: boolean (True: may attend) or added to the scores; ``is_causal``: each query
    attends to keys at its position or before. A query that may attend to no key gets zeros
    (and a zero gradient), as PyTorch's CPU kernel gives.
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    check_backend(q, k, v, dropout_p)
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    L, S = q.shape[-2], k.shape[-2]
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        rep = q.shape[-3] // k.shape[-3]
        k = O.repeat_interleave(k, rep, k.ndim - 3)
        v = O.repeat_interleave(v, rep, v.ndim - 3)
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = O.matmul(q, O.transpose(k, -2, -1)) * s
    allowed = None
    if is_causal:
        allowed = np.tril(np.ones((L, S), bool))
    elif attn_mask is not None:
        m = as_tensor(attn_mask)
        if m.dtype == np.bool_:
            allowed = host_array(m._data)
        else:
            scores = scores + m
    if allowed is not None:
        any_row = np.broadcast_to(allowed.any(-1, keepdims=True), allowed.shape)
        # a row with nothing allowed is scored 0 (finite: its softmax has a finite gradient)
        # and zeroed after the softmax
        fill = np.where(any_row, -np.inf, 0.0).astype(scores.dtype)
        scores = O.where(_on(allowed, scores), scores, _on(fill, scores))
    weights = O.softmax(scores, -1)
    if allowed is not None and not allowed.any(-1).all():
        weights = O.where(_on(allowed.any(-1, keepdims=True), weights), weights, 0.0)
    if dropout_p > 0.0:
        from .functional import dropout

        weights = dropout(weights, dropout_p, training=True)
    out = O.matmul(weights, v)
    order = _query_order(q) if dropout_p == 0.0 else None
    if order is not None:
        # PyTorch's CPU kernel writes the output in the query's memory order (empty_like):
        # code that merges heads with out.transpose(1, 2).view(B, L, H * D) relies on it when
        # the query is a projection viewed as (B, L, H, D) and transposed (the SDPA tutorial)
        back = tuple(order.index(d) for d in range(4))
        out = O.permute(O.permute(out, order).contiguous(), back)
    return out


def _query_order(q):
    """The dims of a 4-D query from the outermost in memory to the innermost, when that is not
    C order and its last dim is the innermost (PyTorch's condition for its CPU kernel)."""
    if type(q) is not Tensor or q.ndim != 4:  # (vmap's batched tensors have no layout)
        return None
    d = q._data
    if type(d) is not np.ndarray or d.flags.c_contiguous or d.strides[3] != d.itemsize:
        return None
    order = tuple(sorted(range(4), key=lambda k: -d.strides[k]))
    return None if order == (0, 1, 2, 3) else order


def _on(arr, like):
    """A constant tensor of host values on ``like``'s device (a mask built on the host)."""
    t = _make(arr)
    return t.to(like.device) if like.is_cuda else t


def _as_additive(mask, dtype):
    """A boolean mask (True: masked out) as 0/-inf; a float mask as it is."""
    m = as_tensor(mask)
    if m.dtype == np.bool_:
        return _on(np.where(host_array(m._data), -np.inf, 0.0).astype(dtype), m)
    return m


def canonical_mask(mask, name, other=None, other_name="", dtype=None):
    """PyTorch's ``_canonical_mask``: a mask must be boolean or floating (AssertionError
    otherwise); one of another dtype than ``other`` (the mask given beside it) warns that
    mismatched masks are deprecated; a boolean one becomes 0/-inf of ``dtype``."""
    if mask is None:
        return None
    m = as_tensor(mask)
    if m.dtype != np.bool_ and m.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and as_tensor(other).dtype != m.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    return _as_additive(m, dtype) if m.dtype == np.bool_ else m
