"""``F.scaled_dot_product_attention`` as replay nodes, composed as eager composes it
(``nn/attention.py``): ``softmax(q k^T * scale + mask) v``, a boolean mask (``is_causal``'s lower
triangle, a constant of the shapes; or a mask tensor) filling the scores with ``-inf`` (0 in a row
with nothing allowed, whose weights are then zeroed), a float mask added. Each node has its VJP,
so gradients of any order stay in the program. Dropout and grouped-query heads are traced
through the ops eager uses, as before."""

import numpy as np

from ..tensor import Tensor
from .ir import Unsupported


def resolve(L):
    """The tracer's view of a call: one op where it is replayed whole, else ``None`` (followed
    into the ops eager uses)."""
    q, k, mask = L["query"], L["key"], L["attn_mask"]
    if L["dropout_p"] != 0.0 or not isinstance(q, Tensor) or not isinstance(k, Tensor) or \
            L["enable_gqa"] and q.ndim >= 3 and k.shape[-3] != q.shape[-3] or \
            mask is not None and not isinstance(mask, Tensor):
        return None
    return "scaled_dot_product_attention", {p: L[p] for p in (
        "query", "key", "value", "attn_mask", "is_causal", "scale")}


def _const(tr, value):
    return tr.g.emit("const", (), False, value=value)


def sdpa(tr, name, a, result):
    from .handlers import _in
    from .ir import norm

    q, k, v, mask = a["query"], a["key"], a["value"], a["attn_mask"]
    if not isinstance(v, Tensor) or not isinstance(result, Tensor) or \
            q.ndim < 2 or k.ndim < 2 or q.dtype.kind != "f" or \
            not (q.dtype == k.dtype == v.dtype == result.dtype):
        raise Unsupported(f"{name} of these operands")
    dt = result.dtype
    L, S = q.shape[-2], k.shape[-2]
    s = 1.0 / float(np.sqrt(q.shape[-1])) if a["scale"] is None else float(a["scale"])
    kv = tr.v(k)
    nd = k.ndim
    kt = tr.e("permute", (kv,), axes=tuple(range(nd - 2)) + (nd - 1, nd - 2))
    scores = tr.e("mulc", (tr.e("matmul", (tr.v(q), kt)),), c=s)
    allowed = rows = None  # (rows: whether each row allows any key)
    if a["is_causal"]:
        m = np.tril(np.ones((L, S), bool))
        allowed = _const(tr, m)
        fill = np.where(np.broadcast_to(m.any(-1, keepdims=True), m.shape), -np.inf, 0.0)
        fill = _const(tr, norm(fill.astype(dt)))
        if not m.any(-1).all():
            rows = _const(tr, m.any(-1, keepdims=True))
    elif mask is not None and mask.dtype == np.bool_:
        allowed = tr.v(mask)
        ones = tr.e("astype", (allowed,), dtype=np.dtype(np.float64))
        rows = tr.e("gt", (tr.e("amax", (ones,), axis=(mask.ndim - 1,), keepdims=True),
                           _const(tr, 0.0)))
        fill = tr.e("where", (rows, _const(tr, norm(np.asarray(-np.inf, dt))),
                              _const(tr, norm(np.asarray(0.0, dt)))))
    elif mask is not None:
        scores = tr.e("add", (scores, _in(tr, mask, result)))
    if allowed is not None:
        scores = tr.e("where", (allowed, scores, fill))
    axis = (len(tr.g.shape(scores)) - 1,)
    weights = tr.e("exp", (tr.e("sub", (scores, tr.e("logsumexp", (scores,), axis=axis,
                                                          keepdims=True))),))
    if rows is not None:
        weights = tr.e("where", (rows, weights, _const(tr, norm(np.asarray(0.0, dt)))))
    tr.out(result, tr.e("matmul", (weights, tr.v(v))), name)


HANDLERS = {"scaled_dot_product_attention": sdpa}
