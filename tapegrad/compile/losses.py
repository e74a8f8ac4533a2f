"""``F.nll_loss`` and ``F.cross_entropy`` (class-index targets) as replay nodes.

The targets are a value of the program (an argument or a captured tensor), so a replay with new
targets picks the new classes. Two primitives: ``nll`` (the reduced negative log-likelihood
picked at the targets) and its VJP ``nll_grad`` (minus the cotangent scattered to the targets);
each is linear in its first input and the VJP of one is the other, so gradients of any order
stay in the program. A replay whose targets are out of range fails a guard and runs eagerly,
which raises PyTorch's error.
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


def nll(p, x, t):
    """Per-row ``-x[i, t_i]`` (0 where ``t_i`` is ``ignore_index``), reduced."""
    used, safe = _rows(t, p["ignore"])
    loss = np.where(used, -x[np.arange(x.shape[0]), safe], 0.0).astype(x.dtype, copy=False)
    if p["reduction"] == "none":
        return loss.reshape(p["shape"])
    total = loss.sum()
    if p["reduction"] == "sum":
        return total
    count = used.sum()
    if count == 0:
        return total * 0.0 + np.nan
    return total / np.asarray(count, dtype=x.dtype)


def nll_grad(p, g, t):
    """The VJP of ``nll`` at cotangent ``g``: ``-g`` (per row, or / the count for a mean) at
    each used row's target, zeros elsewhere."""
    used, safe = _rows(t, p["ignore"])
    out = np.zeros((t.shape[0], p["classes"]), p["dtype"])
    if p["reduction"] == "none":
        coef = -np.reshape(g, -1)
    else:
        count = used.sum() if p["reduction"] == "mean" else 1
        coef = np.full(t.shape[0], -g / count if count else 0.0)
    out[np.arange(t.shape[0]), safe] = np.where(used, coef, 0.0)
    return out


def targets_ok(p, t):
    """Whether every target is a class or ``ignore_index`` (else eager raises IndexError)."""
    return bool(np.all((t == p["ignore"]) | ((t >= 0) & (t < p["classes"]))))


ir.IMPL["nll"] = nll
ir.IMPL["nll_grad"] = nll_grad
ir.IMPL["targets_ok"] = targets_ok


def _nll_vjp(b, node, g):
    p = node.params
    x = b.g.val[node.ins[0]]
    return [b.e("nll_grad", g, node.ins[1], ignore=p["ignore"], reduction=p["reduction"],
                classes=x.shape[1], dtype=x.dtype), None]


def _nll_grad_vjp(b, node, g):
    p = node.params
    shape = b.shape(node.ins[0])
    return [b.e("nll", g, node.ins[1], ignore=p["ignore"], reduction=p["reduction"],
                shape=shape), None]


RULES["nll"] = _nll_vjp
RULES["nll_grad"] = _nll_grad_vjp


def _loss(tr, name, logp, a, result):
    """Nodes of the class-index loss over log-probabilities ``logp`` (a value id)."""
    if a.get("weight") is not None:
        raise Unsupported(f"{name} with class weights")
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
    if len(xs) == 1:
        logp = tr.e("reshape", (logp,), shape=(1,) + xs)
    flat = tr.e("reshape", (tv,), shape=(-1,))
    classes = tr.g.shape(logp)[1]
    ok = tr.e("targets_ok", (flat,), ignore=int(a["ignore_index"]), classes=classes)
    tr.g.effect("guard", (ok,), expected=True, kind="__bool__",
                why=f"{name}: a target is out of range")
    vid = tr.e("nll", (logp, flat), ignore=int(a["ignore_index"]), reduction=reduction,
               shape=tuple(t_val.shape))
    tr.out(result, vid, name)


def nll_loss(tr, name, a, result):
    _loss(tr, name, tr.v(a["input"]), a, result)


def cross_entropy(tr, name, a, result):
    if a.get("label_smoothing", 0.0) != 0.0:
        raise Unsupported(f"{name} with label smoothing")
    x = tr.v(a["input"])
    if not tr.g.shape(x):
        raise Unsupported(f"{name} of a 0-d input")
    axis = (0,) if len(tr.g.shape(x)) == 1 else (1,)
    logp = tr.e("sub", (x, tr.e("logsumexp", (x,), axis=axis, keepdims=True)))
    _loss(tr, name, logp, a, result)
