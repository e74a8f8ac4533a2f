"""Lookups by integer positions as replay nodes: ``F.embedding``, ``index_select`` and indexing
with one integer tensor along a dim (``w[idx]``, ``x[:, idx]``) whose positions are a value of
the program (an argument, a captured tensor, or computed in the function), so that a replay
with new positions reads the new rows.

Two primitives, each linear in its first input and each the other's VJP, so gradients of any
order stay in the program: ``take`` (``x``'s slices at ``idx`` along ``axis``) and
``take_grad`` (zeros of ``x``'s shape with ``g``'s slices added at ``idx``: repeated positions
accumulate). A guard checks the positions' range (``index_ok``), so a replay with one out of
range runs eagerly and raises eager's error. ``padding_idx`` is eager's: the rows looked up at
that index pass through a ``detach``, so no gradient reaches that row of the weight."""

import numpy as np

from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES


def take(p, x, idx):
    return np.take(x, idx, axis=p["axis"])


def take_grad(p, g, idx):
    """The VJP of ``take`` at cotangent ``g``: ``g`` scattered with addition."""
    z = np.zeros(p["shape"], p["dtype"])
    np.add.at(z, (slice(None),) * p["axis"] + (idx,), g)
    return z


def index_ok(p, idx):
    """Whether every position lies in ``[lo, hi)``."""
    return bool(np.all((idx >= p["lo"]) & (idx < p["hi"])))


ir.IMPL["take"] = take
ir.IMPL["take_grad"] = take_grad
ir.IMPL["index_ok"] = index_ok


def _take_vjp(b, node, g):
    x, idx = node.ins
    return [b.e("take_grad", g, idx, axis=node.params["axis"], shape=b.shape(x),
                dtype=b.g.dtype(x)), None]


def _take_grad_vjp(b, node, g):
    return [b.e("take", g, node.ins[1], axis=node.params["axis"]), None]


RULES["take"] = _take_vjp
RULES["take_grad"] = _take_grad_vjp


def _positions(tr, idx, what):
    """The value id of the integer positions ``idx``."""
    vid = tr.v(idx)
    if type(tr.g.val[vid]) is float or tr.g.dtype(vid).kind not in "iu" or \
            tr.g.dtype(vid) == np.uint8:
        raise Unsupported(f"{what} with positions of dtype {tr.g.dtype(vid)}")
    return vid


def _take(tr, x, idx, axis, lo, what):
    """``take`` of ``x`` (a value id) at positions ``idx`` (a value id) along ``axis``, after a
    guard that every position is in ``[lo, n)``, ``n`` the length of that dim."""
    n = tr.g.shape(x)[axis]
    ok = tr.e("index_ok", (idx,), lo=lo, hi=n)
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{what}: a position is out of range")
    return tr.e("take", (x, idx), axis=axis)


def embedding(tr, name, a, result):
    if a.get("max_norm") is not None:
        raise Unsupported("embedding with max_norm (it renormalises the weight in place)")
    if a.get("scale_grad_by_freq"):
        raise Unsupported("embedding with scale_grad_by_freq")
    w = tr.v(a["weight"])
    if len(tr.g.shape(w)) != 2 or not isinstance(a["input"], (Tensor, np.ndarray)):
        raise Unsupported("embedding of these arguments")
    idx = _positions(tr, a["input"], name)
    vid = _take(tr, w, idx, 0, 0, name)
    pad = a.get("padding_idx")
    if pad is not None:  # eager's where(idx != pad, rows, rows.detach())
        keep = tr.e("ne", (idx, tr.v(int(pad) % tr.g.shape(w)[0])))
        keep = tr.e("reshape", (keep,), shape=tr.g.shape(idx) + (1,))
        vid = tr.e("where", (keep, vid, tr.g.emit("detach", (vid,), False)))
    tr.out(result, vid, name)


def index_select(tr, name, a, result):
    x = tr.v(a["input"])
    shape = tr.g.shape(x)
    if not shape or not isinstance(a["index"], (Tensor, np.ndarray)):
        raise Unsupported("index_select of a 0-d tensor or with a list of positions")
    idx = _positions(tr, a["index"], name)
    if tr.g.shape(idx) != (tr.g.val[idx].size,):
        idx = tr.e("reshape", (idx,), shape=(-1,))
    axis = int(a["dim"]) % len(shape)
    tr.out(result, _take(tr, x, idx, axis, 0, name), name)


def value_key(tr, key):
    """``(axis, positions)`` when ``key`` indexes one dim with an integer tensor or array that
    is a value of the program (all other parts full slices, then at most an Ellipsis); else
    None (constant positions are baked in by ``handlers.getitem``)."""
    items = key if isinstance(key, tuple) else (key,)
    if items and items[-1] is Ellipsis:
        items = items[:-1]
    at = [i for i, k in enumerate(items) if isinstance(k, (Tensor, np.ndarray))]
    if len(at) != 1 or any(k != slice(None) for i, k in enumerate(items) if i != at[0]):
        return None
    k = items[at[0]]
    vid = tr.cur.get(id(k))
    if vid is None or tr.g.nodes[tr.g.producer[vid]].op == "const" or \
            k.dtype.kind not in "iu" or k.dtype == np.uint8:
        return None
    return at[0], vid


def getitem(tr, x, axis, idx, result):
    a = tr.v(x)
    if axis >= len(tr.g.shape(a)):
        raise Unsupported("indexing with more positions than dims")
    tr.out(result, _take(tr, a, idx, axis, -tr.g.shape(a)[axis], "indexing"), "indexing")
