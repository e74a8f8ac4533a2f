"""In-place changes of captured tensors inside grad-type transforms (``grad``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ``linearize``): PyTorch's error.

torch.func refuses an in-place op, inside the function it transforms, on a tensor that the
function did not get as an argument nor make itself (a closure's, a global's, a module's
buffer, a view or ``detach()`` of one): the transform could not see the change, so the
results would silently be wrong. Here the transforms run the function inside ``watching``,
which installs ``ops.inplace.capture_check`` while any such function runs (None otherwise: an
in-place op pays one global test); the check finds what the function reaches (its closure
cells, defaults, bound object and the globals it names, through containers, objects and the
functions met on the way), once per call and only when an in-place op happens, and raises for
a tensor among them that was not recorded since the function started.
"""

import sys
import threading
import types

import numpy as np

from ..ops import inplace as _inplace
from ..tape import _local as _tape_local
from ..tensor import Tensor

_tensor = sys.modules[Tensor.__module__]  # (the package's ``tensor`` is the function)

MESSAGE = ("During a grad (vjp, jvp, grad, etc) transform, the function provided attempted to "
           "call in-place operation ({}) that would mutate a captured Tensor. This is not "
           "supported; please rewrite the function being transformed to explicitly accept the "
           "mutated Tensor(s) as inputs.")

_LIMIT = 20000  # objects visited per call at most (a model's parameters are a few hundred)


class _Frames(threading.local):
    def __init__(self):
        self.stack = []


_frames = _Frames()
_lock = threading.Lock()
_running = [0]  # watched functions running, all threads together


class _Frame:
    __slots__ = ("func", "args", "start", "depth", "parent", "ids", "vcs", "own")

    def __init__(self, func, args, depth, parent):
        seg = _tape_local.seg
        self.func, self.args, self.depth, self.parent = func, args, depth, parent
        self.ids = self.vcs = self.own = None
        # records from here on are the function's own: (segment order, first record id)
        self.start = (seg.order, seg.n) if seg is not None else (0, 0)


class watching:
    """``with watching(func, args):`` around the call ``func(*args)`` of the function a
    transform differentiates."""

    __slots__ = ("frame",)

    def __init__(self, func, args):
        stack = _frames.stack
        self.frame = _Frame(func, args, _depth().n, stack[-1] if stack else None)

    def __enter__(self):
        _frames.stack.append(self.frame)
        with _lock:
            _running[0] += 1
            _inplace.capture_check, _tensor.born_in = check, born_in

    def __exit__(self, *exc):
        _frames.stack.pop()
        f = self.frame  # (tensors made inside keep it as their tag: not what it read)
        f.func = f.args = f.ids = f.vcs = f.own = None
        with _lock:
            _running[0] -= 1
            if not _running[0]:
                _inplace.capture_check = _tensor.born_in = None


def _depth():
    from .transforms import _depth as depth  # (transforms imports this module)

    global _depth
    _depth = lambda: depth  # noqa: E731
    return depth


def born_in():
    """The innermost transform call running on this thread (tensor._make tags what it makes)."""
    stack = _frames.stack
    return stack[-1] if stack else None


def check(x, fn=None, operands=(), name=None):
    """Raise PyTorch's error when ``x``, about to change in place, is captured by the function
    the innermost running transform differentiates (``fn``/``operands``/``name``: the op)."""
    stack = _frames.stack
    if not stack:
        return  # (another thread's transform)
    frame = stack[-1]
    from .function_vmap import _lowered

    if _lowered.depth >= frame.depth:  # (a custom Function's forward: transforms lowered)
        return
    if frame.ids is None:  # (tensors made inside and stored where it reaches are its own)
        frame.ids = {i: t for i, t in _reachable(frame.func).items()
                     if not _made_inside(t, frame)}
        # (each gets its storage's counter now, which a detach() made later shares: one set
        # for the call, not one re-read per in-place op)
        frame.vcs = {id(t._vcounter()) for t in frame.ids.values()}
        frame.own = _own((frame.args, getattr(frame.func, "own_args", ())))
    ids, base, vc, own = frame.ids, x._base, x._vc, frame.own
    if id(x) in own or base is not None and id(base) in own or vc is not None and id(vc) in own:
        return  # an argument (the transform's input, a buffer passed in), a view of one
    if id(x) in ids or base is not None and id(base) in ids or (
            vc is not None and id(vc) in frame.vcs):
        if getattr(fn, "__name__", None) in ("<lambda>", "_overwrite"):
            name = _caller(fn)
        raise RuntimeError(MESSAGE.format(_op_name(fn, operands, name)))


def _caller(fn):
    """The in-place op whose body ``fn`` is (add_, clamp_, copy_, fill_, zero_: the frames
    above ``check`` are inplace.apply's, then the op's)."""
    name = sys._getframe(3).f_code.co_name
    if name == "fill_" and sys._getframe(4).f_code.co_name == "zero_":
        return "zero_"
    return name


def _own(args):
    """ids of the argument tensors and of their storages' version counters: the function's
    own (a transform gives it its inputs as tensors sharing the caller's memory)."""
    from .pytree import tree_flatten

    ts = [t for t in tree_flatten(list(args))[0] if isinstance(t, Tensor)]
    return {id(t) for t in ts} | {id(t._vc) for t in ts if t._vc is not None}


def _made_inside(t, frame):
    """Whether the function of ``frame`` (or a transform inside it) made ``t``: recorded
    since it started, or made without history while it ran."""
    seg = t._seg
    if seg is not None:
        start = frame.start
        return seg.order > start[0] or seg.order == start[0] and t._rec >= start[1]
    f = t._born
    while f is not None:
        if f is frame:
            return True
        f = f.parent
    return False


def _op_name(fn, operands, name):
    if name is None:
        name = getattr(fn, "__name__", "copy").strip("_") + "_"
    suffix = {"add_": ".Tensor", "sub_": ".Tensor", "mul_": ".Tensor", "div_": ".Tensor",
              "fill_": ".Scalar", "bernoulli_": ".float"}.get(name, "")
    last = isinstance(operands[-1], Tensor) if operands else False  # (value/weight/src)
    if name in ("pow_", "masked_fill_", "lerp_"):
        suffix = ".Tensor" if last else ".Scalar"
    elif name == "scatter_":
        suffix = ".src" if last else ".value"
    return f"aten::{name}{suffix}"


def code_names(code, out):
    """The global and attribute names ``code`` and the functions defined in it use, into
    ``out`` (what a function may read from its globals)."""
    out.update(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            code_names(c, out)
    return out


def _roots(fn):
    func = getattr(fn, "__func__", fn)
    if hasattr(fn, "__self__") and not isinstance(fn.__self__, types.ModuleType):
        yield fn.__self__
    if not isinstance(func, types.FunctionType):
        if callable(func):
            yield func  # (a callable object: an nn.Module)
        return
    yield func


def _reachable(fn):
    """``{id: tensor}`` of the tensors ``fn`` reaches (see the module's docstring)."""
    found, seen = {}, set()
    queue = [(r, 0) for r in _roots(fn)]
    head = 0
    while head < len(queue) and len(seen) < _LIMIT:
        obj, depth = queue[head]
        head += 1
        if id(obj) in seen or depth > 6:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            found[id(obj)] = obj
            continue
        if isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                try:
                    queue.append((cell.cell_contents, depth + 1))
                except ValueError:  # (an empty cell)
                    pass
            g = obj.__globals__
            queue.extend((g[n], depth + 1) for n in code_names(obj.__code__, set()) if n in g)
            queue.extend((d, depth + 1) for d in obj.__defaults__ or ())
            queue.extend((d, depth + 1) for d in (obj.__kwdefaults__ or {}).values())
            continue
        if isinstance(obj, types.MethodType):
            queue.extend(((obj.__self__, depth + 1), (obj.__func__, depth + 1)))
            continue
        if isinstance(obj, (str, bytes, int, float, complex, type, types.ModuleType,
                            types.BuiltinFunctionType, np.ndarray, np.generic)) or obj is None:
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            queue.extend((o, depth + 1) for o in obj)
        elif isinstance(obj, dict):
            queue.extend((o, depth + 1) for o in obj.values())
        elif hasattr(obj, "__dict__"):
            queue.extend((o, depth + 1) for o in vars(obj).values())
    return found
