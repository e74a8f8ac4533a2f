"""``F.nll_loss`` and ``F.cross_entropy`` (class-index targets, class weights, label smoothing)
as replay nodes.

The targets are a value of the program (an argument or a captured tensor), so a replay with new
targets picks the new classes. Two primitives: ``nll`` (the reduced negative log-likelihood
picked at the targets) and its VJP ``nll_grad`` (minus the cotangent scattered to the targets);
each is linear in its first input and the VJP of one is the other, so gradients of any order
stay in the program. Class weights are a third input of both (read without a gradient, as
eager and PyTorch): each row is scaled by its target's weight, and a mean divides by the sum of
the used targets' weights. Label smoothing adds PyTorch's second term, composed of existing
nodes. A replay whose targets are out of range fails a guard and runs eagerly, which raises
PyTorch's error.
"""

import numpy as np

from ..tensor import Tensor
from . import ir
from .ir import Unsupported
from .vjp import RULES

REDUCTIONS = ("none", "mean", "sum")


def _rows(t, ignore):
    used = t != ignore
    return used, np.where(used, t, 0)


def _weights(used, safe, w, dtype):
    """Each row's weight: its target's class weight (1 without weights), 0 if ignored."""
    used = used.astype(dtype)
    return used if w is None else used * np.asarray(w).astype(dtype)[safe]


def target_wsum(p, t, w=None):
    """The mean's denominator: the used targets' weights summed (their count without)."""
    used, safe = _rows(t, p["ignore"])
    return np.asarray(_weights(used, safe, w, p["dtype"]).sum(), p["dtype"])


def nll(p, x, t, w=None):
    """Per-row ``-w[t_i] x[i, t_i]`` (0 where ``t_i`` is ``ignore_index``), reduced."""
    used, safe = _rows(t, p["ignore"])
    picked = -x[np.arange(x.shape[0]), safe]
    if w is not None:
        picked = picked * _weights(used, safe, w, x.dtype)
    loss = np.where(used, picked, 0.0).astype(x.dtype, copy=False)
    if p["reduction"] == "none":
        return loss.reshape(p["shape"])
    total = loss.sum()
    if p["reduction"] == "sum":
        return total
    count = _weights(used, safe, w, x.dtype).sum()
    if count == 0:
        return total * 0.0 + np.nan
    return total / np.asarray(count, dtype=x.dtype)


def nll_grad(p, g, t, w=None):
    """The VJP of ``nll`` at cotangent ``g``: ``-g w[t_i]`` (per row, or / the weights' sum for
    a mean) at each used row's target, zeros elsewhere."""
    used, safe = _rows(t, p["ignore"])
    out = np.zeros((t.shape[0], p["classes"]), p["dtype"])
    rw = _weights(used, safe, w, p["dtype"])
    if p["reduction"] == "none":
        coef = -np.reshape(g, -1)
    else:
        count = rw.sum() if p["reduction"] == "mean" else 1
        coef = np.full(t.shape[0], -g / count if count else 0.0)
    out[np.arange(t.shape[0]), safe] = np.where(used, coef * rw if w is not None else coef, 0.0)
    return out


def target_used(p, t):
    return np.asarray(t != p["ignore"])


def targets_ok(p, t):
    """Whether every target is a class or ``ignore_index`` (else eager raises IndexError)."""
    return bool(np.all((t == p["ignore"]) | ((t >= 0) & (t < p["classes"]))))


ir.IMPL["nll"] = nll
ir.IMPL["nll_grad"] = nll_grad
ir.IMPL["targets_ok"] = targets_ok
ir.IMPL["target_used"] = target_used
ir.IMPL["target_wsum"] = target_wsum


def _nll_vjp(b, node, g):
    p = node.params
    x = b.g.val[node.ins[0]]
    return [b.e("nll_grad", g, *node.ins[1:], ignore=p["ignore"], reduction=p["reduction"],
                classes=x.shape[1], dtype=x.dtype)] + [None] * (len(node.ins) - 1)


def _nll_grad_vjp(b, node, g):
    p = node.params
    shape = b.shape(node.ins[0])
    return [b.e("nll", g, *node.ins[1:], ignore=p["ignore"], reduction=p["reduction"],
                shape=shape)] + [None] * (len(node.ins) - 1)


RULES["nll"] = _nll_vjp
RULES["nll_grad"] = _nll_grad_vjp


def _weight(tr, name, a, logp):
    """The class weights' value id (read without a gradient), or None."""
    w = a.get("weight")
    if w is None:
        return None
    if not isinstance(w, Tensor) or w.dtype != tr.g.dtype(logp) or w.ndim != 1:
        raise Unsupported(f"{name} with class weights of another dtype")
    return tr.g.emit("detach", (tr.v(w),), False)


def _loss(tr, name, logp, a, result, smoothing=0.0):
    """Nodes of the class-index loss over log-probabilities ``logp`` (a value id)."""
    if a.get("size_average") is not None or a.get("reduce") is not None:
        raise Unsupported(f"{name} with the legacy size_average/reduce arguments")
    reduction = a["reduction"]
    target = a["target"]
    if reduction not in REDUCTIONS or not isinstance(target, (Tensor, np.ndarray)):
        raise Unsupported(f"{name} with these arguments")
    tv = tr.v(target)
    t_val = tr.g.val[tv]
    xs = tr.g.shape(logp)
    if type(t_val) is not np.ndarray or t_val.dtype.kind not in "iu" or len(xs) not in (1, 2):
        raise Unsupported(f"{name} with probability targets or more than 2 dims")
    w = _weight(tr, name, a, logp)
    if len(xs) == 1:
        logp = tr.e("reshape", (logp,), shape=(1,) + xs)
    flat = tr.e("reshape", (tv,), shape=(-1,))
    classes = tr.g.shape(logp)[1]
    ignore = int(a["ignore_index"])
    ok = tr.e("targets_ok", (flat,), ignore=ignore, classes=classes)
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{name}: a target is out of range")
    ins = (logp, flat) if w is None else (logp, flat, w)
    vid = tr.e("nll", ins, ignore=ignore, reduction=reduction, shape=tuple(t_val.shape))
    if smoothing:
        vid = _smoothed(tr, vid, logp, flat, w, ignore, reduction, tuple(t_val.shape), smoothing)
    tr.out(result, vid, name)


def _smoothed(tr, nll_id, logp, flat, w, ignore, reduction, shape, eps):
    """``nll (1 - eps) + smooth eps / C``, smooth the rows' ``-sum(w logp)`` as eager's."""
    classes = tr.g.shape(logp)[1]
    prod = logp if w is None else tr.e("mul", (logp, tr.e("reshape", (w,), shape=(1, -1))))
    rows = tr.e("neg", (tr.e("sum", (prod,), axis=(1,), keepdims=False),))
    used = tr.g.emit("target_used", (flat,), False, ignore=ignore)
    smooth = tr.e("where", (used, rows, tr.v(0.0)))
    if reduction == "none":
        smooth = tr.e("reshape", (smooth,), shape=shape)
    else:
        smooth = tr.e("sum", (smooth,), axis=None, keepdims=False)
    if reduction == "mean":  # (nothing to average: nan with a zero gradient, as eager's)
        dtype = tr.g.dtype(logp)
        den = tr.g.emit("target_wsum", (flat,) if w is None else (flat, w), False,
                        ignore=ignore, dtype=dtype)
        zero = tr.e("eq", (den, tr.v(0.0)))
        ratio = tr.e("div", (smooth, tr.e("where", (zero, tr.v(1.0), den))))
        smooth = tr.e("where", (zero, tr.v(float("nan")), ratio))
    return tr.e("add", (tr.e("mulc", (nll_id,), c=1.0 - eps),
                        tr.e("mulc", (smooth,), c=eps / classes)))


def nll_loss(tr, name, a, result):
    _loss(tr, name, tr.v(a["input"]), a, result)


def cross_entropy(tr, name, a, result):
    eps = a.get("label_smoothing", 0.0)
    eps = float(eps) if eps > 0.0 else 0.0
    x = tr.v(a["input"])
    if not tr.g.shape(x):
        raise Unsupported(f"{name} of a 0-d input")
    axis = (0,) if len(tr.g.shape(x)) == 1 else (1,)
    logp = tr.e("sub", (x, tr.e("logsumexp", (x,), axis=axis, keepdims=True)))
    _loss(tr, name, logp, a, result, eps)
