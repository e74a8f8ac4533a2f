"""Python values a traced function assigns: ``model.train()``/``eval()`` set ``training``, a
step may set a learning rate from an argument (``group["lr"] = lr``). Replays run no Python
code of the function, so each change is found where the trace checks the tensors (before each
optimizer or scheduler step, and at the end, ``audit.verify``) and becomes an assignment made
there, in order with the steps that read it: objects end as eagerly, and a step reads what it
read eagerly.

An assignment of the value already there changes nothing to find. For a learning rate (or any
float inside an optimizer or scheduler, which the replay does not guard) equal to a float
argument, that could be such an assignment, so the value is guarded: a replay where it differs
records again."""

import math

from .ir import Unsupported
from .reach import _SCALARS, walk_or

_GONE = object()
_TARGETS = frozenset(("attr", "item", "cell", "fcell", "glob", "fglob"))


def start(tr):
    """The scalars' values when the function starts (as ``reachable`` found them); guards the
    unguarded floats equal to a float argument (see above)."""
    floats = {v for v in tr.args if type(v) is float}
    tr.values.extend((entry[0], entry[1]) for entry in tr.loose
                     if type(entry[1]) is float and entry[1] in floats)
    seen = {path: value for path, value in tr.values}
    seen.update((entry[0], entry[1]) for entry in tr.loose)
    return seen


def settle(tr):
    """Record as effects the assignments made since the last look (the start, or a step)."""
    for path, was in list(tr.py_seen.items()):
        now = walk_or(tr, path, _GONE)
        if _same(now, was):
            continue
        if now is _GONE:
            raise Unsupported("the function deletes a Python value it reads")
        if not isinstance(now, _SCALARS):  # (``self.last = out.detach()``: each replay would
            # leave, or put back, the trace's object, where eager code stores a new one)
            raise Unsupported(f"the function stores a {type(now).__name__} where a Python value "
                              "it reads was (replays would not)")
        kind, name = path[-1]
        if kind not in _TARGETS or kind == "attr" and not name.isidentifier():
            raise Unsupported("the function changes a Python value it reads where a replay "
                              "cannot set it (a default argument)")
        tr.islands.append((None, path, ("set", now)))
        tr.g.effect("island", (), index=len(tr.islands) - 1)
        tr.py_seen[path] = now


def after_step(tr):
    """A step changed its own values (a scheduler's epoch, the rates): they are new baselines."""
    tr.py_seen = {path: walk_or(tr, path, _GONE) for path in tr.py_seen}


def _same(a, b):
    if type(a) is not type(b):
        return False
    return a == b or isinstance(a, float) and math.isnan(a) and math.isnan(b)
