"""What a traced function changes: in-place updates, ``.grad`` and optimizer steps, and the
gradients of ``backward()`` / ``autograd.grad`` (``vjp.backprop`` over the program).

Each handler runs after the eager call it stands for (see ``handlers.handle``) and emits nodes
or effects; an effect is a write into a tensor the program does not own (an argument or a
captured tensor), a ``.grad`` change, or a call of an optimizer's or scheduler's ``step``.
"""

import numpy as np

from .. import grad_mode as _gm
from ..ops.index_keys import ints_first
from ..tensor import Tensor
from . import assign, ir
from .ir import Unsupported
from .trace import _snap, check, check_value
from .vjp import backprop

_NUMBER = (bool, int, float)
_CONST_FORMS = {("add", False): ("addc", 1), ("sub", False): ("addc", -1),
                ("mul", False): ("mulc", 1), ("div", False): ("divc", 1)}


def _is_number(x):
    return isinstance(x, _NUMBER) and not isinstance(x, np.generic)


# ---- in place ----

def _target(tr, name, x, other):
    """Value id of ``x`` before an in-place write into it, refusing what the replay cannot
    write the same way."""
    rg_other = isinstance(other, Tensor) and other._rg
    if _gm.is_grad_enabled() and (x._rg or rg_other):
        raise Unsupported(f"{name} recorded for autograd (in place under grad mode)")
    if id(x) in tr.grad_objs:
        raise Unsupported(f"{name} on a .grad tensor")
    if id(x) in tr.viewed or x._base is not None:
        raise Unsupported(f"{name} on a tensor that has views or is a view")
    if id(x) not in tr.cur:
        tr.v(x)
    return tr.cur[id(x)]


def inplace(tr, name, x, other, result, alpha=1):
    if not isinstance(x, Tensor) or result is not x:
        raise Unsupported(f"{name} on a non-tensor")
    old = _target(tr, name, x, other)
    dtype = ir.dtype_of(tr.g.val[old])
    base = {"subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div"}.get(
        name.rstrip("_"), name.rstrip("_"))
    if base in ("add", "sub", "mul", "div"):
        if _is_number(other):
            c = other * alpha if base in ("add", "sub") else other
            op, sign = _CONST_FORMS[(base, False)]
            new = tr.e(op, (old,), c=-c if sign < 0 else c)
        else:
            ov = tr.v(other)
            if alpha != 1:
                ov = tr.e("mulc", (ov,), c=alpha)
            new = tr.e(base, (old, ov))
    elif base in ("zero", "fill"):
        value = 0 if base == "zero" else other
        if isinstance(value, Tensor):
            raise Unsupported("fill_ with a tensor")
        new = tr.g.emit("const", (), False, value=ir.norm(np.full(x.shape, value, dtype)))
    elif base == "copy":
        new = tr.e("broadcast_to", (tr.v(other),), shape=x.shape)
    else:
        raise Unsupported(f"in-place {name}")
    if ir.shape_of(tr.g.val[new]) != x.shape:
        new = tr.e("broadcast_to", (new,), shape=x.shape)
    if ir.dtype_of(tr.g.val[new]) != dtype or type(tr.g.val[new]) is not float and \
            type(x._data) is float or tr.g.producer[new] >= 0 and \
            tr.g.nodes[tr.g.producer[new]].op in ("broadcast_to", "const"):
        new = tr.e("astype", (new,), dtype=dtype)
    _written(tr, x, new, name)


def setitem(tr, x, key, value, result):
    """``x[key] = value`` (no autograd): a node that is ``x`` with the elements replaced, then
    the same write as any in-place op."""
    if not isinstance(x, Tensor) or result is not None:
        raise Unsupported("__setitem__ on a non-tensor")
    old = _target(tr, "__setitem__", x, value)
    if type(tr.g.val[old]) is float:
        raise Unsupported("__setitem__ on a 0-d tensor")
    v = tr.v(value)
    if isinstance(key, (Tensor, np.ndarray)) and key.dtype == np.bool_:
        m = tr.v(key)
        if ir.shape_of(tr.g.val[v]) not in ((), (1,)):  # its length must be the mask's count
            count = tr.e("count", (m,))
            tr.g.effect("guard", (count,), expected=tr.g.val[count], why="the size of a mask")
        new = tr.e("mask_assign", (old, m, v))
    else:
        from .handlers import _key_part, list_key

        if type(key) is list and list_key(key):
            raise Unsupported("a list of sequences as an index")
        items = tuple(_key_part(tr, k) for k in (key if isinstance(key, tuple) else (key,)))
        if ints_first(items) is not None:  # (integers select first in eager: PyTorch's rule)
            raise Unsupported("integers among index arrays in __setitem__")
        new = tr.e("assign", (old, v), key=items)
    _written(tr, x, new, "__setitem__")


def _written(tr, x, new, name):
    """``x`` now holds value ``new``: check it, write it into an argument or captured tensor."""
    check(tr.g.val[new], x._data, name)
    r = tr.ref_of.get(id(x))
    if r is not None:
        tr.g.effect("write", (new,), ref=r.index)
        if x._rg:
            new = tr.g.emit("leaf", (new,), True)
            tr.leaf_of[new] = r
            if tr.after_step:
                tr.late.add(new)
    tr._map(x, new)


# ---- autograd ----

def _grad_state(tr, r):
    """Value id of ``r``'s ``.grad`` now (None: no grad), registering what must be guarded."""
    st = tr.gstate[r.index]
    if st == "start":
        if tr.after_step:
            raise Unsupported("a .grad read after an optimizer step")
        tr.start_guards.append((r, r.start_none))
        if r.start_none:
            st = None
        else:
            before = tr.grads_before.get(r.index)  # (read in a backward: its value before it)
            st = tr.g.emit("gload", (), False, ref=r.index,
                           value=_snap(r.obj._grad._data) if before is None else before)
        tr.gstate[r.index] = st
    elif st == "unknown":
        raise Unsupported("a .grad used after an optimizer step")
    return st


def backward(tr, self, gradient, retain_graph, create_graph, inputs, result):
    if create_graph:
        raise Unsupported("backward(create_graph=True)")
    if inputs is not None:
        raise Unsupported("backward(inputs=...)")
    loss = tr.v(self)
    seed = tr.v(gradient) if gradient is not None else tr.g.emit(
        "const", (), False, value=1.0 if type(tr.g.val[loss]) is float else
        np.ones_like(tr.g.val[loss]))
    adj = backprop(tr.g, {loss: seed}, False)
    if any(v in tr.internal_leaves for v in adj):
        raise Unsupported("backward() into a leaf made inside the function (its .grad)")
    per_ref = {}
    for vid, g in adj.items():
        r = tr.leaf_of.get(vid)
        if r is not None:
            per_ref[r.index] = tr.e("add", (per_ref[r.index], g)) if r.index in per_ref else g
    for idx, g in per_ref.items():
        r = tr.refs[idx]
        old = _grad_state(tr, r)
        new = g if old is None else tr.g.emit("add", (old, g), False)
        dtype = r.obj.dtype
        if tr.g.dtype(new) != dtype:
            new = tr.g.emit("astype", (new,), False, dtype=dtype)
        check_value(tr, new, r.obj._grad._data, "a gradient")
        tr.versions[id(r.obj._grad)] = r.obj._grad._version
        tr.g.effect("setgrad", (new,), ref=idx, fresh=old is None)
        tr.gstate[idx] = new
    tr.grads_before = {}


def autograd_grad(tr, a, result):
    outputs, inputs = a["outputs"], a["inputs"]
    if a.get("is_grads_batched"):
        raise Unsupported("autograd.grad(is_grads_batched=True)")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    gos = a.get("grad_outputs")
    gos = [gos] if isinstance(gos, Tensor) or gos is None else list(gos)
    if len(gos) == 1 and len(outs) > 1 and gos[0] is None:
        gos = gos * len(outs)
    seeds = {}
    for o, go in zip(outs, gos):
        ov = tr.v(o)
        if go is None:
            val = tr.g.val[ov]
            sv = tr.g.emit("const", (), False, value=1.0 if type(val) is float else
                           np.ones_like(val))
        else:
            sv = tr.v(go)
        seeds[ov] = tr.e("add", (seeds[ov], sv)) if ov in seeds else sv
    in_vids = [tr.v(t) for t in ins]
    adj = backprop(tr.g, seeds, bool(a.get("create_graph")))
    for t, vid, res in zip(ins, in_vids, result):
        g = adj.get(vid)
        if res is None:
            if g is not None:
                raise Unsupported("autograd.grad: an input eager found unused")
            continue
        if g is None:
            raise Unsupported("autograd.grad: materialized zero gradient")
        if tr.g.shape(g) != res.shape:
            g = tr.e("broadcast_to", (g,), shape=res.shape)
        tr.out(res, g, "autograd.grad")


def grad_get(tr, self, result):
    r = tr.ref_of.get(id(self))
    if r is None:
        if id(self) in tr.cur:
            raise Unsupported(".grad of a tensor computed in the function")
        tr.v(self)
        r = tr.ref_of.get(id(self))
    st = _grad_state(tr, r)
    if result is None:
        if st is not None:
            raise Unsupported(".grad differs from eager")
        return
    if st is None:
        raise Unsupported(".grad differs from eager")
    tr.grad_objs.add(id(result))
    try:
        check(tr.g.val[st], result._data, ".grad")
    except Unsupported:  # (the program's .grad was checked when set: written since, unseen)
        from .audit import UNSEEN_WRITE

        raise Unsupported(UNSEEN_WRITE) from None
    tr._map(result, st)


def grad_set(tr, self, value):
    if value is not None:
        raise Unsupported("assigning a tensor to .grad")
    r = tr.ref_of.get(id(self)) or tr._ref(self, _found(tr, self))
    tr.g.effect("setgrad", (), ref=r.index)
    tr.gstate[r.index] = None


def zero_grad(tr, self, set_to_none):
    """``Optimizer.zero_grad`` or ``Module.zero_grad``: each ``.grad`` set to None, or filled
    with zeros in place (``set_to_none=False``; one that is None stays None)."""
    params = [p for group in self.param_groups for p in group["params"]] \
        if hasattr(self, "param_groups") else list(self.parameters())
    for p in params:
        if set_to_none:
            grad_set(tr, p, None)
            continue
        r = tr.ref_of.get(id(p)) or tr._ref(p, _found(tr, p))
        st = _grad_state(tr, r)
        if st is None:
            continue
        grad = p._grad
        if grad is None or grad._seg is not None:  # (a gradient with history: create_graph)
            raise Unsupported("zero_grad(set_to_none=False) of a gradient with history")
        d = grad._data
        zeros = tr.g.emit("const", (), False, value=0.0 if type(d) is float else np.zeros_like(d))
        check(tr.g.val[zeros], d, "zero_grad")
        tr.versions[id(grad)] = grad._version
        tr.g.effect("setgrad", (zeros,), ref=r.index, fresh=False)
        tr.gstate[r.index] = zeros


def _found(tr, p):
    hit = tr.candidates.get(id(p))
    if hit is None:
        raise Unsupported(".grad of an unknown tensor")
    return hit[1]


_SGD_PLAIN = {"momentum": 0, "weight_decay": 0, "maximize": False, "nesterov": False}


def _plain_sgd(tr, obj):
    """SGD without momentum or weight decay keeps no state: its update ``p -= lr * p.grad``
    becomes nodes (guarded on the hyperparameters) instead of a call."""
    from ..optim.sgd import SGD

    if type(obj) is not SGD or id(obj) not in tr.candidates or not tr.plain_sgd:
        return False
    from .reach import _SCHEDULERS

    if any(isinstance(s, _SCHEDULERS()) and getattr(s, "optimizer", None) is obj
           for s, _ in tr.candidates.values()):  # its rate changes: SGD's own step reads it
        return False
    for group in obj.param_groups:
        if any(group.get(k) != v for k, v in _SGD_PLAIN.items()):
            return False
        for p in group["params"]:
            if id(p) not in tr.cur or id(p) not in tr.ref_of or tr.gstate.get(
                    tr.ref_of[id(p)].index) in ("unknown",):
                return False
    return True


def sgd_update(tr, obj):
    for group in obj.param_groups:
        lr = group["lr"]
        for p in group["params"]:
            r = tr.ref_of[id(p)]
            g = _grad_state(tr, r)
            if g is None:
                continue
            old = tr.cur[id(p)]
            new = tr.g.emit("sub", (old, tr.g.emit("mulc", (g,), False, c=lr)), False)
            if ir.dtype_of(tr.g.val[new]) != ir.dtype_of(tr.g.val[old]):
                new = tr.g.emit("astype", (new,), False, dtype=ir.dtype_of(tr.g.val[old]))
            check(tr.g.val[new], p._data, "SGD.step")
            tr.g.effect("write", (new,), ref=r.index)
            if p._rg:
                new = tr.g.emit("leaf", (new,), True)
                tr.leaf_of[new] = r
            tr._map(p, new)
    groups = tuple((dict(group, params=None), tuple(group["params"]))
                   for group in obj.param_groups)
    tr.islands.append((obj, tr.candidates[id(obj)][1], None))
    tr.hyper_guards.append((len(tr.islands) - 1, groups))


def island(tr, name, a, result):
    """An optimizer's or scheduler's ``step``: the replay calls it (its Python state changes)."""
    obj = a["self"]
    if name.endswith(".step") and a.get("closure") is None and _plain_sgd(tr, obj):
        return sgd_update(tr, obj)
    hit = tr.candidates.get(id(obj))
    if hit is None:
        from ..optim.optimizer import Optimizer

        if isinstance(obj, Optimizer):
            raise Unsupported(f"{name} of an optimizer the tracer cannot find from the function")
        hit = (obj, None)
    extra = {k: v for k, v in a.items() if k != "self"}
    if any(v is not None for v in extra.values()):
        raise Unsupported(f"{name} with arguments")
    tr.islands.append((obj, hit[1], name.split(".")[1]))
    tr.g.effect("island", (), index=len(tr.islands) - 1)
    tr.after_step = True
    for r in tr.refs:  # the step changed tensors behind the tracer's back: read them again
        if tr.cur.get(id(r.obj)) is not None and isinstance(r.obj, Tensor):
            del tr.cur[id(r.obj)]
        tr.gstate[r.index] = "unknown"
    assign.after_step(tr)
    # what each .grad is after the step: nothing the tracer does not see may change it later
    # (``audit.verify``), as the replay would not
    tr.grads_after_step = {r.index: (r.obj._grad, r.obj._grad._version, _snap(r.obj._grad._data))
                           if r.obj._grad is not None else (None, 0, None)
                           for r in tr.refs if isinstance(r.obj, Tensor)}


def requires_grad_(tr, t, flag, result):
    """A tensor made inside the function becomes a leaf that requires grad (as the function
    transforms do with their inputs); changing the flag of an outside tensor is not replayed."""
    if flag and t._seg is not None and id(t) in tr.cur:
        return  # a tensor with history already requires grad: nothing changes
    if id(t) in tr.ref_of or id(t) not in tr.cur:
        raise Unsupported("requires_grad_ on a tensor from outside the function")
    if not flag:  # a leaf made here stops requiring grad: its value, detached
        tr._map(t, tr.g.emit("detach", (tr.cur[id(t)],), False))
        return
    vid = tr.g.emit("leaf", (tr.cur[id(t)],), True)
    tr.internal_leaves.add(vid)
    tr._map(t, vid)
