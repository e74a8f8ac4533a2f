"""What a trace checks beyond the ops it observes: writes it did not see, Python values of
optimizers and schedulers it baked in, and how to name the op behind a tensor it did not see.

A replay reproduces only what the tracer observed. Library code that writes into a tensor
through NumPy (``clip_grad_norm_`` scales each ``.grad`` that way) is not observed: where its
result reaches something the program does not read back through an op (an optimizer step, the
tensors' final state, the outputs), the replay would silently skip it. ``verify`` compares
every argument and captured tensor (and its ``.grad``) with the program's value for it there,
by version counter and by value, and rejects the trace when they differ.
"""

import numpy as np

from ..tensor import Tensor
from .assign import settle
from .ir import Unsupported
from .trace import check

UNSEEN_WRITE = ("a tensor was changed by code tg.compile does not see (a function that "
                "writes into tensors through NumPy, such as clip_grad_norm_)")


def verify(tr, where):
    """Raise ``Unsupported`` if an argument or captured tensor, or its ``.grad``, is not what
    the program says it is at this point of the trace; Python values the function assigned
    since the last check become assignments the replay makes here (``assign.py``)."""
    settle(tr)
    g = tr.g
    for r in tr.refs:
        t = r.obj
        if not isinstance(t, Tensor):
            continue
        vid = tr.cur.get(id(t))
        if vid is not None and (tr.versions.get(id(t), t._version) != t._version or
                                not _same(tr, vid, t._data)):
            raise Unsupported(f"{where}: {UNSEEN_WRITE}")
        st = tr.gstate.get(r.index)
        grad = t._grad
        if st is None or st == "start" and r.start_none:
            if grad is not None:
                raise Unsupported(f"{where}: {UNSEEN_WRITE}")
        elif type(st) is int and st < len(g.val):
            if grad is None or tr.versions.get(id(grad), grad._version) != grad._version or \
                    not _same(tr, st, grad._data):
                raise Unsupported(f"{where}: {UNSEEN_WRITE}")
        elif st == "unknown" and r.index in tr.grads_after_step:  # as the last step left it
            was, version, value = tr.grads_after_step[r.index]
            if grad is not was or grad is not None and (
                    grad._version != version or not _equal(value, grad._data)):
                raise Unsupported(f"{where}: {UNSEEN_WRITE}")


def _equal(a, b):
    try:
        check(a, b, "")
    except Unsupported:
        return False
    return True


def _same(tr, vid, data):
    """Whether value ``vid`` is ``data``; a value borrowed from eager (or not computed) is the
    eager array itself, so only its version counter can tell."""
    g = tr.g
    if vid in tr.borrowed or g.is_deferred(vid):
        return True
    try:
        check(g.val[vid], data, "")
    except Unsupported:
        return False
    return True


# ---- Python values inside optimizers and schedulers ----

def settle_guards(tr, result):
    """Add to the value guards the scalars inside optimizers and schedulers that need one.

    An optimizer's and a stepped scheduler's own scalars (learning rates, epoch counters) are
    read by the steps the replay calls, so guarding them would make every scheduled call record
    again. A float the function itself read and baked in (``lr * g``, a returned
    ``param_groups[0]["lr"]``) would go stale: such a value, equal before or after the call to
    a number baked into the program, is guarded. A scheduler the function does not step keeps
    every guard."""
    from ..optim.optimizer import Optimizer

    stepped = {id(obj) for obj, _, _ in tr.islands}
    baked = None
    for path, value, owner, parent, step in tr.loose:
        if not isinstance(owner, Optimizer) and id(owner) not in stepped:
            tr.values.append((path, value))
            continue
        if type(value) is not float:
            continue
        if baked is None:
            baked = _baked(tr.g, result)
        if value in baked or _current(parent, step) in baked:
            tr.values.append((path, value))


def _current(parent, step):
    try:
        return parent[step[1]] if step[0] == "item" else getattr(parent, step[1])
    except Exception:  # noqa: BLE001  (gone: nothing to compare)
        return None


def _baked(g, result):
    """The numbers the program holds as constants, and the Python numbers it returns."""
    out = set()
    for n in g.nodes:
        for v in n.params.values():
            _numbers(v, out)
    _numbers(result, out, True)
    out.discard(None)
    return out


def _numbers(v, out, deep=False):
    tv = type(v)
    if tv is float or tv is int:
        out.add(v)
    elif isinstance(v, np.generic) and v.dtype.kind in "fi":
        out.add(v.item())
    elif tv is np.ndarray and v.dtype.kind == "f" and v.size:
        out.update(v.ravel().tolist() if v.size <= 64 else (v.flat[0].item(), v.flat[-1].item()))
    elif deep and (tv is tuple or tv is list):
        for x in v:
            _numbers(x, out, True)
    elif deep and tv is dict:
        for x in v.values():
            _numbers(x, out, True)


# ---- messages ----

def unseen(x):
    """Why a tensor nobody traced reached an op: the op that made it, when autograd knows it."""
    name = None
    try:
        fn = x.grad_fn if isinstance(x, Tensor) else None
        name = type(fn).__name__ if fn is not None else None
    except Exception:  # noqa: BLE001  (a message only)
        pass
    made = f" (made by {name}: that op is not supported by tg.compile yet)" if name else ""
    return f"a tensor computed by something the tracer does not see{made}"
