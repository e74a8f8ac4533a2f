"""What a compiled function can reach: the tensors, arrays, optimizers and schedulers it may
use (captured ones are guarded by identity), the Python scalars the replay bakes in (guarded
by value) and the lengths of the lists and dicts holding them, each with the path it was found
on, and ``walk``, which follows such a path again."""

import types

import numpy as np

from ..func.captures import code_names as _code_names
from ..tensor import Tensor


def _PLAIN_SUBCLASSES():
    """Tensor subclasses that behave as tensors (nn.Parameter): captured like them."""
    from ..nn.parameter import Parameter

    return (Parameter,)


_SCALARS = (str, int, float, bool, complex, type(None), np.generic)  # (NumPy scalars: by value)
MAX_VALUE_GUARDS = 256


def reachable(fn, flat_args, limit=20000):
    """What the function can reach: ``({id(obj): (obj, path)}, [(path, value)], loose)``, the
    tensors, arrays, optimizers and schedulers, the Python scalars (the values the replay bakes
    in), and ``loose``: ``(path, value, owner, parent, step)`` of the scalars inside an
    optimizer or scheduler ``owner``, which a step that the replay calls reads itself, so they
    are guarded only where the trace shows the function read them (``audit.settle_guards``).

    A path is a tuple of steps from a root: ("cell", i), ("glob", name), ("dflt", i), ("self",),
    ("arg", i), then ("item", key) / ("attr", name) / ("fcell", i) / ("fglob", name) (a
    closure cell or global of a function met on the way)."""
    from ..optim.optimizer import Optimizer

    owners = (Optimizer,) + _SCHEDULERS()
    found, seen, values, loose, sizes = {}, set(), [], [], {}
    queue = []
    func = getattr(fn, "__func__", fn)
    if hasattr(fn, "__self__") and not isinstance(fn.__self__, types.ModuleType):
        queue.append((fn.__self__, (("self",),), True, None))
    if not isinstance(func, types.FunctionType) and callable(func):
        queue.append((func, (("self",),), True, None))  # a callable object (an nn.Module)
        func = None
    if func is not None:
        for i, cell in enumerate(func.__closure__ or ()):
            try:
                queue.append((cell.cell_contents, (("cell", i),), True, None))
            except ValueError:
                pass
        g = func.__globals__
        for name in sorted(_code_names(func.__code__, set())):
            if name in g:
                queue.append((g[name], (("glob", name),), True, None))
        for i, d in enumerate(func.__defaults__ or ()):  # def step(x, w=w): w is captured
            queue.append((d, (("dflt", i),), True, None))
    for i, a in enumerate(flat_args):
        queue.append((a, (("arg", i),), False, None))  # argument values are in the signature
    head = 0
    while head < len(queue) and len(seen) < limit:
        obj, path, guard, parent = queue[head]  # guard: True, False (an argument's), or owner
        head += 1
        if isinstance(obj, _SCALARS):
            nan = obj != obj  # (nan != nan: no guard)
            if guard is True and len(values) < MAX_VALUE_GUARDS and not nan:
                values.append((path, obj))
            elif guard is not True and guard is not False and not nan:
                loose.append((path, obj, guard, parent, path[-1]))
            continue
        if id(obj) in seen or len(path) > 6:
            continue
        seen.add(id(obj))
        if isinstance(obj, (Tensor, np.ndarray) + owners):
            found.setdefault(id(obj), (obj, path))
            if not isinstance(obj, owners):
                continue
            if guard is not False:
                guard = obj
        if isinstance(obj, types.FunctionType):  # a function it calls: what that reaches
            for i, cell in enumerate(obj.__closure__ or ()):
                try:
                    queue.append((cell.cell_contents, path + (("fcell", i),), guard, obj))
                except ValueError:
                    pass
            g = obj.__globals__
            queue.extend((g[n], path + (("fglob", n),), guard, obj)
                         for n in sorted(_code_names(obj.__code__, set())) if n in g)
            continue
        if isinstance(obj, types.MethodType):
            queue.append((obj.__self__, path + (("attr", "__self__"),), guard, obj))
            queue.append((obj.__func__, path + (("attr", "__func__"),), guard, obj))
            continue
        if getattr(type(obj), "_tg_compiled", False):  # (its programs: no; what it calls: yes,
            # as it runs eagerly inside this function's trace)
            queue.append((obj.fn, path + (("attr", "fn"),), guard, parent))
            continue
        if isinstance(obj, (bytes, type, types.ModuleType, types.BuiltinFunctionType)):
            continue
        if isinstance(obj, (list, dict)) and guard is True:
            sizes[path] = len(obj)
        if isinstance(obj, (list, tuple)):
            queue.extend((x, path + (("item", i),), guard, obj) for i, x in enumerate(obj))
        elif isinstance(obj, dict):
            queue.extend((x, path + (("item", k),), guard, obj) for k, x in obj.items()
                         if isinstance(k, (str, int)))
        elif hasattr(obj, "__dict__"):
            queue.extend((x, path + (("attr", k),), guard, obj)
                         for k, x in vars(obj).items())
    return found, values, loose, sizes


def size_guards(tr, paths):
    """The lists and dicts on the way to ``paths`` (what the program uses), and the hook dicts
    of the modules there, with their lengths: one that grows between calls may hold what the
    function would now use (a layer appended to a ModuleList, a tensor to a list it loops over,
    a forward hook), which the identity guards do not see. A container the function itself
    changed in length (a log it appends to) is not guarded."""
    from ..nn.module import _HOOK_DICTS, Module

    prefixes = {p[:k] for p in paths for k in range(1, len(p))}
    for prefix in list(prefixes):  # a module's hooks, registered later, would change its calls
        if isinstance(walk_or(tr, prefix), Module):
            prefixes.update(prefix + (("attr", name),) for name in _HOOK_DICTS)
    out = []
    for prefix in sorted(prefixes, key=len):
        n = tr.sizes.get(prefix)
        obj = None if n is None else walk_or(tr, prefix)
        if obj is not None and len(obj) == n:
            out.append((prefix, n))
    return out


def walk_or(tr, path, gone=None):
    """``walk`` from the traced function and its arguments; ``gone`` where the path no longer
    leads anywhere."""
    try:
        return walk(tr.fn, tr.args, path)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        return gone


def _SCHEDULERS():
    from ..optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

    return (LRScheduler, ReduceLROnPlateau)


def walk(fn, leaves, path):
    """The object at ``path`` (see ``reachable``) from ``fn`` and its flattened arguments."""
    obj = None
    for step in path:
        kind = step[0]
        if kind == "cell":
            obj = getattr(fn, "__func__", fn).__closure__[step[1]].cell_contents
        elif kind == "glob":
            obj = getattr(fn, "__func__", fn).__globals__[step[1]]
        elif kind == "dflt":
            obj = getattr(fn, "__func__", fn).__defaults__[step[1]]
        elif kind == "self":
            obj = getattr(fn, "__self__", fn)
        elif kind == "arg":
            obj = leaves[step[1]]
        elif kind == "item":
            obj = obj[step[1]]
        elif kind == "fcell":
            obj = obj.__closure__[step[1]].cell_contents
        elif kind == "fglob":
            obj = obj.__globals__[step[1]]
        else:
            obj = getattr(obj, step[1])
    return obj


def describe(fn, path):
    """``path`` as the user wrote it, for messages: ``model.acts``, ``log`` (a global or a
    closure variable), ``log (a variable of <lambda>)`` below a function met on the way."""
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    s = ""
    for k, step in enumerate(path):
        kind, at = step[0], step[1] if len(step) > 1 else None
        if kind == "cell" and code is not None:
            s = code.co_freevars[at]
        elif kind in ("glob", "fglob"):
            s = at if kind == "glob" else f"{at} (a global of {_owner(fn, path[:k])})"
        elif kind == "fcell":
            f = _walk_or(fn, path[:k])
            name = f.__code__.co_freevars[at] if hasattr(f, "__code__") else "a variable"
            s = f"{name} (a variable of {_owner(fn, path[:k])})"
        elif kind in ("self", "dflt", "arg"):
            s = {"self": "self", "dflt": "a default argument"}.get(kind, f"argument {at}")
        elif kind == "item":
            s += f"[{at!r}]"
        else:
            s += f".{at}"
    return s


def _walk_or(fn, path):
    try:
        return walk(fn, (), path)
    except Exception:  # noqa: BLE001  (an argument's path: not followed here)
        return None


def _owner(fn, path):
    f = _walk_or(fn, path)
    return getattr(f, "__qualname__", "a function")
